/**
 * The administration tool's access to an embedded store (`npm run admin`), safe while a server
 * has the database open: it writes only users and devices (accounts-sql.ts), through a
 * connection of its own that waits for the server's writer (busy_timeout), and never runs the
 * writer's crash recovery. The database must already be at this version's schema (started once).
 */
import type { AccountStore } from '../../ports/store.js';
import { applyAccountChange, insertUser } from './accounts-sql.js';
import { openDatabase, SqliteConnection } from './connection.js';
import { LongTexts } from './long-texts.js';
import { SqliteReader } from './reader.js';
import { migrations } from './schema.js';

export type AccountsAdminStore = Pick<
  AccountStore,
  'createUser' | 'findUserByUsername' | 'changeAccount' | 'listAccounts'
> & { close(): Promise<void> };

export function openSqliteAccountsAdmin(path: string): AccountsAdminStore {
  const db = openDatabase(path);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== migrations.length) {
    db.close();
    throw new Error(
      `the database at ${path} is at schema version ${version}, this program expects ${migrations.length}: ` +
        'start the server of this version once first',
    );
  }
  const longTexts = new LongTexts(path, false);
  const connection = new SqliteConnection(db, longTexts);
  const reader = new SqliteReader(connection);
  const tx = <T>(work: () => T): T => db.transaction(work).immediate();
  return {
    createUser: async (user) => tx(() => insertUser(connection, user)),
    changeAccount: async (change) => tx(() => applyAccountChange(connection, change)),
    findUserByUsername: (username) => reader.findUserByUsername(username),
    listAccounts: (page) => reader.listAccounts(page),
    close: async () => {
      db.close();
      longTexts.close();
    },
  };
}
