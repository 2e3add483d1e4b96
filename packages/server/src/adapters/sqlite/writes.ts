/**
 * The writer's session (its connection with what its writes remember), update-log appends and
 * message appends. The append functions expect to run inside the session's transaction. Only
 * the writer (writer.ts) makes a session: nothing here may run on the reader.
 */
import type Database from 'better-sqlite3';
import type { AppendResult, LogAppend, LogEntry, NewMessage } from '../../ports/store.js';
import { newLogEntry, storedMessage } from '../sql-rows.js';
import { ClientMsgIdIndex } from './client-msg-ids.js';
import { MESSAGE_COLUMNS, SqliteConnection, type SqliteMessageRow } from './connection.js';
import type { AppendedText, LongTexts } from './long-texts.js';
import { PendingLog } from './pending-log.js';
import { indexMessage, recordMentions } from './search-index.js';
import { writeMark } from './store-meta.js';

/** Entries kept in each write cache before it starts over, so memory stays bounded. */
export const CACHE_LIMIT = 500_000;

/**
 * The update log's news for the server's thread: `heads`, user id and head in turn (flat: it
 * crosses threads by structured clone), for every user whose log a committed transaction
 * appended to; `trimmed`, whether trimLog deleted entries (oldest seqs have moved).
 */
export interface LogNews {
  heads: (string | number)[];
  trimmed: boolean;
}

const noNews = (): LogNews => ({ heads: [], trimmed: false });

/**
 * The writer's connection with what its writes remember: each user's log head, each channel's
 * member list, the pending log and the idempotency keys not yet indexed. Remembering is sound
 * because this connection is the database's only writer (README.md, "What the writer
 * remembers"); a transaction that fails forgets everything it may have taught.
 */
export class WriterSession extends SqliteConnection {
  readonly #logHeads = new Map<string, number>();
  /** Each user's oldest kept seq: it changes only when trimLog deletes entries (logTrimmed). */
  readonly #oldestSeqs = new Map<string, number>();
  readonly #channelMembers = new Map<string, string[]>();
  /** Whether each channel is a DM (a channel's kind never changes). */
  readonly #isDm = new Map<string, boolean>();
  /** Idempotency keys, written behind (client-msg-ids.ts). */
  readonly clientMsgIds = new ClientMsgIdIndex(this);
  /** Update-log entries, written behind (pending-log.ts). */
  readonly pendingLog: PendingLog;
  /** Heads appended by the transaction under way; news once it commits. */
  readonly #appendedHeads = new Map<string, number>();
  /** What the server's thread has not been told yet (takeLogNews); undefined if nobody asks. */
  #news: LogNews | undefined;

  constructor(db: Database.Database, longTexts: LongTexts | undefined, logMoveAfterMs?: number) {
    super(db, longTexts);
    this.pendingLog = new PendingLog(this, logMoveAfterMs);
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
      this.#appendedHeads.clear();
      this.#logHeads.clear();
      this.#oldestSeqs.clear();
      this.#channelMembers.clear();
      this.clientMsgIds.rolledBack();
      this.pendingLog.rolledBack();
      throw error;
    }
    this.clientMsgIds.committed();
    this.pendingLog.committed();
    for (const [userId, head] of this.#appendedHeads) this.#news?.heads.push(userId, head);
    this.#appendedHeads.clear();
    return result;
  }

