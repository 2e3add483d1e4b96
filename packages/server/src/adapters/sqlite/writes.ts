/**
 * The SQLite write paths: opening a connection, the session that caches statements and what
 * the writes need to know, update-log appends and message appends. The append functions expect
 * to run inside the caller's transaction.
 */
import Database from 'better-sqlite3';
import type { Message } from '@parley/protocol';
import type { AppendResult, LogAppend, LogEntry, NewMessage } from '../../ports/store.js';
import { newLogEntry, storedMessage, toMessage, type MessageRow } from '../sql-rows.js';
import { ClientMsgIdIndex } from './client-msg-ids.js';
import type { AppendedText, LongTexts } from './long-texts.js';
import { PendingLog } from './pending-log.js';
import { writeMark } from './store-meta.js';

/** Binds a list of ids as one JSON array parameter. */
export const JSON_IDS = `(SELECT CAST(value AS INTEGER) FROM json_each(?))`;

export const MESSAGE_COLUMNS = `CAST(id AS TEXT) AS id, CAST(channel_id AS TEXT) AS channel_id, CAST(sender_id AS TEXT) AS sender_id, text, created_at, client_msg_id, text_at, text_bytes`;

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

/** Entries kept in each write cache before it starts over, so memory stays bounded. */
const CACHE_LIMIT = 500_000;

/**
 * The store's connection with what its writes remember: prepared statements by SQL text, each
 * user's log head and each channel's member list. Remembering is sound only on the connection
 * that is the database's only writer (`remembers`); a transaction that fails forgets everything
 * it may have taught. A reader beside that writer keeps statements only.
 */
export class SqliteSession {
  readonly #statements = new Map<string, Database.Statement>();
  readonly #logHeads = new Map<string, number>();
  readonly #channelMembers = new Map<string, string[]>();
  /** Idempotency keys, written behind (client-msg-ids.ts); only the writer uses it. */
  readonly clientMsgIds = new ClientMsgIdIndex(this);
  /** Update-log entries, written behind (pending-log.ts); only the writer uses it. */
  readonly pendingLog: PendingLog;

  constructor(
    readonly db: Database.Database,
    private readonly remembers: boolean,
    /** The long-text file; undefined for ':memory:', whose texts all stay in their rows. */
    readonly longTexts: LongTexts | undefined,
    logMoveAfterMs?: number,
  ) {
    this.pendingLog = new PendingLog(this, logMoveAfterMs);
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

  sql(text: string): Database.Statement {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** Runs work in one IMMEDIATE transaction, which also moves some of the pending log along. */
  transaction<T>(work: () => T): T {
    let result: T;
    this.pendingLog.beginTransaction();
    try {
      result = this.db
        .transaction(() => {
          const value = work();
          this.pendingLog.endTransaction();
          return value;
        })
        .immediate();
    } catch (error) {
      this.#logHeads.clear();
      this.#channelMembers.clear();
      this.clientMsgIds.rolledBack();
      this.pendingLog.rolledBack();
      throw error;
    }
    this.clientMsgIds.committed();
    this.pendingLog.committed();
    return result;
  }

  /** The user's newest seq (0 for an empty log). */
  logHead(userId: string): number {
    return this.#logHeads.get(userId) ?? this.pendingLog.head(userId);
  }

  setLogHead(userId: string, head: number): void {
    if (!this.remembers) return;
    if (this.#logHeads.size >= CACHE_LIMIT) this.#logHeads.clear();
    this.#logHeads.set(userId, head);
  }

  memberIds(channelId: string): string[] {
    const cached = this.#channelMembers.get(channelId);
    if (cached !== undefined) return cached;
    const ids = (
      this.sql(`SELECT CAST(user_id AS TEXT) AS id FROM channel_members WHERE channel_id = ?`).all(channelId) as {
        id: string;
      }[]
    ).map((row) => row.id);
    // An unknown channel is not remembered: its id could still be created.
    if (this.remembers && ids.length > 0) {
      if (this.#channelMembers.size >= CACHE_LIMIT) this.#channelMembers.clear();
      this.#channelMembers.set(channelId, ids);
    }
    return ids;
  }

  /** Call after changing a channel's members. */
  forgetMembers(channelId: string): void {
    this.#channelMembers.delete(channelId);
  }
}

/**
 * One entry per user, each with that user's next seq (one writer: gap-free). Trimming keeps each
 * user's newest entry, so a head never goes back.
 */
export function appendLog(s: SqliteSession, append: LogAppend, at: string): LogEntry[] {
  const entries: LogEntry[] = [];
  const data = append.data === undefined ? null : JSON.stringify(append.data);
  for (const userId of append.userIds) {
    const entry = newLogEntry(userId, s.logHead(userId) + 1, append, at);
    s.setLogHead(userId, entry.seq);
    entries.push(entry);
  }
  s.pendingLog.append(entries, data);
  return entries;
}

/**
 * Stores one message and its members' log entries, or reports a duplicate or a non-member. With
 * a place, the text is already in the long-text file and the row points at it.
 */
export function appendMessage(s: SqliteSession, input: NewMessage, place?: AppendedText): AppendResult {
  const original = s.clientMsgIds.find(input.senderId, input.clientMsgId);
  if (original !== undefined) {
    const row = s.sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(original) as SqliteMessageRow;
    return { status: 'duplicate', message: s.toMessage(row) };
  }
  const members = s.memberIds(input.channelId);
  if (!members.includes(input.senderId)) return { status: 'not_member' };
  s.sql(
    `INSERT INTO messages (id, channel_id, sender_id, text, created_at, client_msg_id, text_at, text_bytes, text_crc)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    input.id,
    input.channelId,
    input.senderId,
    place === undefined ? input.text : '',
    input.createdAt,
    input.clientMsgId,
    place?.at ?? null,
    place?.bytes ?? null,
    place?.crc ?? null,
  );
  s.clientMsgIds.add(input.senderId, input.clientMsgId, input.id);
  const entries = appendLog(
    s,
    { userIds: members, type: 'message.created', channelId: input.channelId, messageId: input.id },
    input.createdAt,
  );
  return { status: 'created', message: storedMessage(input), entries };
}

/**
 * A batch in one IMMEDIATE transaction (group commit), with a slice of the idempotency keys that
 * are due. places[i], if given, is where message i's text already is in the long-text file.
 * textsSyncedThrough, if given, is recorded as the long-text mark (store-meta.ts).
 */
export function appendMessages(
  s: SqliteSession,
  batch: readonly NewMessage[],
  places: readonly (AppendedText | undefined)[] = [],
  textsSyncedThrough?: bigint,
): AppendResult[] {
  return s.transaction(() => {
    s.clientMsgIds.writeSome();
    if (textsSyncedThrough !== undefined) writeMark(s, 'long_texts_synced_through', textsSyncedThrough);
    return batch.map((message, i) => appendMessage(s, message, places[i]));
  });
}
