/**
 * The message-id marks kept in `store_meta`: how far work that is written behind, or synced
 * beside the WAL, is known to be done, so that start-up redoes or checks only what follows.
 */
import type { SqliteConnection } from './connection.js';

export type StoreMark =
  /** Every message up to it has its key in client_msg_ids (client-msg-ids.ts). */
  | 'client_msg_ids_through'
  /** Every long text of a message up to it is on disk (long-texts.ts). */
  | 'long_texts_synced_through';

export function readMark(s: SqliteConnection, mark: StoreMark): bigint {
  const row = s.sql(`SELECT value FROM store_meta WHERE key = ?`).safeIntegers().get(mark) as
    { value: bigint } | undefined;
  return row?.value ?? 0n;
}

/** Inside the caller's transaction. */
export function writeMark(s: SqliteConnection, mark: StoreMark, messageId: bigint): void {
  s.sql(`UPDATE store_meta SET value = ? WHERE key = ?`).run(messageId, mark);
}

/** The newest stored message's id (0 for none). */
export function newestMessageId(s: SqliteConnection): bigint {
  const row = s.sql(`SELECT COALESCE(MAX(id), 0) AS id FROM messages`).safeIntegers().get() as { id: bigint };
  return row.id;
}