  /**
   * The update log's news since the last call (or since reportLogNews): the heads that committed
   * transactions appended, and whether entries were trimmed. The writer thread sends them with
   * its replies, for the server thread's copy of the bounds (log-bounds-mirror.ts).
   */
  takeLogNews(): LogNews {
    const news = this.#news ?? noNews();
    if (this.#news !== undefined) this.#news = noNews();
    return news;
  }

  /** Starts gathering the news for takeLogNews, before any call that may append or trim. */
  reportLogNews(): void {
    this.#news ??= noNews();
  }

  /**
   * The user's newest seq (0 for an empty log). Remembered once read, not only once appended: a
   * head moves only by appendLog, which sets it, and trimming keeps each user's newest entry.
   * After a restart, every returning device's hello asks for it (logBounds).
   */
  logHead(userId: string): number {
    let head = this.#logHeads.get(userId);
    if (head === undefined) {
      head = this.pendingLog.head(userId);
      this.setLogHead(userId, head);
    }
    return head;
  }

  /**
   * The user's oldest kept seq (undefined for an empty log). Remembered: in a reconnect storm
   * every hello asks for it (logBounds), and its two queries were a fifth of the writer's time.
   */
  oldestLogSeq(userId: string): number | undefined {
    const cached = this.#oldestSeqs.get(userId);
    if (cached !== undefined) return cached;
    const oldest = this.pendingLog.oldest(userId);
    if (oldest !== undefined) {
      if (this.#oldestSeqs.size >= CACHE_LIMIT) this.#oldestSeqs.clear();
      this.#oldestSeqs.set(userId, oldest);
    }
    return oldest;
  }

  /** Call after deleting log entries. */
  logTrimmed(): void {
    this.#oldestSeqs.clear();
    if (this.#news !== undefined) this.#news.trimmed = true;
  }

  /** Records an entry appended in the transaction under way. */
  appended(userId: string, seq: number): void {
    this.setLogHead(userId, seq);
    this.#appendedHeads.set(userId, seq);
  }

  setLogHead(userId: string, head: number): void {
    if (this.#logHeads.size >= CACHE_LIMIT) this.#logHeads.clear();
    this.#logHeads.set(userId, head);
  }

  override memberIds(channelId: string): string[] {
    const cached = this.#channelMembers.get(channelId);
    if (cached !== undefined) return cached;
    const ids = super.memberIds(channelId);
    // An unknown channel is not remembered: its id could still be created.
    if (ids.length > 0) {
      if (this.#channelMembers.size >= CACHE_LIMIT) this.#channelMembers.clear();
      this.#channelMembers.set(channelId, ids);
    }
    return ids;
  }

  /** Whether the channel is a direct message (false for a group or an unknown id). */
  isDm(channelId: string): boolean {
    const cached = this.#isDm.get(channelId);
    if (cached !== undefined) return cached;
    const row = this.sql(`SELECT kind FROM channels WHERE id = ?`).get(channelId) as { kind: string } | undefined;
    if (row === undefined) return false;
    if (this.#isDm.size >= CACHE_LIMIT) this.#isDm.clear();
    this.#isDm.set(channelId, row.kind === 'dm');
    return row.kind === 'dm';
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
export function appendLog(s: WriterSession, append: LogAppend, at: string): LogEntry[] {
  const entries: LogEntry[] = [];
  const data = append.data === undefined ? null : JSON.stringify(append.data);
  for (const userId of append.userIds) {
    const entry = newLogEntry(userId, s.logHead(userId) + 1, append, at);
    s.appended(userId, entry.seq);
    entries.push(entry);
  }
  s.pendingLog.append(entries, data);
  return entries;
}

/**
 * Stores one message and its members' log entries, or reports a duplicate or a non-member. With
 * a place, the text is already in the long-text file and the row points at it.
 */
export function appendMessage(s: WriterSession, input: NewMessage, place?: AppendedText): AppendResult {
  const original = s.clientMsgIds.find(input.senderId, input.clientMsgId);
  if (original !== undefined) {
    const row = s.sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(original) as SqliteMessageRow;
    return { status: 'duplicate', message: s.toMessage(row) };
  }
  const members = s.memberIds(input.channelId);
  if (!members.includes(input.senderId)) return { status: 'not_member' };
  if (members.length === 2 && s.isDm(input.channelId) && s.blockedEitherWay(members[0]!, members[1]!)) {
    return { status: 'blocked' };
  }
  const mentions = recordMentions(s, input, input.mentionNames ?? [], members);
  s.sql(
    `INSERT INTO messages (id, channel_id, sender_id, text, created_at, client_msg_id, text_at, text_bytes, text_crc,
       mentions, reply_to_id, reply_to_sender_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    mentions.length > 0 ? JSON.stringify(mentions) : null,
    input.replyTo?.id ?? null,
    input.replyTo?.senderId ?? null,
  );
  indexMessage(s, input.id, input.searchTokens ?? '');
  s.clientMsgIds.add(input.senderId, input.clientMsgId, input.id);
  const entries = appendLog(
    s,
    { userIds: members, type: 'message.created', channelId: input.channelId, messageId: input.id },
    input.createdAt,
  );
  return { status: 'created', message: storedMessage(input, mentions), entries };
}

/**
 * A batch in one IMMEDIATE transaction (group commit), with a slice of the idempotency keys that
 * are due. places[i], if given, is where message i's text already is in the long-text file.
 * textsSyncedThrough, if given, is recorded as the long-text mark (store-meta.ts).
 */
export function appendMessages(
  s: WriterSession,
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
