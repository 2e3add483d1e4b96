/**
 * The embedded store as a server runs it: every write (and the update log's reads, see
 * pending-log.ts) on a thread of its own, other reads on the caller's thread.
 *
 * Why: a message's durable commit costs the thread that runs it about 40% of that message's
 * whole server-side work (statements, COMMIT, pragmas; docs/benchmarks.md), and on the event
 * loop that time is taken from every socket. On the writer thread it overlaps with the event
 * loop's parsing, fan-out and socket writes instead. One thread does all writes, so SQLite still
 * has exactly one writer and the writer's caches (log heads, member lists, the pending log) stay
 * exact; other reads (history, lookups) take WAL snapshots on a read-only connection here,
 * without a hop, and see every write whose promise has resolved, since the writer replies only
 * after its commit.
 */
import type { Store } from '../../ports/store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { SqliteWriterThread } from './threads.js';
import { WRITER_METHODS, decodeResults, encodeBatch, type WireResults, type WriterMethod } from './writer-protocol.js';

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
  for (const name of WRITER_METHODS) store[name] = (...args: unknown[]) => writer.call(name, args);
  const appendMessages: Store['appendMessages'] = async (batch) => {
    const { wire, transfer } = encodeBatch(batch);
    const results = await writer.call('appendMessages' satisfies WriterMethod, [wire], transfer);
    return decodeResults(results as WireResults, batch);
  };
  const close: Store['close'] = async () => {
    await writer.close();
    await reader.close();
  };
  return Object.assign(store, { appendMessages, close }) as unknown as Store;
}
