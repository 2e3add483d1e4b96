import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StoreError, type AppendResult, type NewMessage } from '../../ports/store.js';
import type { WriterRequest } from './writer-worker.js';

type Reply = { id: number; results: AppendResult[] } | { id: number; error: string };

/** The writer thread's script: beside this file when built; the build output when run from sources. */
function workerScript(): URL | undefined {
  for (const candidate of ['./writer-worker.js', '../../../dist/adapters/sqlite/writer-worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Sends message batches to the writer thread; restarts it if it dies. */
export class SqliteWriterThread {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, { resolve: (r: AppendResult[]) => void; reject: (e: Error) => void }>();
  #nextId = 0;

  private constructor(
    private readonly path: string,
    private readonly script: URL,
  ) {}

  /** undefined when no built worker script exists (the caller then writes in its own thread). */
  static create(path: string): SqliteWriterThread | undefined {
    const script = workerScript();
    return script === undefined ? undefined : new SqliteWriterThread(path, script);
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(this.script, { workerData: { path: this.path } });
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
