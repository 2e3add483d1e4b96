/**
 * The update log, written behind: new entries go to an append-only table in their own
 * transaction, and are stored by user a few seconds later, as one row per user ("a chunk").
 *
 * Why: stored one row per entry, keyed by (user_id, seq), every entry lands on its user's tail
 * page. A group commit of 25 DMs dirtied 50 random pages, two of the 4.7 WAL pages (4 KiB each)
 * that a 100-byte DM cost, and a message to a group of 100 inserted 100 rows on 100 pages inside
 * its commit (docs/benchmarks.md, finding 20). Pending, an append is one row (its users and their
 * seqs in one JSON column), added by rowid, so a commit's appends share a page or two. Every few
 * seconds the table in use is closed (a "generation"), and over the next commits each user's
 * entries of that generation become one row of `user_log_chunks` (JSON, at most CHUNK_ENTRIES
 * entries), a slice of users per commit; then the table is emptied in one statement. Two tables
 * take turns. Rows of `user_log` (one per entry) are still read: older databases have them, and
 * recovery and trimming write them.
 *
 * Nothing is lost in a crash: an entry is in a pending table, in a chunk, or (halfway through a
 * move) in both, always inside the transaction that made it. Opening the store moves whatever the
 * pending tables hold into `user_log`, but for the entries a chunk already holds (moveAll(), which the writer runs once when it opens).
 *
 * Reads must see pending entries, and only the writer knows them: readLog and logBounds run on
 * the writer (routes.ts), which merges what is stored with what is pending.
 */
import type { EventType } from '@parley/protocol';
import type { LogEntry, StoredLogEntry } from '../../ports/store.js';
import { toLogEntry, type LogRow } from '../sql-rows.js';
import { JSON_IDS, MESSAGE_COLUMNS, type SqliteConnection, type SqliteMessageRow } from './connection.js';

const TABLES = ['user_log_pending_a', 'user_log_pending_b'] as const;
type PendingTable = (typeof TABLES)[number];

/** A generation closes once its oldest entry has waited this long (by default), or once it holds this many. */
export const CLOSE_AFTER_MS = 5000;
const CLOSE_AT_ENTRIES = 200_000;
/**
 * Each commit stores the entries of at least a 64th of a closed generation's users, and at least
 * MIN_SLICE entries: small enough that no commit takes much longer than the others, large enough
 * that a generation is stored long before the next one closes.
 */
const SLICES = 64;
const MIN_SLICE = 256;
/** A chunk holds at most this many entries, so a read from the middle of a log parses little. */
const CHUNK_ENTRIES = 256;

/** One entry in a chunk: [seq, type, channelId, messageId, data, createdAt]. */
type ChunkEntry = [number, EventType, string | null, string | null, Record<string, string> | null, string];

interface Generation {
  table: PendingTable;
  /** Each user's entries in seq order. */
  byUser: Map<string, LogEntry[]>;
  count: number;
  openedAt: number;
}

/** A closed generation being stored: its users in id order and how many have been stored. */
interface Move {
  generation: Generation;
  users: string[];
  moved: number;
}

export class PendingLog {
  #open: Generation = newGeneration(TABLES[0]);
  #move: Move | undefined;
  /** Entries the transaction under way appended: taken back if it rolls back. */
  #added: LogEntry[] = [];
  /** How far the transaction under way moved the closed generation (applied when it commits). */
  #movedTo: number | undefined;
  /** The transaction under way moved everything (moveAll). */
  #movedAll = false;

  constructor(
    private readonly session: SqliteConnection,
    private readonly closeAfterMs = CLOSE_AFTER_MS,
  ) {}

  /**
   * Moves every pending entry into user_log now, one row per entry, but for those a chunk holds
   * already (a closed generation is stored a slice of users at a time). Call first in the caller's
   * transaction, before anything appends (trimming needs every entry where it deletes).
   */
  moveAll(): void {
    for (const table of TABLES) {
      this.session
        .sql(
          `INSERT OR IGNORE INTO user_log (user_id, seq, type, channel_id, message_id, data, created_at)
           SELECT user_id, seq, type, channel_id, message_id, data, created_at FROM (
             SELECT CAST(u.value ->> 0 AS INTEGER) AS user_id, u.value ->> 1 AS seq,
                    p.type, p.channel_id, p.message_id, p.data, p.created_at
             FROM ${table} p, json_each(p.users) u) AS e
           WHERE COALESCE((SELECT c.last_seq FROM user_log_chunks c WHERE c.user_id = e.user_id AND c.first_seq <= e.seq
                           ORDER BY c.first_seq DESC LIMIT 1), 0) < e.seq
           ORDER BY user_id, seq`,
        )
        .run();
      this.session.sql(`DELETE FROM ${table}`).run();
    }
    this.#movedAll = true;
  }

