/**
 * The SQLite write paths that run both in the store's own thread and in the writer thread:
 * opening a connection, the statement cache, update-log appends and message appends. Each
 * function expects to run inside the caller's transaction.
 */
import Database from 'better-sqlite3';
import type { AppendResult, LogAppend, LogEntry, NewMessage } from '../../ports/store.js';
import { storedMessage, toMessage, type MessageRow } from '../sql-rows.js';

export const MESSAGE_COLUMNS = `CAST(id AS TEXT) AS id, CAST(channel_id AS TEXT) AS channel_id, CAST(sender_id AS TEXT) AS sender_id, text, created_at, client_msg_id`;

/**
 * WAL with synchronous=FULL: a committed transaction survives a crash of the process or of the
 * machine. busy_timeout lets the store's thread and the writer thread take turns writing.
 */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Prepared statements, cached by their SQL text. */
export class Statements {
  readonly #cache = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  sql(text: string): Database.Statement {
    let statement = this.#cache.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.#cache.set(text, statement);
    }
    return statement;
  }
}

export function memberIds(s: Statements, channelId: string): string[] {
  return (
    s.sql(`SELECT CAST(user_id AS TEXT) AS id FROM channel_members WHERE channel_id = ?`).all(channelId) as {
      id: string;
    }[]
  ).map((row) => row.id);
}

/**
 * One entry per user, each with that user's next seq (SQLite has one writer: gap-free). The head
 * is the user's newest entry, read from the page the new entry then goes into: no separate
 * counter row to update, which cuts the pages a commit writes (trimming keeps each user's
 * newest entry, so the head never goes back).
 */
export function appendLog(s: Statements, append: LogAppend, at: string): LogEntry[] {
  const entries: LogEntry[] = [];
  const data = append.data === undefined ? null : JSON.stringify(append.data);
  for (const userId of append.userIds) {
    const { head } = s.sql(`SELECT COALESCE(MAX(seq), 0) AS head FROM user_log WHERE user_id = ?`).get(userId) as {
      head: number;
    };
    const seq = head + 1;
    s.sql(
      `INSERT INTO user_log (user_id, seq, type, channel_id, message_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(userId, seq, append.type, append.channelId ?? null, append.messageId ?? null, data, at);
    const entry: LogEntry = { userId, seq, type: append.type, createdAt: at };
    if (append.channelId !== undefined) entry.channelId = append.channelId;
    if (append.messageId !== undefined) entry.messageId = append.messageId;
    if (append.data !== undefined) entry.data = append.data;
    entries.push(entry);
  }
  return entries;
}

/** Stores one message and its members' log entries, or reports a duplicate or a non-member. */
export function appendMessage(s: Statements, input: NewMessage): AppendResult {
  // The idempotency key is claimed first: a repeat finds it taken and returns the original.
  const claimed = s
    .sql(`INSERT OR IGNORE INTO client_msg_ids (sender_id, client_msg_id, message_id) VALUES (?, ?, ?)`)
    .run(input.senderId, input.clientMsgId, input.id);
  if (claimed.changes === 0) {
    const row = s
      .sql(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id =
           (SELECT message_id FROM client_msg_ids WHERE sender_id = ? AND client_msg_id = ?)`,
      )
      .get(input.senderId, input.clientMsgId) as MessageRow;
    return { status: 'duplicate', message: toMessage(row) };
  }
  const members = memberIds(s, input.channelId);
  if (!members.includes(input.senderId)) {
    s.sql(`DELETE FROM client_msg_ids WHERE sender_id = ? AND client_msg_id = ?`).run(
      input.senderId,
      input.clientMsgId,
    );
    return { status: 'not_member' };
  }
  s.sql(
    `INSERT INTO messages (id, channel_id, sender_id, text, created_at, client_msg_id) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(input.id, input.channelId, input.senderId, input.text, input.createdAt, input.clientMsgId);
  const entries = appendLog(
    s,
    { userIds: members, type: 'message.created', channelId: input.channelId, messageId: input.id },
    input.createdAt,
  );
  return { status: 'created', message: storedMessage(input), entries };
}

/** A batch in one IMMEDIATE transaction (group commit). */
export function appendMessages(s: Statements, batch: readonly NewMessage[]): AppendResult[] {
  return s.db.transaction(() => batch.map((message) => appendMessage(s, message))).immediate();
}
