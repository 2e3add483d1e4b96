/**
 * The embedded store as a server runs it: every write on a thread of its own, reads on the
 * caller's thread.
 *
 * Why: a message's durable commit costs the thread that runs it about 40% of that message's
 * whole server-side work (statements, COMMIT, pragmas; docs/benchmarks.md), and on the event
 * loop that time is taken from every socket. On the writer thread it overlaps with the event
 * loop's parsing, fan-out and socket writes instead. One thread does all writes, so SQLite still
 * has exactly one writer and the writer's caches (log heads, member lists) stay exact; reads
 * (history, sync, lookups) take WAL snapshots on a read-only connection here, without a hop,
 * and see every write whose promise has resolved, since the writer replies only after its commit.
 */
import { Worker } from 'node:worker_threads';
import { StoreError, type Store } from '../../ports/store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { workerScript } from './threads.js';
import {
  WRITE_METHODS,
  decodeResults,
  encodeBatch,
  type WireResults,
  type WriteMethod,
  type WriterReply,
  type WriterRequest,
} from './writer-protocol.js';

interface Call {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The writer thread seen from the caller's side: one promise per posted call. */
class SqliteWriterThread {
  readonly #calls = new Map<number, Call>();
  #nextId = 1;
  #stopped: StoreError | undefined;
  #closing = false;

  private constructor(
    private readonly worker: Worker,
    onLost: (reason: string) => void,
  ) {
    worker.on('message', (reply: WriterReply) => {
      if (!('id' in reply)) return;
      const call = this.#calls.get(reply.id);
      if (call === undefined) return;
      this.#settled(reply.id);
      if ('error' in reply) {
        const { kind, message } = reply.error;
        call.reject(kind === undefined ? new Error(message) : new StoreError(kind, message));
      } else {
        call.resolve(reply.value);
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

  static async start(options: SqliteStoreOptions, onLost: (reason: string) => void): Promise<SqliteWriterThread> {
    const script = workerScript('writer-worker.js');
    if (script === undefined) throw new Error('writer-worker.js is missing: build the server first (npm run build)');
    const worker = new Worker(script, { workerData: options });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (reply: WriterReply) =>
        'failed' in reply ? reject(new Error(`could not open the SQLite store: ${reply.failed}`)) : resolve(),
      );
      worker.once('error', reject);
    });
    return new SqliteWriterThread(worker, onLost);
  }

  call(method: WriterRequest['method'], args: unknown[]): Promise<unknown> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    if (this.#calls.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args } satisfies WriterRequest);
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
    await this.call('close', []);
    this.#stopped = new StoreError('unavailable', 'the store is closed');
    await this.worker.terminate();
  }
}

/**
 * Opens the embedded store: for a file, writes on the writer thread and reads here; ':memory:'
 * (one connection's private database) cannot be shared and stays on this thread. If the writer
 * thread dies, every write fails with `unavailable` from then on and `onWriterLost` is told, so
 * the server can exit and be restarted rather than serve reads only.
 */
export async function openSqliteStore(
  options: SqliteStoreOptions,
  onWriterLost: (reason: string) => void = () => undefined,
): Promise<Store> {
  if (options.path === ':memory:') return new SqliteStore(options);
  const writer = await SqliteWriterThread.start(options, onWriterLost);
  let reader: SqliteStore;
  try {
    reader = new SqliteStore({ path: options.path, readOnly: true });
  } catch (error) {
    await writer.close();
    throw error;
  }
  const store: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(SqliteStore.prototype)) {
    const method = (reader as unknown as Record<string, unknown>)[name];
    if (name !== 'constructor' && typeof method === 'function') store[name] = method.bind(reader);
  }
  for (const name of WRITE_METHODS) store[name] = (...args: unknown[]) => writer.call(name, args);
  const appendMessages: Store['appendMessages'] = async (batch) => {
    const results = await writer.call('appendMessages' satisfies WriteMethod, [encodeBatch(batch)]);
    return decodeResults(results as WireResults, batch);
  };
  const close: Store['close'] = async () => {
    await writer.close();
    await reader.close();
  };
  return Object.assign(store, { appendMessages, close }) as unknown as Store;
}
