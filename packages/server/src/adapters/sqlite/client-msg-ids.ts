/**
 * The (sender, clientMsgId) -> message id index that makes resends idempotent, written behind.
 *
 * Why behind: keys arrive in no useful order, so writing each one with its message dirtied a
 * random page of the index on every send: 1.4 of the 5.8 WAL pages (4 KiB each) a 100-byte DM
 * cost, and a quarter of the store's time per message (docs/benchmarks.md, finding 16). Instead the
 * writer remembers the keys it committed since the last flush and writes them all, sorted, about
 * once a second, inside a message batch's transaction: a sender's keys then share pages.
 *
 * Nothing is lost in a crash: every message row carries its clientMsgId, and `store_meta` records
 * the newest message whose key is already in the index (`client_msg_ids_through`), written in
 * the same transaction as each flush. On opening, the writer indexes the keys of every message
 * after it (recover()), so a resend after a restart still finds its original.
 */
import type { SqliteSession } from './writes.js';

interface PendingKey {
  senderId: string;
  clientMsgId: string;
  messageId: string;
}

/** Keys are written once this many wait, or once the oldest has waited FLUSH_AFTER_MS. */
const FLUSH_KEYS = 16_384;
const FLUSH_AFTER_MS = 1000;
/**
 * Recovery re-indexes from this far (in Snowflake id space: 10 s of milliseconds << 22) before
 * the mark, so a message whose id a clock stepped back by less than that is not missed. Every
 * start looks at the messages of those 10 s again (INSERT OR IGNORE finds most already there).
 */
const RECOVERY_MARGIN = 10_000n << 22n;

const WATERMARK = `client_msg_ids_through`;

export class ClientMsgIdIndex {
  /** Committed keys (and, during a transaction, its own) not yet in the table. */
  readonly #pending = new Map<string, PendingKey>();
  /** Keys the transaction under way added: forgotten if it rolls back. */
  #added: string[] = [];
  /** Keys the transaction under way wrote to the table: dropped from #pending if it commits. */
  #written: string[] = [];
  #oldestPendingAt = 0;

  constructor(private readonly session: SqliteSession) {}

  /** Indexes the keys of messages committed after the last flush (after a crash). Run once, at open. */
  recover(): void {
    const s = this.session;
    s.transaction(() => {
      const row = s.sql(`SELECT value FROM store_meta WHERE key = ?`).safeIntegers().get(WATERMARK) as
        { value: bigint } | undefined;
      const from = (row?.value ?? 0n) - RECOVERY_MARGIN;
      s.sql(
        `INSERT OR IGNORE INTO client_msg_ids (sender_id, client_msg_id, message_id)
         SELECT sender_id, client_msg_id, id FROM messages WHERE id > ? AND client_msg_id IS NOT NULL
         ORDER BY sender_id, client_msg_id`,
      ).run(from);
      this.#markThroughNewest();
    });
  }

  /** The message id stored under the key, if any (inside the caller's transaction). */
  find(senderId: string, clientMsgId: string): string | undefined {
    const pending = this.#pending.get(keyOf(senderId, clientMsgId));
    if (pending !== undefined) return pending.messageId;
    const row = this.session
      .sql(`SELECT CAST(message_id AS TEXT) AS id FROM client_msg_ids WHERE sender_id = ? AND client_msg_id = ?`)
      .get(senderId, clientMsgId) as { id: string } | undefined;
    return row?.id;
  }

  /** Remembers a key whose message the caller's transaction just stored. */
  add(senderId: string, clientMsgId: string, messageId: string): void {
    const key = keyOf(senderId, clientMsgId);
    if (this.#pending.size === 0) this.#oldestPendingAt = performance.now();
    this.#pending.set(key, { senderId, clientMsgId, messageId });
    this.#added.push(key);
  }

  /** Writes every remembered key if enough are waiting or the oldest has waited long enough. */
  flushIfDue(): void {
    if (this.#pending.size === 0) return;
    if (this.#pending.size < FLUSH_KEYS && performance.now() - this.#oldestPendingAt < FLUSH_AFTER_MS) return;
    const keys = [...this.#pending.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const insert = this.session.sql(
      `INSERT OR IGNORE INTO client_msg_ids (sender_id, client_msg_id, message_id) VALUES (?, ?, ?)`,
    );
    for (const [key, { senderId, clientMsgId, messageId }] of keys) {
      insert.run(senderId, clientMsgId, messageId);
      this.#written.push(key);
    }
    this.#markThroughNewest();
  }

  /** The caller's transaction committed. */
  committed(): void {
    for (const key of this.#written) this.#pending.delete(key);
    this.#added = [];
    this.#written = [];
  }

  /** The caller's transaction rolled back: its keys were never stored, and nothing was written. */
  rolledBack(): void {
    for (const key of this.#added) this.#pending.delete(key);
    this.#added = [];
    this.#written = [];
  }

  /** Every message stored so far has its key in the table (or in this same transaction). */
  #markThroughNewest(): void {
    this.session
      .sql(`UPDATE store_meta SET value = COALESCE((SELECT MAX(id) FROM messages), 0) WHERE key = ?`)
      .run(WATERMARK);
  }
}

function keyOf(senderId: string, clientMsgId: string): string {
  return `${senderId}\u0000${clientMsgId}`;
}