  /** Stores one append's entries, one per user, as one row (inside the caller's transaction). */
  append(entries: readonly LogEntry[], data: string | null): void {
    const first = entries[0];
    if (first === undefined) return;
    let users = '';
    for (const entry of entries) users += `${users === '' ? '[' : ','}["${entry.userId}",${entry.seq}]`;
    this.session
      .sql(
        `INSERT INTO ${this.#open.table} (type, channel_id, message_id, data, created_at, users) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(first.type, first.channelId ?? null, first.messageId ?? null, data, first.createdAt, `${users}]`);
    const generation = this.#open;
    if (generation.count === 0) generation.openedAt = performance.now();
    for (const entry of entries) {
      const list = generation.byUser.get(entry.userId);
      if (list === undefined) generation.byUser.set(entry.userId, [entry]);
      else list.push(entry);
      this.#added.push(entry);
    }
    generation.count += entries.length;
  }

  /** The user's newest seq: pending, else stored (0 for an empty log). */
  head(userId: string): number {
    const pending = this.#open.byUser.get(userId) ?? this.#move?.generation.byUser.get(userId);
    if (pending !== undefined) return pending[pending.length - 1]!.seq;
    const row = this.session
      .sql(
        `SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM user_log WHERE user_id = @userId),
                    COALESCE((SELECT last_seq FROM user_log_chunks WHERE user_id = @userId
                              ORDER BY first_seq DESC LIMIT 1), 0)) AS head`,
      )
      .get({ userId }) as { head: number };
    return row.head;
  }

  /** The user's oldest kept seq: stored, else pending; undefined for an empty log. */
  oldest(userId: string): number | undefined {
    const row = this.session
      .sql(
        `SELECT (SELECT MIN(seq) FROM user_log WHERE user_id = @userId) AS rows_low,
                (SELECT MIN(first_seq) FROM user_log_chunks WHERE user_id = @userId) AS chunks_low`,
      )
      .get({ userId }) as { rows_low: number | null; chunks_low: number | null };
    if (row.rows_low !== null || row.chunks_low !== null) {
      return Math.min(row.rows_low ?? Infinity, row.chunks_low ?? Infinity);
    }
    const pending = this.#move?.generation.byUser.get(userId) ?? this.#open.byUser.get(userId);
    return pending?.[0]?.seq;
  }

  /**
   * Entries with seq > afterSeq, ascending, at most `limit`, with messages joined in, ending at
   * the first entry at which the messages' texts reach maxTextBytes.
   */
  read(userId: string, afterSeq: number, limit: number, maxTextBytes = Infinity): StoredLogEntry[] {
    const found = [...this.#storedRows(userId, afterSeq, limit), ...this.#storedChunks(userId, afterSeq, limit)];
    found.sort((a, b) => a.seq - b.seq);
    found.length = Math.min(found.length, limit);
    let readThrough = found.length === 0 ? afterSeq : found[found.length - 1]!.seq;
    // A closed generation's entries may be stored already; only what lies past the store counts.
    for (const entries of [this.#move?.generation.byUser.get(userId), this.#open.byUser.get(userId)]) {
      for (const entry of entries ?? []) {
        if (found.length === limit) break;
        if (entry.seq > readThrough) {
          found.push({ ...entry });
          readThrough = entry.seq;
        }
      }
    }
    let created = found.filter((entry) => carriesMessage(entry.type) && entry.messageId !== undefined);
    if (created.length === 0) return found;
    if (maxTextBytes !== Infinity) {
      // The texts' sizes first (octet_length reads no text), then only the messages that fit.
      const sizes = this.session
        .sql(
          `SELECT CAST(id AS TEXT) AS id, COALESCE(text_bytes, octet_length(text)) AS bytes FROM messages WHERE id IN ${JSON_IDS}`,
        )
        .all(JSON.stringify(created.map((entry) => entry.messageId))) as { id: string; bytes: number }[];
      const bytesOf = new Map(sizes.map((row) => [row.id, row.bytes]));
      let textBytes = 0;
      const end = found.findIndex((entry) => {
        if (carriesMessage(entry.type)) textBytes += bytesOf.get(entry.messageId ?? '') ?? 0;
        return textBytes >= maxTextBytes;
      });
      if (end !== -1) {
        found.length = end + 1;
        created = created.filter((entry) => entry.seq <= found[end]!.seq);
      }
    }
    // One statement for the page's messages, not one per entry.
    const rows = this.session
      .sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id IN ${JSON_IDS}`)
      .all(JSON.stringify(created.map((entry) => entry.messageId))) as SqliteMessageRow[];
    const messages = new Map(rows.map((row) => [row.id, row]));
    for (const entry of created) {
      const row = messages.get(entry.messageId!);
      if (row !== undefined) entry.message = this.session.toMessage(row);
    }
    return found;
  }

  /** Rows of user_log (one per entry), without their messages. */
  #storedRows(userId: string, afterSeq: number, limit: number): StoredLogEntry[] {
    const rows = this.session
      .sql(
        `SELECT seq, type, CAST(channel_id AS TEXT) AS channel_id, CAST(message_id AS TEXT) AS message_id, data, created_at
         FROM user_log WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(userId, afterSeq, limit) as LogRow[];
    return rows.map((row) => toLogEntry(userId, row));
  }

  /** Entries of user_log_chunks, without their messages. */
  #storedChunks(userId: string, afterSeq: number, limit: number): StoredLogEntry[] {
    const found: StoredLogEntry[] = [];
    const chunks = this.session
      .sql(
        // From the chunk that holds afterSeq on (found through the key, so the cost does not grow
        // with the user's history; last_seq has no index).
        `SELECT entries FROM user_log_chunks
         WHERE user_id = @userId AND last_seq > @afterSeq
           AND first_seq >= COALESCE((SELECT MAX(first_seq) FROM user_log_chunks
                                      WHERE user_id = @userId AND first_seq <= @afterSeq), 0)
         ORDER BY first_seq`,
      )
      .iterate({ userId, afterSeq }) as IterableIterator<{ entries: string }>;
    for (const { entries } of chunks) {
      for (const [seq, type, channelId, messageId, data, createdAt] of JSON.parse(entries) as ChunkEntry[]) {
        if (seq <= afterSeq) continue;
        const entry: StoredLogEntry = { userId, seq, type, createdAt };
        if (channelId !== null) entry.channelId = channelId;
        if (messageId !== null) entry.messageId = messageId;
        if (data !== null) entry.data = data;
        found.push(entry);
      }
      if (found.length >= limit) break;
    }
    return found;
  }

  /** Call first in every write transaction: closes the open generation if it is due. */
  beginTransaction(): void {
    const open = this.#open;
    if (this.#move !== undefined || open.count === 0) return;
    if (open.count < CLOSE_AT_ENTRIES && performance.now() - open.openedAt < this.closeAfterMs) return;
    this.#move = { generation: open, users: [...open.byUser.keys()].sort(byNumericId), moved: 0 };
    this.#open = newGeneration(TABLES[0] === open.table ? TABLES[1] : TABLES[0]);
  }

  /** Call last in every write transaction: stores the next slice of users of a closed generation. */
  endTransaction(): void {
    const move = this.#move;
    if (move === undefined || this.#movedAll) return;
    const { users, generation } = move;
    const insert = this.session.sql(
      `INSERT OR IGNORE INTO user_log_chunks (user_id, first_seq, last_seq, newest_at, entries) VALUES (?, ?, ?, ?, ?)`,
    );
    const minEntries = Math.max(MIN_SLICE, Math.ceil(generation.count / SLICES));
    const lastUser = Math.min(users.length, move.moved + Math.ceil(users.length / SLICES));
    let next = move.moved;
    for (let stored = 0; next < users.length && (next < lastUser || stored < minEntries); next++) {
      const userId = users[next]!;
      const entries = generation.byUser.get(userId)!;
      for (let from = 0; from < entries.length; from += CHUNK_ENTRIES) {
        const chunk = entries.slice(from, from + CHUNK_ENTRIES);
        // Trimming goes by the newest time in a chunk, whatever order the times came in.
        let newest = chunk[0]!.createdAt;
        const encoded = chunk.map((e): ChunkEntry => {
          if (e.createdAt > newest) newest = e.createdAt;
          return [e.seq, e.type, e.channelId ?? null, e.messageId ?? null, e.data ?? null, e.createdAt];
        });
        insert.run(userId, chunk[0]!.seq, chunk[chunk.length - 1]!.seq, newest, JSON.stringify(encoded));
      }
      stored += entries.length;
    }
    if (next === users.length) this.session.sql(`DELETE FROM ${generation.table}`).run();
    this.#movedTo = next;
  }

  /** The caller's transaction committed. */
  committed(): void {
    this.#added = [];
    if (this.#movedAll) {
      this.#open = newGeneration(TABLES[0]);
      this.#move = undefined;
      this.#movedAll = false;
    }
    const move = this.#move;
    if (move !== undefined && this.#movedTo !== undefined) {
      move.moved = this.#movedTo;
      if (move.moved === move.users.length) this.#move = undefined;
    }
    this.#movedTo = undefined;
  }

  /** The caller's transaction rolled back: its entries were never stored, and nothing moved. */
  rolledBack(): void {
    const open = this.#open;
    // Entries were appended in order, so taking them back from the end restores each list.
    for (let i = this.#added.length - 1; i >= 0; i--) {
      const entry = this.#added[i]!;
      const entries = open.byUser.get(entry.userId);
      entries?.pop();
      if (entries?.length === 0) open.byUser.delete(entry.userId);
      open.count--;
    }
    this.#added = [];
    this.#movedTo = undefined;
    this.#movedAll = false;
  }
}

function newGeneration(table: PendingTable): Generation {
  return { table, byUser: new Map(), count: 0, openedAt: 0 };
}

/** Decimal ids in numeric order (as the B-trees sort them). */
function byNumericId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The entries whose message readLog joins in (as it is now: edited, or a tombstone). */
function carriesMessage(type: EventType): boolean {
  return type === 'message.created' || type === 'message.updated' || type === 'message.deleted';
}
