import Database from 'better-sqlite3';
import type { MemberRole, Message, User } from '@parley/protocol';
import {
  StoreError,
  type AppendResult,
  type ChannelChange,
  type ChannelRecord,
  type ChannelViewRecord,
  type ConditionalWrite,
  type FriendPair,
  type FriendPairChange,
  type DeviceSession,
  type FriendRequestRecord,
  type HistoryQuery,
  type LogAppend,
  type LogEntry,
  type MemberRecord,
  type NewDevice,
  type NewDm,
  type NewGroup,
  type NewMember,
  type NewMessage,
  type NewUser,
  type ProfilePatch,
  type ReadCursorMove,
  type Store,
  type StoredLogEntry,
  type UserRecord,
} from '../../ports/store.js';
import {
  sameMembers,
  samePair,
  toChannelRecord,
  toUser,
  toUserRecord,
  UNREAD_CAP,
  type ChannelRow,
  type UserRow,
} from '../sql-rows.js';
import type { PushSubscriptionRecord } from '../../ports/push.js';
import { migrations } from './schema.js';
import { SqliteCheckpointThread } from './threads.js';
import { WalSync } from './wal-sync.js';
import { LongTexts, longTextBytes, TextsOnDiskMark } from './long-texts.js';
import { newestMessageId, readMark, writeMark } from './store-meta.js';
import {
  appendLog,
  appendMessages,
  JSON_IDS,
  MESSAGE_COLUMNS,
  openDatabase,
  SqliteSession,
  type SqliteMessageRow,
} from './writes.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
  /** How the checkpoint thread keeps the WAL bounded; the defaults suit production. */
  checkpoint?: { intervalMs?: number; restartFrames?: number; walSizeLimitBytes?: number };
  /**
   * A reader beside the writing instance (which must have created the schema): every write
   * fails, and it remembers nothing the writer could change. No checkpoints, no migrations.
   */
  readOnly?: boolean;
  /** How long update-log entries stay pending before they are stored by user (pending-log.ts). */
  logMoveAfterMs?: number;
}

const REQUEST_COLUMNS = `CAST(id AS TEXT) AS id, CAST(from_user_id AS TEXT) AS fromUserId,
  CAST(to_user_id AS TEXT) AS toUserId, created_at AS createdAt`;
const USER_COLUMNS = `CAST(id AS TEXT) AS id, username, display_name, status_text, password_hash, created_at, last_seen_at`;

