/**
 * The (sender, clientMsgId) -> message id index that makes resends idempotent, written behind.
 *
 * Why behind: keys arrive in no useful order, so writing each one with its message dirtied a
 * random page of the index on every send: 1.4 of the 5.8 WAL pages (4 KiB each) a 100-byte DM
 * cost, and a quarter of the store's time per message (docs/benchmarks.md, finding 16). Instead the
 * writer gathers the keys it commits for about a second (a generation), sorts them, and writes
 * them a slice per message batch over the next commits: a sender's keys then share pages, and no
 * one commit pays for a whole second's keys.
 *
 * Nothing is lost in a crash: every message row carries its clientMsgId, and `store_meta` records
 * a message id up to which every key is in the index (`client_msg_ids_through`), written in the
 * transaction that writes a generation's last slice. On opening, the writer indexes the keys of
 * every message after it (recover()), so a resend after a restart still finds its original.
 */
import { newestMessageId, readMark, writeMark, type StoreMark } from './store-meta.js';
import type { SqliteConnection } from './connection.js';

interface PendingKey {
  senderId: string;
  clientMsgId: string;
  messageId: string;
}

/** Keys waiting to be written: at most one generation at a time is being written. */
interface Closed {
  keys: Map<string, PendingKey>;
  /** Its keys in index order, and how many of them are in the table. */
  sorted: [string, PendingKey][];
  written: number;
  /** The newest message stored when it closed: every older one's key is in it or in the table. */
  through: bigint;
}

/**
 * The open generation closes once it holds this many keys, or once its oldest has waited
 * CLOSE_AFTER_MS: the longer keys gather, the more of a sender's keys share a page.
 */
const CLOSE_AT_KEYS = 16_384;
const CLOSE_AFTER_MS = 1000;
/**
 * A closed generation is written over the next commits, at least a 32nd of it and MIN_SLICE keys
 * each: written all at once, a second's keys (5,000 at 5,000 msgs/s) took one commit 15-40 ms,
 * and every message behind it waited that long (docs/benchmarks.md, finding 27).
 */
const SLICES = 32;
const MIN_SLICE = 256;
/**
 * Recovery re-indexes from this far (in Snowflake id space: 10 s of milliseconds << 22) before
 * the mark, so a message whose id a clock stepped back by less than that is not missed. Every
 * start looks at the messages of those 10 s again (INSERT OR IGNORE finds most already there).
 */
const RECOVERY_MARGIN = 10_000n << 22n;

const WATERMARK: StoreMark = 'client_msg_ids_through';

export class ClientMsgIdIndex {
  /** Committed keys (and, during a transaction, its own) gathering for the next write. */
  #open = new Map<string, PendingKey>();
  #openedAt = 0;
  /** The generation being written, a slice per message batch; its keys are found here until it is done. */
  #closed: Closed | undefined;
  /** Keys the transaction under way added: forgotten if it rolls back. */
  #added: string[] = [];
  /** How far the transaction under way wrote the closed generation (applied when it commits). */
  #writtenTo: number | undefined;

  constructor(private readonly session: SqliteConnection) {}

  /**
   * Indexes the keys of messages committed after the last flush (after a crash). Run once, at
   * open, inside the caller's transaction.
   */
  recover(): void {
    const s = this.session;
    const from = readMark(s, WATERMARK) - RECOVERY_MARGIN;
    s.sql(
      `INSERT OR IGNORE INTO client_msg_ids (sender_id, client_msg_id, message_id)
       SELECT sender_id, client_msg_id, id FROM messages WHERE id > ? AND client_msg_id IS NOT NULL
       ORDER BY sender_id, client_msg_id`,
    ).run(from);
    this.#markThrough(newestMessageId(s));
  }

  /** The message id stored under the key, if any (inside the caller's transaction). */
  find(senderId: string, clientMsgId: string): string | undefined {
    const key = keyOf(senderId, clientMsgId);
    const pending = this.#open.get(key) ?? this.#closed?.keys.get(key);
    if (pending !== undefined) return pending.messageId;
    const row = this.session
      .sql(`SELECT CAST(message_id AS TEXT) AS id FROM client_msg_ids WHERE sender_id = ? AND client_msg_id = ?`)
      .get(senderId, clientMsgId) as { id: string } | undefined;
    return row?.id;
  }

  /** Remembers a key whose message the caller's transaction just stored. */
  add(senderId: string, clientMsgId: string, messageId: string): void {
    const key = keyOf(senderId, clientMsgId);
    if (this.#open.size === 0) this.#openedAt = performance.now();
    this.#open.set(key, { senderId, clientMsgId, messageId });
    this.#added.push(key);
  }

  /**
   * Call first in a message batch's transaction, before its appends: closes the open generation
   * if it is due and none is being written, then writes the next slice of the closed one.
   */
  writeSome(): void {
    if (this.#closed === undefined) this.#closeIfDue();
    const closed = this.#closed;
    if (closed === undefined) return;
    const { sorted } = closed;
    const end = Math.min(sorted.length, closed.written + Math.max(MIN_SLICE, Math.ceil(sorted.length / SLICES)));
    const insert = this.session.sql(
      `INSERT OR IGNORE INTO client_msg_ids (sender_id, client_msg_id, message_id) VALUES (?, ?, ?)`,
    );
    for (let i = closed.written; i < end; i++) {
      const { senderId, clientMsgId, messageId } = sorted[i]![1];
      insert.run(senderId, clientMsgId, messageId);
    }
    if (end === sorted.length) this.#markThrough(closed.through);
    this.#writtenTo = end;
  }

  /** The caller's transaction committed. */
  committed(): void {
    const closed = this.#closed;
    if (closed !== undefined && this.#writtenTo !== undefined) {
      closed.written = this.#writtenTo;
      if (closed.written === closed.sorted.length) this.#closed = undefined;
    }
    this.#added = [];
    this.#writtenTo = undefined;
  }

  /** The caller's transaction rolled back: its keys were never stored, and nothing was written. */
  rolledBack(): void {
    for (const key of this.#added) this.#open.delete(key);
    this.#added = [];
    this.#writtenTo = undefined;
  }

  /** Only committed keys are open here: the caller's transaction has appended nothing yet. */
  #closeIfDue(): void {
    const open = this.#open;
    if (open.size === 0) return;
    if (open.size < CLOSE_AT_KEYS && performance.now() - this.#openedAt < CLOSE_AFTER_MS) return;
    const sorted = [...open.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#closed = { keys: open, sorted, written: 0, through: newestMessageId(this.session) };
    this.#open = new Map();
  }

  /** Every message up to `messageId` has its key in the table (or in this same transaction). */
  #markThrough(messageId: bigint): void {
    writeMark(this.session, WATERMARK, messageId);
  }
}

function keyOf(senderId: string, clientMsgId: string): string {
  return `${senderId}\u0000${clientMsgId}`;
}
