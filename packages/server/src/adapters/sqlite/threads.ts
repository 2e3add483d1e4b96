import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StoreError, type AppendResult, type NewMessage } from '../../ports/store.js';
import type { WriterRequest } from './writer-worker.js';

type Reply = { id: number; results: AppendResult[] } | { id: number; error: string };

/** A worker script: beside this file when built; the build output when run from sources. */
export function workerScript(name: string): URL | undefined {
  for (const candidate of [`./${name}`, `../../../dist/adapters/sqlite/${name}`]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Runs PASSIVE checkpoints on another thread; the store's connections then never checkpoint. */
export class SqliteCheckpointThread {
  private constructor(private readonly worker: Worker) {}

  static start(path: string, intervalMs = 250): SqliteCheckpointThread | undefined {
    const script = workerScript('checkpoint-worker.js');
    if (script === undefined) return undefined;
    const worker = new Worker(script, { workerData: { path, intervalMs } });
    worker.unref();
    return new SqliteCheckpointThread(worker);
  }

  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await this.worker.terminate();
  }
}

/** Sends message batches to the writer thread; restarts it if it dies. */
export class SqliteWriterThread {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, { resolve: (r: AppendResult[]) => void; reject: (e: Error) => void }>();
  #nextId = 0;

  private constructor(
    private readonly path: string,
    private readonly script: URL,
    private readonly checkpointsElsewhere: boolean,
  ) {}

  /** undefined when no built worker script exists (the caller then writes in its own thread). */
  static create(path: string, checkpointsElsewhere: boolean): SqliteWriterThread | undefined {
    const script = workerScript('writer-worker.js');
    return script === undefined ? undefined : new SqliteWriterThread(path, script, checkpointsElsewhere);
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(this.script, {
      workerData: { path: this.path, checkpointsElsewhere: this.checkpointsElsewhere },
    });
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if ('error' in reply) pending.reject(new StoreError('unavailable', reply.error));
      else pending.resolve(reply.results);
    });
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const pending of this.#pending.values()) {
        pending.reject(new StoreError('unavailable', `writer thread stopped: ${error.message}`, { cause: error }));
      }
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  append(batch: readonly NewMessage[]): Promise<AppendResult[]> {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const request: WriterRequest = { id, batch: [...batch] };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