function dmKey(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * The embedded Store on one connection to one SQLite file in WAL mode. A committed transaction
 * survives a crash of the process or the machine: synchronous=FULL, and for message batches an
 * fdatasync of the WAL before they are acked (appendMessages). better-sqlite3 is synchronous;
 * each method runs to completion inside one transaction, which is also what makes per-user
 * seq allocation gap-free here (SQLite has one writer).
 *
 * A server opens it through openSqliteStore (threaded-store.ts): the writing instance runs on a
 * thread of its own, and reads go through a read-only instance on the caller's thread.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #session: SqliteSession;
  readonly #checkpointer: SqliteCheckpointThread | undefined;
  readonly #walSync: WalSync | undefined;
  /** Settles when the last message batch's statements are done (the next may start). */
  #commitTurn: Promise<void> = Promise.resolve();
  /** Settles when the last message batch is on disk. Never rejects. */
  #lastSync: Promise<void> = Promise.resolve();
  /** How far the long texts are on disk; undefined where there is no long-text file to write. */
  #textsMark: TextsOnDiskMark | undefined;

  constructor(options: SqliteStoreOptions) {
    this.#db = openDatabase(options.path);
    const writes = options.readOnly !== true;
    const onDisk = options.path !== ':memory:';
    const longTexts = onDisk ? new LongTexts(options.path, writes) : undefined;
    this.#session = new SqliteSession(this.#db, writes, longTexts, options.logMoveAfterMs);
    if (!writes) {
      this.#db.pragma('query_only = ON');
      this.#checkpointer = undefined;
      this.#walSync = undefined;
      return;
    }
    this.#migrate();
    if (longTexts !== undefined) this.#textsMark = new TextsOnDiskMark(this.#removeMessagesWithLostTexts(longTexts));
    this.#session.clientMsgIds.recover();
    this.#session.pendingLog.recover();
    // Checkpoints (copying the WAL into the database file, with its fsync) run on their own
    // thread; without that thread the connection checkpoints itself every 1000 pages as usual.
    const checkpoint = options.checkpoint ?? {};
    this.#checkpointer = onDisk
      ? SqliteCheckpointThread.start({
          path: options.path,
          intervalMs: checkpoint.intervalMs ?? 250,
          restartFrames: checkpoint.restartFrames ?? 16_384,
        })
      : undefined;
    if (this.#checkpointer !== undefined) this.#db.pragma('wal_autocheckpoint = 0');
    // When a commit starts the WAL over, a file grown past this is cut back to it. Above what a
    // RESTART lets the WAL reach (16,384 frames of 4 KiB), so that steady load never truncates
    // and regrows the file.
    this.#db.pragma(`journal_size_limit = ${checkpoint.walSizeLimitBytes ?? 128 * 1024 * 1024}`);
    this.#walSync = onDisk ? WalSync.open(options.path) : undefined;
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < migrations.length; v++) {
      this.#db.transaction(() => {
        this.#db.exec(migrations[v]!);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /**
   * After a machine crash, committed rows can point at long texts that never reached the disk
   * (long-texts.ts). Their batches were never acked: the sender still has them and resends them
   * under the same clientMsgId, so each such message is removed with its idempotency key, and the
   * resend is stored anew. Its log entries stay, as the seqs must; they read as a message that is
   * gone (events.ts). Only rows after the recorded mark can be affected: the last second's or so.
   */
  #removeMessagesWithLostTexts(longTexts: LongTexts): bigint {
    const suspects = this.#sql(
      `SELECT id, sender_id, client_msg_id, text_at, text_bytes, text_crc FROM messages
       WHERE id > ? AND text_at IS NOT NULL AND text_crc IS NOT NULL`,
    )
      .safeIntegers()
      .all(readMark(this.#session, 'long_texts_synced_through')) as {
      id: bigint;
      sender_id: bigint;
      client_msg_id: string | null;
      text_at: bigint;
      text_bytes: bigint;
      text_crc: bigint;
    }[];
    const lost = suspects.filter(
      (row) => !longTexts.holds({ at: Number(row.text_at), bytes: Number(row.text_bytes), crc: Number(row.text_crc) }),
    );
    return this.#tx(() => {
      for (const row of lost) {
        this.#sql(`DELETE FROM messages WHERE id = ?`).run(row.id);
        this.#sql(`DELETE FROM client_msg_ids WHERE sender_id = ? AND client_msg_id = ? AND message_id = ?`).run(
          row.sender_id,
          row.client_msg_id,
          row.id,
        );
      }
      const newest = newestMessageId(this.#session);
      writeMark(this.#session, 'long_texts_synced_through', newest);
      return newest;
    });
  }

  #sql(sql: string): Database.Statement {
    return this.#session.sql(sql);
  }

  #tx<T>(work: () => T): T {
    return this.#session.transaction(work);
  }

  /** Appends one entry per user of each append, in order (inside the caller's transaction). */
  #appendAll(appends: readonly LogAppend[], at: string): LogEntry[] {
    return appends.flatMap((append) => appendLog(this.#session, append, at));
  }

  // ------------------------------------------------------------ accounts

  async createUser(user: NewUser): Promise<void> {
    try {
      this.#sql(`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`).run(
        user.id,
        user.username.toLowerCase(),
        user.displayName,
        user.passwordHash,
        user.createdAt,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreError('conflict', 'username is taken', { cause: error });
      throw error;
    }
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const row = this.#sql(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`).get(username.toLowerCase()) as
      UserRow | undefined;
    return row && toUserRecord(row);
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    const row = this.#sql(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(userId) as UserRow | undefined;
    return row && toUserRecord(row);
  }

  async getUsers(userIds: readonly string[]): Promise<User[]> {
    if (userIds.length === 0) return [];
    const rows = this.#sql(`SELECT ${USER_COLUMNS} FROM users WHERE id IN ${JSON_IDS}`).all(
      JSON.stringify(userIds),
    ) as UserRow[];
    return rows.map(toUser);
  }

  async searchUsers(prefix: string, limit: number): Promise<User[]> {
    const lower = prefix.toLowerCase();
    // Range scan on the unique index; avoids LIKE's escaping rules.
    const rows = this.#sql(
      `SELECT ${USER_COLUMNS} FROM users WHERE username >= ? AND username < ? ORDER BY username LIMIT ?`,
    ).all(lower, `${lower}\uffff`, limit) as UserRow[];
    return rows.map(toUser);
  }

  async updateProfile(userId: string, patch: ProfilePatch, events: readonly LogAppend[], at: string) {
    return this.#tx(() => {
      const row = this.#sql(
        `UPDATE users SET display_name = COALESCE(?, display_name), status_text = CASE WHEN ? THEN ? ELSE status_text END
         WHERE id = ? RETURNING ${USER_COLUMNS}`,
      ).get(patch.displayName ?? null, patch.statusText === undefined ? 0 : 1, patch.statusText ?? null, userId) as
        UserRow | undefined;
      if (row === undefined) throw new StoreError('not_found', 'no such user');
      return { user: toUser(row), entries: this.#appendAll(events, at) };
    });
  }

  async createDevice(device: NewDevice): Promise<void> {
    this.#sql(`INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`).run(
      device.id,
      device.userId,
      device.name,
      device.tokenHash,
      device.createdAt,
    );
  }

  async findDeviceByTokenHash(tokenHash: string): Promise<DeviceSession | undefined> {
    const row = this.#sql(
      `SELECT CAST(id AS TEXT) AS deviceId, CAST(user_id AS TEXT) AS userId,
              COALESCE(last_used_at, created_at) AS lastUsedAt FROM devices
       WHERE token_hash = ? AND revoked_at IS NULL`,
    ).get(tokenHash) as DeviceSession | undefined;
    return row;
  }

  async touchDevice(deviceId: string, at: string): Promise<void> {
    this.#sql(`UPDATE devices SET last_used_at = ? WHERE id = ?`).run(at, deviceId);
  }

  async revokeDevice(deviceId: string): Promise<void> {
    this.#tx(() => {
      this.#sql(`UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(
        new Date().toISOString(),
        deviceId,
      );
      // A logged-out device must not keep receiving notifications.
      this.#sql(`DELETE FROM push_subscriptions WHERE device_id = ?`).run(deviceId);
    });
  }

  async setLastSeen(userIds: readonly string[], at: string): Promise<void> {
    if (userIds.length === 0) return;
    this.#sql(`UPDATE users SET last_seen_at = ? WHERE id IN ${JSON_IDS}`).run(at, JSON.stringify(userIds));
  }

  async getLastSeen(userIds: readonly string[]): Promise<Map<string, string>> {
    const rows = this.#sql(
      `SELECT CAST(id AS TEXT) AS id, last_seen_at FROM users
       WHERE id IN ${JSON_IDS} AND last_seen_at IS NOT NULL`,
    ).all(JSON.stringify(userIds)) as { id: string; last_seen_at: string }[];
    return new Map(rows.map((row) => [row.id, row.last_seen_at]));
  }

  // ------------------------------------------------------------ friends

  #friendPair(a: string, b: string): FriendPair {
    const requests = this.#sql(
      `SELECT ${REQUEST_COLUMNS} FROM friend_requests
       WHERE (from_user_id = @a AND to_user_id = @b) OR (from_user_id = @b AND to_user_id = @a) ORDER BY friend_requests.id`,
    ).all({ a, b }) as FriendRequestRecord[];
    return { friends: this.#areFriends(a, b), requests };
  }

  #areFriends(a: string, b: string): boolean {
    return this.#sql(`SELECT 1 FROM friendships WHERE user_id = ? AND friend_id = ?`).get(a, b) !== undefined;
  }

  async friendPair(a: string, b: string): Promise<FriendPair> {
    return this.#friendPair(a, b);
  }

  async changeFriendPair(change: FriendPairChange): Promise<ConditionalWrite> {
    return this.#tx(() => {
      const [a, b] = change.pair;
      if (!samePair(change.expected, this.#friendPair(a, b))) return { status: 'stale' as const };
      const removeRequest = this.#sql(`DELETE FROM friend_requests WHERE id = ?`);
      for (const id of change.removeRequestIds ?? []) removeRequest.run(id);
      const request = change.addRequest;
      if (request !== undefined) {
        try {
          this.#sql(`INSERT INTO friend_requests (id, from_user_id, to_user_id, created_at) VALUES (?, ?, ?, ?)`).run(
            request.id,
            request.fromUserId,
            request.toUserId,
            request.createdAt,
          );
        } catch (error) {
          if (isUniqueViolation(error)) throw new StoreError('conflict', 'that request is pending', { cause: error });
          throw error;
        }
      }
      if (change.friends === true) {
        const insert = this.#sql(`INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at) VALUES (?, ?, ?)`);
        insert.run(a, b, change.at);
        insert.run(b, a, change.at);
      } else if (change.friends === false) {
        this.#sql(
          `DELETE FROM friendships WHERE (user_id = @a AND friend_id = @b) OR (user_id = @b AND friend_id = @a)`,
        ).run({ a, b });
      }
      return { status: 'applied' as const, entries: this.#appendAll(change.events, change.at) };
    });
  }

  async getFriendRequest(requestId: string): Promise<FriendRequestRecord | undefined> {
    return this.#sql(`SELECT ${REQUEST_COLUMNS} FROM friend_requests WHERE id = ?`).get(requestId) as
      FriendRequestRecord | undefined;
  }

  async listFriendRequests(userId: string) {
    const incoming = this.#sql(
      `SELECT ${REQUEST_COLUMNS} FROM friend_requests WHERE to_user_id = ? ORDER BY friend_requests.id`,
    ).all(userId) as FriendRequestRecord[];
    const outgoing = this.#sql(
      `SELECT ${REQUEST_COLUMNS} FROM friend_requests WHERE from_user_id = ? ORDER BY friend_requests.id`,
    ).all(userId) as FriendRequestRecord[];
    return { incoming, outgoing };
  }

  async listFriendIds(userId: string): Promise<string[]> {
    const rows = this.#sql(`SELECT CAST(friend_id AS TEXT) AS id FROM friendships WHERE user_id = ?`).all(userId) as {
      id: string;
    }[];
    return rows.map((row) => row.id);
  }

  async areFriends(a: string, b: string): Promise<boolean> {
    return this.#areFriends(a, b);
  }

  // ------------------------------------------------------------ channels

  #members(channelId: string): MemberRecord[] {
    const rows = this.#sql(
      `SELECT CAST(user_id AS TEXT) AS userId, role, joined_at AS joinedAt,
              CAST(last_read_message_id AS TEXT) AS lastRead
       FROM channel_members WHERE channel_id = ? ORDER BY joined_at, user_id`,
    ).all(channelId) as (MemberRecord & { lastRead: string | null })[];
    return rows.map(({ lastRead, ...member }) =>
      lastRead === null ? member : { ...member, lastReadMessageId: lastRead },
    );
  }

  #channel(channelId: string): ChannelRecord | undefined {
    const row = this.#sql(`SELECT CAST(id AS TEXT) AS id, kind, name, created_at FROM channels WHERE id = ?`).get(
      channelId,
    ) as ChannelRow | undefined;
    if (row === undefined) return undefined;
    return toChannelRecord(row, this.#members(channelId));
  }

  #memberIds(channelId: string): string[] {
    return this.#session.memberIds(channelId);
  }

  async getOrCreateDm(dm: NewDm, events: readonly LogAppend[]) {
    return this.#tx(() => {
      const key = dmKey(dm.members[0].userId, dm.members[1].userId);
      const existing = this.#sql(`SELECT CAST(id AS TEXT) AS id FROM channels WHERE dm_key = ?`).get(key) as
        { id: string } | undefined;
      if (existing !== undefined) return { channel: this.#channel(existing.id)!, entries: [] as LogEntry[] };
      this.#sql(`INSERT INTO channels (id, kind, dm_key, created_at) VALUES (?, 'dm', ?, ?)`).run(
        dm.id,
        key,
        dm.createdAt,
      );
      this.#insertMembers(dm.id, dm.members, dm.createdAt);
      const entries = this.#appendAll(events, dm.createdAt);
      return { channel: this.#channel(dm.id)!, entries };
    });
  }

  async createGroup(group: NewGroup, events: readonly LogAppend[]) {
    return this.#tx(() => {
      this.#sql(`INSERT INTO channels (id, kind, name, created_at) VALUES (?, 'group', ?, ?)`).run(
        group.id,
        group.name,
        group.createdAt,
      );
      this.#insertMembers(group.id, group.members, group.createdAt);
      const entries = this.#appendAll(events, group.createdAt);
      return { channel: this.#channel(group.id)!, entries };
    });
  }

  #insertMembers(channelId: string, members: readonly NewMember[], at: string): void {
    const insert = this.#sql(`INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`);
    for (const member of members) insert.run(channelId, member.userId, member.role, at);
    this.#session.forgetMembers(channelId);
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    return this.#channel(channelId);
  }

  async getRole(channelId: string, userId: string): Promise<MemberRole | undefined> {
    const row = this.#sql(`SELECT role FROM channel_members WHERE channel_id = ? AND user_id = ?`).get(
      channelId,
      userId,
    ) as { role: MemberRole } | undefined;
    return row?.role;
  }

  async memberIds(channelId: string): Promise<string[]> {
    return this.#memberIds(channelId);
  }

  async channelPeers(userId: string, maxGroupSize: number): Promise<string[]> {
    const rows = this.#sql(
      `SELECT DISTINCT CAST(peer.user_id AS TEXT) AS id
       FROM channel_members mine
       JOIN channels ch ON ch.id = mine.channel_id AND ch.kind = 'group'
       JOIN channel_members peer ON peer.channel_id = mine.channel_id AND peer.user_id != mine.user_id
       WHERE mine.user_id = ?
         AND (SELECT COUNT(*) FROM channel_members c WHERE c.channel_id = mine.channel_id) <= ?`,
    ).all(userId, maxGroupSize) as { id: string }[];
    return rows.map((row) => row.id);
  }

  async dmPartners(userId: string): Promise<string[]> {
    const rows = this.#sql(
      `SELECT CAST(peer.user_id AS TEXT) AS id
       FROM channel_members mine
       JOIN channels ch ON ch.id = mine.channel_id AND ch.kind = 'dm'
       JOIN channel_members peer ON peer.channel_id = mine.channel_id AND peer.user_id != mine.user_id
       WHERE mine.user_id = ?`,
    ).all(userId) as { id: string }[];
    return rows.map((row) => row.id);
  }

  async listChannelViews(userId: string): Promise<ChannelViewRecord[]> {
    const rows = this.#sql(
      `SELECT CAST(c.id AS TEXT) AS id, c.kind, c.name, c.created_at,
              CAST(m.last_read_message_id AS TEXT) AS last_read,
              CAST((SELECT MAX(id) FROM messages WHERE channel_id = c.id) AS TEXT) AS last_message_id
       FROM channel_members m JOIN channels c ON c.id = m.channel_id
       WHERE m.user_id = ?
       ORDER BY COALESCE((SELECT MAX(id) FROM messages WHERE channel_id = c.id), c.id) DESC`,
    ).all(userId) as (ChannelRow & { last_read: string | null; last_message_id: string | null })[];
    const getMessage = this.#sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`);
    const countUnread = this.#sql(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages WHERE channel_id = ? AND id > ? AND sender_id != ? LIMIT ${UNREAD_CAP})`,
    );
    return rows.map((row) => {
      const view: ChannelViewRecord = {
        ...toChannelRecord(row, this.#members(row.id)),
        unreadCount: 0,
      };
      if (row.last_message_id !== null) {
        const last = getMessage.get(row.last_message_id) as SqliteMessageRow | undefined;
        if (last !== undefined) view.lastMessage = this.#session.toMessage(last);
        view.unreadCount = (countUnread.get(row.id, row.last_read ?? 0, userId) as { n: number }).n;
      }
      if (row.last_read !== null) view.lastReadMessageId = row.last_read;
      return view;
    });
  }

  async changeChannel(change: ChannelChange): Promise<ConditionalWrite> {
    return this.#tx(() => {
      const { channelId } = change;
      const exists = this.#sql(`SELECT 1 FROM channels WHERE id = ?`).get(channelId) !== undefined;
      if (!exists || !sameMembers(change.expected, this.#members(channelId))) return { status: 'stale' as const };
      const remove = this.#sql(`DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?`);
      for (const userId of change.remove ?? []) remove.run(channelId, userId);
      this.#insertMembers(channelId, change.add ?? [], change.at);
      const setRole = this.#sql(`UPDATE channel_members SET role = ? WHERE channel_id = ? AND user_id = ?`);
      for (const { userId, role } of change.roles ?? []) setRole.run(role, channelId, userId);
      if (change.name !== undefined) {
        this.#sql(`UPDATE channels SET name = ? WHERE id = ?`).run(change.name, channelId);
      }
      this.#session.forgetMembers(channelId);
      return { status: 'applied' as const, entries: this.#appendAll(change.events, change.at) };
    });
  }

  async moveReadCursor(move: ReadCursorMove): Promise<ConditionalWrite> {
    return this.#tx(() => {
      const result = this.#sql(
        `UPDATE channel_members SET last_read_message_id = @to
         WHERE channel_id = @channelId AND user_id = @userId AND last_read_message_id IS @from`,
      ).run({ to: move.to, channelId: move.channelId, userId: move.userId, from: move.from ?? null });
      if (result.changes === 0) return { status: 'stale' as const };
      return { status: 'applied' as const, entries: this.#appendAll(move.events, move.at) };
    });
  }

  // ------------------------------------------------------------ messages

  /**
   * Message batches never put the event loop to sleep. They commit without an fsync and the WAL
   * is synced on the thread pool before anyone is told (wal-sync.ts), together with the long-text
   * file the batch's texts went to (long-texts.ts); the next batch's statements may run meanwhile,
   * and batches still resolve in commit order. And while the checkpoint thread runs a RESTART,
   * which holds writers back, a batch waits here between turns rather than in SQLite's busy handler.
   */
  async appendMessages(
    batch: readonly NewMessage[],
    /** Long texts already in UTF-8 (the writer thread's calls: writer-protocol.ts); their `text` is ''. */
    encodedTexts: readonly (Uint8Array | undefined)[] = [],
  ): Promise<AppendResult[]> {
    if (this.#walSync === undefined) {
      // No WAL file to sync (':memory:', or a database SQLite could not put in WAL mode): every text goes into its row.
      const decoded = batch.map((m, i) => {
        const bytes = encodedTexts[i];
        return bytes === undefined ? m : { ...m, text: Buffer.from(bytes).toString('utf8') };
      });
      return appendMessages(this.#session, decoded);
    }
    const longTexts = this.#session.longTexts;
    const places =
      longTexts?.append(
        batch.map((m, i) => encodedTexts[i] ?? (longTextBytes(m.text) > 0 ? Buffer.from(m.text, 'utf8') : undefined)),
      ) ?? [];
    const newest = batch.reduce((max, message) => (BigInt(message.id) > max ? BigInt(message.id) : max), 0n);
    const textsMark = this.#textsMark;
    const textsSynced = places.some((place) => place !== undefined) ? textsMark!.sync(longTexts!, newest) : undefined;
    textsSynced?.catch(() => undefined); // awaited below; until then a failure must not go unhandled
    if (textsSynced === undefined) textsMark?.withoutTexts(newest);
    const previousTurn = this.#commitTurn;
    let endTurn!: () => void;
    this.#commitTurn = new Promise((resolve) => (endTurn = resolve));
    let results: AppendResult[];
    try {
      await previousTurn;
      await this.#checkpointer?.beginCommit();
      this.#sql('PRAGMA synchronous = NORMAL').run();
      const mark = textsMark?.due();
      try {
        results = appendMessages(this.#session, batch, places, mark);
        if (mark !== undefined) textsMark!.recorded(mark);
      } finally {
        this.#sql('PRAGMA synchronous = FULL').run();
        this.#checkpointer?.endCommit();
      }
    } finally {
      endTurn();
    }
    // This sync covers every earlier batch too; waiting for theirs keeps the order.
    const synced = Promise.all([this.#lastSync, this.#walSync.sync(), textsSynced]);
    this.#lastSync = synced.then(
      () => undefined,
      () => undefined,
    );
    await synced;
    return results;
  }

  async listMessages(channelId: string, query: HistoryQuery, maxTextBytes = Infinity): Promise<Message[]> {
    const { limit } = query;
    // Rows are read one at a time and the read stops once the texts reach the budget.
    const read = (sql: string, ...params: unknown[]) =>
      this.#session.readMessagesWithin(this.#sql(sql).iterate(...params) as Iterable<SqliteMessageRow>, maxTextBytes);
    if ('before' in query) {
      return read(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND id < ? ORDER BY messages.id DESC LIMIT ?`,
        channelId,
        query.before,
        limit,
      ).messages.reverse();
    }
    if ('after' in query) {
      return read(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND id > ? ORDER BY messages.id ASC LIMIT ?`,
        channelId,
        query.after,
        limit,
      ).messages;
    }
    if ('around' in query) {
      // Half the page before the target, the target, and the rest after it.
      const older = read(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND id <= ? ORDER BY messages.id DESC LIMIT ?`,
        channelId,
        query.around,
        Math.floor(limit / 2) + 1,
      );
      const left = maxTextBytes - older.textBytes;
      const newer =
        left > 0 && older.messages.length < limit
          ? this.#session.readMessagesWithin(
              this.#sql(
                `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND id > ? ORDER BY messages.id ASC LIMIT ?`,
              ).iterate(channelId, query.around, limit - older.messages.length) as Iterable<SqliteMessageRow>,
              left,
            ).messages
          : [];
      return [...older.messages.reverse(), ...newer];
    }
    return read(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? ORDER BY messages.id DESC LIMIT ?`,
      channelId,
      limit,
    ).messages.reverse();
  }

  async getMessage(channelId: string, messageId: string): Promise<Message | undefined> {
    const row = this.#sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ? AND channel_id = ?`).get(
      messageId,
      channelId,
    ) as SqliteMessageRow | undefined;
    return row && this.#session.toMessage(row);
  }

  // ------------------------------------------------------------ update log

  async appendLog(appends: readonly LogAppend[], at: string): Promise<LogEntry[]> {
    return this.#tx(() => this.#appendAll(appends, at));
  }

  /**
   * What is stored, then what is still pending (pending-log.ts). Only the writing instance knows
   * the pending entries, so a server routes this call to its writer thread (threaded-store.ts).
   */
  async readLog(userId: string, afterSeq: number, limit: number, maxTextBytes?: number): Promise<StoredLogEntry[]> {
    return this.#session.pendingLog.read(userId, afterSeq, limit, maxTextBytes);
  }

  /** Like readLog, routed to the writer thread: pending entries count. */
  async logBounds(userId: string): Promise<{ head: number; floor: number }> {
    const pending = this.#session.pendingLog;
    const head = pending.head(userId);
    return { head, floor: (pending.oldest(userId) ?? head + 1) - 1 };
  }

  /**
   * Entries are deleted one by one where they are stored a row each, and a chunk at a time
   * (pending-log.ts: up to a few seconds of one user's entries) once the chunk's newest is older:
   * what is kept is never older than asked by more than those seconds.
   */
  async trimLog(before: string): Promise<number> {
    return this.#tx(() => {
      this.#session.pendingLog.moveAll();
      // Each user's newest row and newest chunk stay: the newest entry is where the seq continues.
      const rows = this.#sql(
        `DELETE FROM user_log WHERE created_at < ?
           AND seq < (SELECT MAX(seq) FROM user_log AS newest WHERE newest.user_id = user_log.user_id)`,
      ).run(before).changes;
      const chunks = this.#sql(
        `DELETE FROM user_log_chunks WHERE newest_at < ?
           AND first_seq < (SELECT MAX(first_seq) FROM user_log_chunks AS newest WHERE newest.user_id = user_log_chunks.user_id)
         RETURNING json_array_length(entries) AS n`,
      ).all(before) as { n: number }[];
      return chunks.reduce((sum, chunk) => sum + chunk.n, rows);
    });
  }

  // ------------------------------------------------------------ push subscriptions

  async savePushSubscription(subscription: PushSubscriptionRecord): Promise<void> {
    this.#sql(
      `INSERT INTO push_subscriptions (endpoint, p256dh, auth, user_id, device_id, created_at)
       VALUES (@endpoint, @p256dh, @auth, @userId, @deviceId, @createdAt)
       ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth,
         user_id = excluded.user_id, device_id = excluded.device_id, created_at = excluded.created_at`,
    ).run(subscription);
  }

  async deletePushSubscription(endpoint: string, userId?: string): Promise<void> {
    if (userId === undefined) this.#sql(`DELETE FROM push_subscriptions WHERE endpoint = ?`).run(endpoint);
    else this.#sql(`DELETE FROM push_subscriptions WHERE endpoint = ? AND user_id = ?`).run(endpoint, userId);
  }

  async pushSubscriptions(userIds: readonly string[]): Promise<PushSubscriptionRecord[]> {
    return this.#sql(
      `SELECT endpoint, p256dh, auth, CAST(user_id AS TEXT) AS userId, CAST(device_id AS TEXT) AS deviceId,
              created_at AS createdAt
       FROM push_subscriptions WHERE user_id IN ${JSON_IDS} ORDER BY created_at`,
    ).all(JSON.stringify(userIds)) as PushSubscriptionRecord[];
  }

  async close(): Promise<void> {
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close();
    this.#walSync?.close();
    this.#session.longTexts?.close();
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT');
}
