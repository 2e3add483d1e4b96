/**
 * The embedded store on the caller's thread: one writer (writer.ts) and its own reads, for
 * ':memory:' (one connection's private database, which cannot be shared with another thread)
 * and for tests that look at the writer's work directly. A server opens a file through
 * openSqliteStore (threaded-store.ts) instead.
 */
import type { Store } from '../../ports/store.js';
import { routeStore } from './routes.js';
import type { SqliteStoreOptions } from './options.js';
import { SqliteWriter } from './writer.js';

export type { SqliteStoreOptions } from './options.js';

export function openSqliteStoreHere(options: SqliteStoreOptions): Store {
  const writer = new SqliteWriter(options);
  return routeStore(writer, writer.reads, () => writer.close());
}
