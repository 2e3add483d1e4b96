/**
 * The Store's reads (STORE_ROUTES' 'reader' methods) over one connection. The server runs one on
 * its own thread over a `query_only` connection (SqliteReader.open), beside the writer thread;
 * the writer has one over its own session too (writer.ts), for the reads its transactions make
 * and for a store on one thread (':memory:', tests).
 *
 * A reader remembers nothing but statements (connection.ts) and has no way to write: it gets no
 * transaction, no log append and no cache, which live on the writer's session (writes.ts).
 */
import type Database from 'better-sqlite3';
import { takeCodePoints, type MemberRole, type Message, type User } from '@parley/protocol';
import { statSync } from 'node:fs';
import type {
  AccountPage,
  ChannelRecord,
  ChannelViewPage,
  ChannelViewRecord,
  ContactSources,
  DeviceRecord,
  DeviceSession,
  FriendPair,
  InviteRecord,
  FriendRequestRecord,
  HistoryQuery,
  MemberRecord,
  StoreFigures,
  UserRecord,
} from '../../ports/store.js';
import type { MessageRef, ReactionRecord } from '../../ports/message-changes.js';
import { TurnBatch } from '../../turn-batch.js';
import type { PushRecipient, PushSubscriptionRecord } from '../../ports/push.js';
import {
  contactSourcesOf,
  toChannelRecord,
  toInviteRecord,
  toUser,
  toUserRecord,
  UNREAD_CAP,
  type ChannelRow,
  type InviteRow,
  type UserRow,
} from '../sql-rows.js';
import { JSON_IDS, MESSAGE_COLUMNS, openDatabase, SqliteConnection, type SqliteMessageRow } from './connection.js';
import { LongTexts } from './long-texts.js';
import type { ReaderSide } from './routes.js';
import { countMentionsAfter, mentions, searchMessages } from './search-index.js';
import type { MessageSearch, SearchPageQuery } from '../../ports/search.js';

export const REQUEST_COLUMNS = `CAST(id AS TEXT) AS id, CAST(from_user_id AS TEXT) AS fromUserId,
  CAST(to_user_id AS TEXT) AS toUserId, created_at AS createdAt`;
export const USER_COLUMNS = `CAST(id AS TEXT) AS id, username, display_name, status_text, password_hash, created_at,
  last_seen_at, role, deactivated_at, deleted_at`;
export const INVITE_COLUMNS = `CAST(id AS TEXT) AS id, code_hash, CAST(created_by AS TEXT) AS created_by, created_at,
  expires_at, max_uses, uses, revoked_at`;

export class SqliteReader implements ReaderSide {
  readonly #connection: SqliteConnection;
  /** Whether the hello path's reads wait for the end of the turn and run together (#inTurn). */
  readonly #readsInTurns: boolean;
  /** The reads waiting for the end of this turn. */
  readonly #turn = new TurnBatch<() => void>((reads) => this.#runTogether(reads));

  /** `readsInTurns` only on a connection of the reader's own: see #inTurn. */
  constructor(connection: SqliteConnection, options: { readsInTurns?: boolean } = {}) {
    this.#connection = connection;
    this.#readsInTurns = options.readsInTurns ?? false;
  }

