import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../../ports/store.js';
import { TurnBatch } from '../../turn-batch.js';
import { CheckpointFlag, type CheckpointSettings } from './checkpoint-flags.js';
import type { WriterMethod, WriterSide } from './routes.js';
import type { SqliteStoreOptions } from './options.js';
import type { RepliesMessage, WireBatch, WireResults, WriterReply, WriterRequest } from './writer-protocol.js';
import type { LogNews } from './writes.js';

/** A worker script: beside this file when built; the build output when run from sources. */
export function workerScript(name: string): URL | undefined {
  for (const candidate of [`./${name}`, `../../../dist/adapters/sqlite/${name}`]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Longest message commits wait out a RESTART checkpoint before going ahead anyway. */
const RESTART_WAIT_MAX_MS = 2000;

/**
 * Runs the checkpoints on another thread (PASSIVE, RESTART past a size: checkpoint-worker.ts); the
 * store's connection then never checkpoints. The two threads share CheckpointFlags so that a
 * RESTART and a message commit take turns without either sleeping in SQLite's busy handler,
 * whose sleeps grow 1, 2, 5, 10 ms... and put 20 ms pauses into every RESTART.
 */
export class SqliteCheckpointThread {
  private constructor(
    private readonly worker: Worker,
    private readonly flags: Int32Array,
  ) {}

  static start(settings: Omit<CheckpointSettings, 'flags'>): SqliteCheckpointThread | undefined {
    const script = workerScript('checkpoint-worker.js');
    if (script === undefined) return undefined;
    const flags = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    const worker = new Worker(script, { workerData: { ...settings, flags } satisfies CheckpointSettings });
    worker.unref();
    return new SqliteCheckpointThread(worker, flags);
  }

  /**
   * Call before a message commit: resolves once no RESTART runs (waiting between event-loop
   * turns), with the commit marked as under way so that a RESTART waits for it in turn.
   * Bounded: a checkpoint thread that died mid-RESTART must not hold messages forever.
   */
  async beginCommit(): Promise<void> {
    const deadline = performance.now() + RESTART_WAIT_MAX_MS;
    for (;;) {
      Atomics.store(this.flags, CheckpointFlag.Committing, 1);
      if (Atomics.load(this.flags, CheckpointFlag.Restarting) === 0 || performance.now() >= deadline) return;
      this.endCommit();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  endCommit(): void {
    Atomics.store(this.flags, CheckpointFlag.Committing, 0);
    Atomics.notify(this.flags, CheckpointFlag.Committing);
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

interface Call {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The writer thread seen from the caller's side: one promise per posted call. */
export class SqliteWriterThread {
  readonly #calls = new Map<number, Call>();
  /** Calls not yet posted, with the buffers they transfer (see #post). */
  readonly #outbox = new TurnBatch<[WriterRequest, ArrayBuffer[]]>((calls) =>
    this.worker.postMessage(
      calls.map(([request]) => request),
      calls.flatMap(([, transfer]) => transfer),
    ),
  );
  #nextId = 1;
  #stopped: StoreError | undefined;
  #closing = false;

  private constructor(
    private readonly worker: Worker,
    onLost: (reason: string) => void,
    onLogNews: (news: LogNews) => void,
  ) {
    worker.on('message', (message: WriterReply | RepliesMessage) => {
      if (!('replies' in message)) return; // the start-up message
      onLogNews(message);
      for (const reply of message.replies) {
        const call = this.#calls.get(reply.id);
        if (call === undefined) continue;
        this.#settled(reply.id);
        if ('error' in reply) {
          const { kind, message } = reply.error;
          call.reject(kind === undefined ? new Error(message) : new StoreError(kind, message));
        } else {
          call.resolve(reply.value);
        }
      }
    });
    const lost = (reason: string) => {
      this.#stop(reason);
      if (!this.#closing) onLost(reason);
    };
    worker.on('error', (error) => lost(`the SQLite writer thread failed: ${error.message}`));
    worker.on('exit', () => lost('the SQLite writer thread stopped'));
    // Idle, the thread must not keep the process alive; a call in flight must (see #settled).
    worker.unref();
  }

  /** `onLogNews` gets the update log's news of each reply message before its replies resolve. */
  static async start(
    options: SqliteStoreOptions,
    onLost: (reason: string) => void,
    onLogNews: (news: LogNews) => void,
  ): Promise<SqliteWriterThread> {
    const script = workerScript('writer-worker.js');
    if (script === undefined) throw new Error('writer-worker.js is missing: build the server first (npm run build)');
    const worker = new Worker(script, { workerData: options });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (reply: WriterReply) =>
        'failed' in reply ? reject(new Error(`could not open the SQLite store: ${reply.failed}`)) : resolve(),
      );
      worker.once('error', reject);
    });
    return new SqliteWriterThread(worker, onLost, onLogNews);
  }

  /**
   * Runs a writer method on the writer thread. Its arguments and result cross by structured
   * clone, so the result is the method's own (writer-worker.ts runs exactly that method).
   */
  call<K extends Exclude<WriterMethod, 'appendMessages'>>(
    method: K,
    args: Parameters<WriterSide[K]>,
  ): Promise<Awaited<ReturnType<WriterSide[K]>>> {
    return this.#post(method, args) as Promise<Awaited<ReturnType<WriterSide[K]>>>;
  }

  /** appendMessages in its compact form; the buffers in `transfer` move to the writer thread. */
  callAppendMessages(wire: WireBatch, transfer: ArrayBuffer[]): Promise<WireResults> {
    return this.#post('appendMessages', [wire], transfer, true) as Promise<WireResults>;
  }

  /**
   * Posts a call. Calls made during one turn of the event loop cross together, in order, in one
   * message at the turn's end (setImmediate): each message costs both threads a wake-up and a
   * clone, and in a reconnect storm thousands of hellos each read their log head in one turn.
   * `now` sends at once (with whatever is queued before it), for a call that is already a
   * batch: a message commit does not wait for the turn to end.
   */
  #post(method: WriterRequest['method'], args: unknown[], transfer: ArrayBuffer[] = [], now = false): Promise<unknown> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    if (this.#calls.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#outbox.add([{ id, method, args }, transfer]);
      if (now) this.#outbox.flush();
    });
  }

  #settled(id: number): void {
    this.#calls.delete(id);
    if (this.#calls.size === 0) this.worker.unref();
  }

  #stop(reason: string): void {
    this.#stopped ??= new StoreError('unavailable', reason);
    for (const [id, call] of this.#calls) {
      this.#settled(id);
      call.reject(this.#stopped);
    }
  }

  async close(): Promise<void> {
    if (this.#stopped !== undefined) return;
    this.#closing = true;
    await this.#post('close', []);
    this.#stopped = new StoreError('unavailable', 'the store is closed');
    await this.worker.terminate();
  }
}
