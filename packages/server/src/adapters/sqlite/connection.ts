/**
 * One connection to the database and what any connection may remember: its prepared statements.
 * The leaf of this folder's modules: the reader, the writer's session and the written-behind
 * indexes (pending log, idempotency keys, marks) all stand on it, and it on none of them.
 */
import Database from 'better-sqlite3';
import type { Message } from '@parley/protocol';
import { toMessage, type MessageRow } from '../sql-rows.js';
import type { LongTexts } from './long-texts.js';

/** Binds a list of ids as one JSON array parameter. */
export const JSON_IDS = `(SELECT CAST(value AS INTEGER) FROM json_each(?))`;

export const MESSAGE_COLUMNS = `CAST(id AS TEXT) AS id, CAST(channel_id AS TEXT) AS channel_id, CAST(sender_id AS TEXT) AS sender_id, text, created_at, client_msg_id, text_at, text_bytes, edited_at, deleted_at, CAST(reply_to_id AS TEXT) AS reply_to_id, CAST(reply_to_sender_id AS TEXT) AS reply_to_sender_id, mentions`;

/** A messages row as MESSAGE_COLUMNS reads it: a long text is in the file (long-texts.ts). */
export interface SqliteMessageRow extends MessageRow {
  text_at: number | null;
  text_bytes: number | null;
}

/**
 * WAL with synchronous=FULL: a committed transaction survives a crash of the process or of the
 * machine (message batches get the same guarantee another way, see wal-sync.ts). busy_timeout
 * lets the checkpoint thread take its turns.
 */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * A connection with its prepared statements by SQL text (harmless to remember anywhere: a
 * statement holds no data) and the long-text file its rows may point into. It remembers nothing
 * of the data; what the writer may remember is in its session (writes.ts).
 */
export class SqliteConnection {
  readonly #statements = new Map<string, Database.Statement>();

  constructor(
    readonly db: Database.Database,
    /** The long-text file; undefined for ':memory:', whose texts all stay in their rows. */
    readonly longTexts: LongTexts | undefined,
  ) {}

  sql(text: string): Database.Statement {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** The message a row holds, its text read from the long-text file if it is there. */
  toMessage(row: SqliteMessageRow): Message {
    if (row.text_at !== null && row.text_bytes !== null) {
      row.text = this.longTexts!.read({ at: row.text_at, bytes: row.text_bytes });
    }
    return toMessage(row);
  }

  /**
   * Messages from `rows` in their order until their texts (UTF-8 bytes) reach `maxTextBytes`,
   * at least one. A long text is read from its file only once its row is taken.
   */
  readMessagesWithin(
    rows: Iterable<SqliteMessageRow>,
    maxTextBytes: number,
  ): { messages: Message[]; textBytes: number } {
    const messages: Message[] = [];
    let textBytes = 0;
    for (const row of rows) {
      textBytes += row.text_bytes ?? Buffer.byteLength(row.text);
      messages.push(this.toMessage(row));
      if (textBytes >= maxTextBytes) break;
    }
    return { messages, textBytes };
  }

  /** Whether either user blocked the other. */
  blockedEitherWay(a: string, b: string): boolean {
    return (
      this.sql(
        `SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?
         UNION ALL SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ? LIMIT 1`,
      ).get(a, b, b, a) !== undefined
    );
  }

  /** Uncached: the channel's member ids as stored now. */
  memberIds(channelId: string): string[] {
    return (
      this.sql(`SELECT CAST(user_id AS TEXT) AS id FROM channel_members WHERE channel_id = ?`).all(channelId) as {
        id: string;
      }[]
    ).map((row) => row.id);
  }
}