  /**
   * Runs `read` at the end of this turn of the event loop, in one read transaction with the
   * other reads asked for in it. Each transaction starts by checking the WAL and, when the
   * writer thread has committed since the last one, dropping the page cache and reading the
   * pages again: in a reconnect storm, thousands of hellos did that three times each (token,
   * contacts, last seen), a fifth of the event loop's time. Never staler than reading at once:
   * the snapshot is taken when the batch runs, after every read in it was asked for.
   */
  async #inTurn<T>(read: () => T): Promise<T> {
    if (!this.#readsInTurns) return read();
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        try {
          resolve(read());
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      this.#turn.add(run);
    });
  }

  #runTogether(reads: readonly (() => void)[]): void {
    if (reads.length === 1) reads[0]!();
    else this.#inOneSnapshot(() => reads.forEach((read) => read()));
  }

  /**
   * Runs `read`'s statements in one read transaction, so that they all see the database as of one
   * moment (each statement outside a transaction sees the last commit before it starts); inside
   * a transaction already open, in that one.
   */
  #inOneSnapshot<T>(read: () => T): T {
    const db = this.#connection.db;
    if (!db.open || db.inTransaction) return read();
    this.#sql('BEGIN').run();
    try {
      return read();
    } finally {
      this.#sql('COMMIT').run();
    }
  }

  /**
   * A reader on a connection of its own to a database the writer has opened (and migrated): the
   * connection is `query_only`, so a write statement fails with SQLITE_READONLY.
   */
  static open(path: string): { reader: SqliteReader; db: Database.Database; close: () => void } {
    const db = openDatabase(path);
    db.pragma('query_only = ON');
    const longTexts = new LongTexts(path, false);
    return {
      reader: new SqliteReader(new SqliteConnection(db, longTexts), { readsInTurns: true }),
      db,
      close() {
        if (db.open) db.close();
        longTexts.close();
      },
    };
  }

  #sql(sql: string) {
    return this.#connection.sql(sql);
  }

  // ------------------------------------------------------------ accounts

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
      `SELECT ${USER_COLUMNS} FROM users WHERE username >= ? AND username < ?
         AND deleted_at IS NULL AND deactivated_at IS NULL ORDER BY username LIMIT ?`,
    ).all(lower, `${lower}\uffff`, limit) as UserRow[];
    return rows.map(toUser);
  }

  async listAccounts(page: AccountPage): Promise<UserRecord[]> {
    const lower = page.prefix.toLowerCase();
    const from = page.after !== undefined && page.after >= lower ? page.after : undefined;
    const rows = this.#sql(
      `SELECT ${USER_COLUMNS} FROM users WHERE ${from === undefined ? 'username >= ?' : 'username > ?'}
         AND username < ? ORDER BY username LIMIT ?`,
    ).all(from ?? lower, `${lower}\uffff`, page.limit) as UserRow[];
    return rows.map(toUserRecord);
  }

  async listDevices(userId: string): Promise<DeviceRecord[]> {
    return this.#sql(
      `SELECT CAST(id AS TEXT) AS id, name, created_at AS createdAt, COALESCE(last_used_at, created_at) AS lastUsedAt
       FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY id`,
    ).all(userId) as DeviceRecord[];
  }

  async figures(sinceMessageId: string): Promise<StoreFigures> {
    const users = this.#sql(
      `SELECT COUNT(*) AS users, COUNT(deactivated_at) AS deactivated FROM users WHERE deleted_at IS NULL`,
    ).get() as { users: number; deactivated: number };
    const messagesPerDay = this.#sql(
      `SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS count FROM messages WHERE id >= ?
       GROUP BY day ORDER BY day`,
    ).all(sinceMessageId) as { day: string; count: number }[];
    const pages = this.#sql(
      `SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()`,
    ).get() as {
      bytes: number;
    };
    const file = this.#connection.db.name;
    const sizeOf = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    const storageBytes =
      file === ':memory:' || file === '' ? pages.bytes : sizeOf(file) + sizeOf(`${file}-wal`) + sizeOf(`${file}-texts`);
    return { users: users.users, deactivatedUsers: users.deactivated, messagesPerDay, storageBytes };
  }

  // ------------------------------------------------------------ invites

  async findInvite(codeHash: string): Promise<InviteRecord | undefined> {
    const row = this.#sql(`SELECT ${INVITE_COLUMNS} FROM invites WHERE code_hash = ?`).get(codeHash) as
      InviteRow | undefined;
    return row && toInviteRecord(row);
  }

  async getInvite(inviteId: string): Promise<InviteRecord | undefined> {
    const row = this.#sql(`SELECT ${INVITE_COLUMNS} FROM invites WHERE id = ?`).get(inviteId) as InviteRow | undefined;
    return row && toInviteRecord(row);
  }

  async listInvites(createdBy: string | undefined, limit: number): Promise<InviteRecord[]> {
    const rows = (
      createdBy === undefined
        ? this.#sql(`SELECT ${INVITE_COLUMNS} FROM invites ORDER BY invites.id DESC LIMIT ?`).all(limit)
        : this.#sql(`SELECT ${INVITE_COLUMNS} FROM invites WHERE created_by = ? ORDER BY invites.id DESC LIMIT ?`).all(
            createdBy,
            limit,
          )
    ) as InviteRow[];
    return rows.map(toInviteRecord);
  }

  // ------------------------------------------------------------ blocks

  async listBlocks(blockerId: string): Promise<{ userId: string; createdAt: string }[]> {
    return this.#sql(
      `SELECT CAST(blocked_id AS TEXT) AS userId, created_at AS createdAt FROM blocks WHERE blocker_id = ?
       ORDER BY created_at, blocked_id`,
    ).all(blockerId) as { userId: string; createdAt: string }[];
  }

  async blockedEitherWay(a: string, b: string): Promise<boolean> {
    return this.#connection.blockedEitherWay(a, b);
  }

  async blockedPeers(userId: string): Promise<string[]> {
    const rows = this.#sql(
      `SELECT CAST(blocked_id AS TEXT) AS id FROM blocks WHERE blocker_id = @u
       UNION SELECT CAST(blocker_id AS TEXT) AS id FROM blocks WHERE blocked_id = @u`,
    ).all({ u: userId }) as { id: string }[];
    return rows.map((row) => row.id);
  }

  findDeviceByTokenHash(tokenHash: string): Promise<DeviceSession | undefined> {
    return this.#inTurn(
      () =>
        this.#sql(
          `SELECT CAST(id AS TEXT) AS deviceId, CAST(user_id AS TEXT) AS userId,
                  COALESCE(last_used_at, created_at) AS lastUsedAt FROM devices
           WHERE token_hash = ? AND revoked_at IS NULL
             AND (SELECT deactivated_at FROM users WHERE users.id = devices.user_id) IS NULL`,
        ).get(tokenHash) as DeviceSession | undefined,
    );
  }

  getLastSeen(userIds: readonly string[]): Promise<Map<string, string>> {
    return this.#inTurn(() => {
      const rows = this.#sql(
        `SELECT CAST(id AS TEXT) AS id, last_seen_at FROM users
         WHERE id IN ${JSON_IDS} AND last_seen_at IS NOT NULL`,
      ).all(JSON.stringify(userIds)) as { id: string; last_seen_at: string }[];
      return new Map(rows.map((row) => [row.id, row.last_seen_at]));
    });
  }

  // ------------------------------------------------------------ friends

  /** The pair as stored now (the writer reads it inside its transactions too). */
  readFriendPair(a: string, b: string): FriendPair {
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
    return this.readFriendPair(a, b);
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

  /** The channel's members as stored now. */
  readMembers(channelId: string): MemberRecord[] {
    const rows = this.#sql(
      `SELECT CAST(user_id AS TEXT) AS userId, role, joined_at AS joinedAt,
              CAST(last_read_message_id AS TEXT) AS lastRead
       FROM channel_members WHERE channel_id = ? ORDER BY joined_at, user_id`,
    ).all(channelId) as (MemberRecord & { lastRead: string | null })[];
    return rows.map(({ lastRead, ...member }) =>
      lastRead === null ? member : { ...member, lastReadMessageId: lastRead },
    );
  }

  /** The channel as stored now. */
  readChannel(channelId: string): ChannelRecord | undefined {
    const row = this.#sql(`SELECT CAST(id AS TEXT) AS id, kind, name, created_at FROM channels WHERE id = ?`).get(
      channelId,
    ) as ChannelRow | undefined;
    if (row === undefined) return undefined;
    return toChannelRecord(row, this.readMembers(channelId));
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    return this.readChannel(channelId);
  }

  async getRole(channelId: string, userId: string): Promise<MemberRole | undefined> {
    const row = this.#sql(`SELECT role FROM channel_members WHERE channel_id = ? AND user_id = ?`).get(
      channelId,
      userId,
    ) as { role: MemberRole } | undefined;
    return row?.role;
  }

  async memberIds(channelId: string): Promise<string[]> {
    return this.#connection.memberIds(channelId);
  }

  contactSources(userId: string, maxGroupSize: number): Promise<ContactSources> {
    return this.#inTurn(() => this.#contactSources(userId, maxGroupSize));
  }

  #contactSources(userId: string, maxGroupSize: number): ContactSources {
    // One statement, not four: each statement outside a transaction opens its own WAL read.
    const rows = this.#sql(
      `SELECT 'f' AS source, CAST(friend_id AS TEXT) AS id FROM friendships WHERE user_id = @u
       UNION ALL
       SELECT 'd', CAST(peer.user_id AS TEXT)
       FROM channel_members mine
       JOIN channels ch ON ch.id = mine.channel_id AND ch.kind = 'dm'
       JOIN channel_members peer ON peer.channel_id = mine.channel_id AND peer.user_id != mine.user_id
       WHERE mine.user_id = @u
       UNION ALL
       SELECT DISTINCT 'g', CAST(peer.user_id AS TEXT)
       FROM channel_members mine
       JOIN channels ch ON ch.id = mine.channel_id AND ch.kind = 'group'
       JOIN channel_members peer ON peer.channel_id = mine.channel_id AND peer.user_id != mine.user_id
       WHERE mine.user_id = @u
         AND (SELECT COUNT(*) FROM channel_members c WHERE c.channel_id = mine.channel_id) <= @max
       UNION ALL
       SELECT 'b', CAST(blocked_id AS TEXT) FROM blocks WHERE blocker_id = @u
       UNION ALL
       SELECT 'b', CAST(blocker_id AS TEXT) FROM blocks WHERE blocked_id = @u`,
    ).all({ u: userId, max: maxGroupSize }) as { source: 'f' | 'd' | 'g' | 'b'; id: string }[];
    return contactSourcesOf(rows);
  }

  async listChannelViews(userId: string, page: ChannelViewPage): Promise<ChannelViewRecord[]> {
    // One snapshot: an unread count taken after the last message was read counted messages
    // newer than it, which the client counts again as they arrive.
    return this.#inOneSnapshot(() => this.#listChannelViews(userId, page));
  }

  #listChannelViews(userId: string, page: ChannelViewPage): ChannelViewRecord[] {
    const rows = this.#sql(
      `SELECT * FROM (
         SELECT CAST(c.id AS TEXT) AS id, c.kind, c.name, c.created_at,
                CAST(m.last_read_message_id AS TEXT) AS last_read, m.muted,
                CAST((SELECT MAX(id) FROM messages WHERE channel_id = c.id) AS TEXT) AS last_message_id,
                COALESCE((SELECT MAX(id) FROM messages WHERE channel_id = c.id), c.id) AS activity
         FROM channel_members m JOIN channels c ON c.id = m.channel_id
         WHERE m.user_id = ?)
       ${page.before === undefined ? '' : 'WHERE activity < CAST(? AS INTEGER)'}
       ORDER BY activity DESC
       LIMIT ?`,
    ).all(userId, ...(page.before === undefined ? [] : [page.before]), page.limit) as (ChannelRow & {
      last_read: string | null;
      last_message_id: string | null;
      muted: number;
    })[];
    // MESSAGE_COLUMNS with the text cut to its first code points (substr counts characters).
    const getMessage = this.#sql(
      `SELECT CAST(id AS TEXT) AS id, CAST(channel_id AS TEXT) AS channel_id, CAST(sender_id AS TEXT) AS sender_id,
              substr(text, 1, ?) AS text, created_at, client_msg_id, text_at, text_bytes, mentions, edited_at, deleted_at,
              CAST(reply_to_id AS TEXT) AS reply_to_id, CAST(reply_to_sender_id AS TEXT) AS reply_to_sender_id
       FROM messages WHERE id = ?`,
    );
    // A deleted message is not unread.
    const countUnread = this.#sql(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages
         WHERE channel_id = ? AND id > ? AND sender_id != ? AND deleted_at IS NULL LIMIT ${UNREAD_CAP})`,
    );
    return rows.map((row) => {
      const view: ChannelViewRecord = {
        ...toChannelRecord(row, this.readMembers(row.id)),
        unreadCount: 0,
        unreadMentionCount: 0,
      };
      if (row.last_message_id !== null) {
        const last = getMessage.get(page.textCodePoints, row.last_message_id) as SqliteMessageRow | undefined;
        if (last !== undefined) {
          // A long text is in the file: read only as many bytes as its first code points can
          // take (4 each), which always hold them whole, and cut there.
          if (last.text_bytes !== null) last.text_bytes = Math.min(last.text_bytes, 4 * page.textCodePoints);
          const message = this.#connection.toMessage(last);
          view.lastMessage = { ...message, text: takeCodePoints(message.text, page.textCodePoints) };
        }
        view.unreadCount = (countUnread.get(row.id, row.last_read ?? 0, userId) as { n: number }).n;
        view.unreadMentionCount = countMentionsAfter(this.#connection, userId, row.id, row.last_read, UNREAD_CAP);
      }
      if (row.last_read !== null) view.lastReadMessageId = row.last_read;
      if (row.muted === 1) view.muted = true;
      return view;
    });
  }

  // ------------------------------------------------------------ messages

  async listMessages(channelId: string, query: HistoryQuery, maxTextBytes = Infinity): Promise<Message[]> {
    const { limit } = query;
    // Rows are read one at a time and the read stops once the texts reach the budget.
    const read = (sql: string, ...params: unknown[]) =>
      this.#connection.readMessagesWithin(
        this.#sql(sql).iterate(...params) as Iterable<SqliteMessageRow>,
        maxTextBytes,
      );
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
          ? this.#connection.readMessagesWithin(
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
    return row && this.#connection.toMessage(row);
  }

  // ------------------------------------------------------------ search and mentions

  async searchMessages(userId: string, query: MessageSearch): Promise<Message[]> {
    return searchMessages(this.#connection, userId, query);
  }

  async mentions(userId: string, page: SearchPageQuery): Promise<Message[]> {
    return mentions(this.#connection, userId, page);
  }

  // ------------------------------------------------------------ message changes

  async listReactions(refs: readonly MessageRef[]): Promise<ReactionRecord[]> {
    if (refs.length === 0) return [];
    return this.#sql(
      `SELECT CAST(r.message_id AS TEXT) AS messageId, CAST(m.channel_id AS TEXT) AS channelId,
              CAST(r.user_id AS TEXT) AS userId, r.emoji
       FROM message_reactions r JOIN messages m ON m.id = r.message_id
       WHERE r.message_id IN ${JSON_IDS} ORDER BY r.message_id, r.id`,
    ).all(JSON.stringify(refs.map((ref) => ref.messageId))) as ReactionRecord[];
  }

  async replySources(refs: readonly MessageRef[], codePoints: number) {
    if (refs.length === 0) return [];
    const rows = this.#sql(
      `SELECT CAST(id AS TEXT) AS id, CAST(channel_id AS TEXT) AS channel_id, CAST(sender_id AS TEXT) AS sender_id,
              substr(text, 1, ?) AS text, created_at, client_msg_id, text_at, text_bytes, deleted_at
       FROM messages WHERE id IN ${JSON_IDS}`,
    ).all(codePoints, JSON.stringify(refs.map((ref) => ref.messageId))) as SqliteMessageRow[];
    return rows.map((row) => {
      if (row.deleted_at) return { messageId: row.id, senderId: row.sender_id };
      // A long text: only as many bytes as its first code points can take (4 each).
      if (row.text_bytes !== null) row.text_bytes = Math.min(row.text_bytes, 4 * codePoints);
      return {
        messageId: row.id,
        senderId: row.sender_id,
        preview: takeCodePoints(this.#connection.toMessage(row).text, codePoints),
      };
    });
  }

  async listMessagesBySender(
    senderId: string,
    afterId: string,
    limit: number,
    maxTextBytes: number,
  ): Promise<Message[]> {
    return this.#connection.readMessagesWithin(
      this.#sql(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id > ? AND sender_id = ? ORDER BY messages.id LIMIT ?`,
      ).iterate(afterId, senderId, limit) as Iterable<SqliteMessageRow>,
      maxTextBytes,
    ).messages;
  }

  // ------------------------------------------------------------ push subscriptions

  async pushSubscriptions(userIds: readonly string[]): Promise<PushSubscriptionRecord[]> {
    return this.#sql(
      `SELECT provider, endpoint, p256dh, auth, CAST(user_id AS TEXT) AS userId, CAST(device_id AS TEXT) AS deviceId,
              created_at AS createdAt
       FROM push_subscriptions WHERE user_id IN ${JSON_IDS} ORDER BY created_at, endpoint`,
    ).all(JSON.stringify(userIds)) as PushSubscriptionRecord[];
  }

  // ------------------------------------------------------------ push outbox and settings

  async pushSentTo(endpoints: readonly string[], messageId: string): Promise<Set<string>> {
    if (endpoints.length === 0) return new Set();
    const rows = this.#sql(
      `SELECT endpoint FROM push_sent WHERE message_id = ? AND endpoint IN (SELECT value FROM json_each(?))`,
    ).all(messageId, JSON.stringify(endpoints)) as { endpoint: string }[];
    return new Set(rows.map((row) => row.endpoint));
  }

  async pushRecipient(userId: string, channelId: string): Promise<PushRecipient | undefined> {
    const row = this.#sql(
      `SELECT m.muted, CAST(m.last_read_message_id AS TEXT) AS last_read, u.push_previews
       FROM channel_members m JOIN users u ON u.id = m.user_id
       WHERE m.channel_id = ? AND m.user_id = ?`,
    ).get(channelId, userId) as { muted: number; last_read: string | null; push_previews: number } | undefined;
    if (row === undefined) return undefined;
    const recipient: PushRecipient = { muted: row.muted === 1, previews: row.push_previews === 1 };
    if (row.last_read !== null) recipient.lastReadMessageId = row.last_read;
    return recipient;
  }

  async pushPreviews(userId: string): Promise<boolean> {
    const row = this.#sql(`SELECT push_previews FROM users WHERE id = ?`).get(userId) as
      { push_previews: number } | undefined;
    return row?.push_previews !== 0;
  }
}
