import type { MessageSearch, SearchPageQuery } from '../../ports/search.js';
import {
  indexMessages,
  mentionedMembers,
  mentions,
  recordMentions,
  searchMessages,
  unindexMessage,
  usersByName,
} from './search-index.js';
import pg from 'pg';
import type { MemberRole, Message, User } from '@parley/protocol';
import {
  StoreError,
  type AccountChange,
  type AccountDeletion,
  type AccountPage,
  type BlockChange,
  type CreateUserResult,
  type DeviceRecord,
  type InviteRecord,
  type StoreFigures,
  type AppendResult,
  type ChannelChange,
  type ChannelRecord,
  type ChannelViewPage,
  type ChannelViewRecord,
  type ContactSources,
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
  storedMessage,
  toChannelRecord,
  toInviteRecord,
  newLogEntry,
  toLogEntry,
  toMessage,
  toUser,
  toUserRecord,
  contactSourcesOf,
  sameMembers,
  samePair,
  sortJobs,
  UNREAD_CAP,
  type ChannelRow,
  type InviteRow,
  type LogRow,
  type MessageRow,
  type UserRow,
} from '../sql-rows.js';
import type {
  MessageChangeResult,
  MessageDelete,
  MessageEdit,
  MessageRef,
  ReactionChange,
  ReactionRecord,
} from '../../ports/message-changes.js';
import type {
  ChannelSettingsChange,
  NewPushJob,
  PushClaim,
  PushOutboxJob,
  PushRecipient,
  PushSubscriptionRecord,
} from '../../ports/push.js';
import { migrations as defaultMigrations, type Migration } from './schema.js';

export interface PostgresStoreOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Schema for every table (default: the server's search_path, normally "public"). */
  schema?: string;
  /** How often a transaction that hit a deadlock or serialization failure is retried (default 5). */
  retries?: number;
  /** For tests of the migration runner. */
  migrations?: readonly Migration[];
}

/** Key of the advisory lock that serializes migrations across processes (with the schema name). */
const MIGRATION_LOCK = 'parley:migrations';

type Client = pg.PoolClient;

interface TimedAppend extends LogAppend {
  at: string;
}

const USER_COLUMNS = `id, username, display_name, status_text, password_hash, created_at, last_seen_at, role,
  deactivated_at, deleted_at`;
const INVITE_COLUMNS = `id, code_hash, created_by, created_at, expires_at, max_uses, uses, revoked_at`;
/** Key of the advisory lock that makes "the first user" one user (with the schema name). */
const FIRST_USER_LOCK = 'parley:first-user';
const MESSAGE_COLUMNS = `id, channel_id, sender_id, text, created_at, client_msg_id, edited_at, deleted_at, reply_to_id, reply_to_sender_id, mentions`;
/** The log entries whose message readLog joins in (as it is now: edited, or a tombstone). */
const MESSAGE_EVENTS = `'message.created', 'message.updated', 'message.deleted'`;
const REQUEST_COLUMNS = `id, from_user_id AS "fromUserId", to_user_id AS "toUserId", created_at AS "createdAt"`;

/** timestamptz comes back as the ISO-8601 string the domain uses (ms precision, "Z"). */
const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (value: string) => Date;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.TIMESTAMPTZ) return (value: string) => parseTimestamptz(value).toISOString();
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as typeof pg.types.getTypeParser,
};

/**
 * The scale-out Store on PostgreSQL. Every method is one transaction (READ COMMITTED).
 *
 * Per-user seq: user_log_head holds each user's last seq. A transaction that appends log
 * entries does so last, in one step: it locks every head row it needs with one
 * `SELECT ... ORDER BY user_id FOR UPDATE` (so all writers take them in the same order and
 * cannot deadlock), numbers the entries, inserts them and moves the heads. Two gateways writing
 * to the same user therefore serialize on that user's head row only, and a seq is never
 * skipped: it is taken and used in the same transaction.
 *
 * Membership: appends take a KEY SHARE lock on their channel rows and membership changes take
 * FOR UPDATE, so a message's recipients are exactly the members when it commits.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #retries: number;
  readonly #schema: string | undefined;
  #closed = false;

  private constructor(options: PostgresStoreOptions) {
    this.#retries = options.retries ?? 5;
    this.#schema = options.schema;
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // A database that cannot be reached must surface as `unavailable` within seconds, not hang
      // requests: bounds both opening a connection and waiting for a free one.
      connectionTimeoutMillis: 3_000,
      // Notices a peer that vanished without a reset (a partition) on idle connections.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      idleTimeoutMillis: 30_000,
      types: typeParsers,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdent(options.schema)}` }),
    });
    // An idle connection dropped by the server (restart, failover) must not crash the process;
    // the next checkout opens a new one.
    this.#pool.on('error', () => {});
  }

  /** Connects, applies pending migrations (serialized across processes) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.#migrate(options.migrations ?? defaultMigrations);
    } catch (error) {
      await store.close();
      throw translate(error);
    }
    return store;
  }

  async #migrate(migrations: readonly Migration[]): Promise<void> {
    const client = await this.#pool.connect();
    try {
      // Session-level lock: several processes starting at once apply each migration once.
      await client.query(`SELECT pg_advisory_lock(hashtextextended($1 || current_schema(), 0))`, [MIGRATION_LOCK]);
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS parley_migrations (
             version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const { rows } = await client.query<{ version: number }>(`SELECT version FROM parley_migrations`);
        const applied = new Set(rows.map((row) => row.version));
        for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
          if (applied.has(migration.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(migration.sql);
            await client.query(`INSERT INTO parley_migrations (version, name) VALUES ($1, $2)`, [
              migration.version,
              migration.name,
            ]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        }
      } finally {
        await client.query(`SELECT pg_advisory_unlock(hashtextextended($1 || current_schema(), 0))`, [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  /** The schema this store was opened on, if one was given. */
  get schema(): string | undefined {
    return this.#schema;
  }

  // ------------------------------------------------------------ plumbing

  /** One statement outside a transaction. */
  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (error) {
      throw translate(error);
    }
  }

  /** Runs `work` in a transaction, retried on deadlock or serialization failure. */
  async #tx<T>(work: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: Client;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw translate(error);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (isRetryable(error) && attempt < this.#retries) {
          await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
          continue;
        }
        throw translate(error);
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Appends log entries inside the caller's transaction; must be the transaction's last step
   * (see the class comment). Users without a head row (unknown users) are skipped.
   */
  async #appendLogs(client: Client, appends: readonly TimedAppend[]): Promise<LogEntry[]> {
    const wanted = [...new Set(appends.flatMap((a) => a.userIds))];
    if (wanted.length === 0) return [];
    const { rows } = await client.query<{ user_id: string; seq: string }>(
      `SELECT user_id, seq FROM user_log_head WHERE user_id = ANY($1::bigint[]) ORDER BY user_id FOR UPDATE`,
      [wanted],
    );
    const heads = new Map(rows.map((row) => [row.user_id, Number(row.seq)]));
    const entries: LogEntry[] = [];
    for (const append of appends) {
      for (const userId of append.userIds) {
        const head = heads.get(userId);
        if (head === undefined) continue;
        heads.set(userId, head + 1);
        entries.push(newLogEntry(userId, head + 1, append, append.at));
      }
    }
    if (entries.length === 0) return entries;
    await client.query(
      `INSERT INTO user_log (user_id, seq, type, channel_id, message_id, data, created_at)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::jsonb[], $7::timestamptz[])`,
      [
        entries.map((e) => e.userId),
        entries.map((e) => e.seq),
        entries.map((e) => e.type),
        entries.map((e) => e.channelId ?? null),
        entries.map((e) => e.messageId ?? null),
        entries.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
        entries.map((e) => e.createdAt),
      ],
    );
    const touched = [...heads].filter(([userId]) => rows.some((row) => row.user_id === userId));
    await client.query(
      `UPDATE user_log_head h SET seq = v.seq FROM unnest($1::bigint[], $2::bigint[]) AS v(user_id, seq)
       WHERE h.user_id = v.user_id`,
      [touched.map(([userId]) => userId), touched.map(([, seq]) => seq)],
    );
    return entries;
  }

  /** Serializes operations on one pair of users (friend requests and friendships). */
  async #lockPair(client: Client, a: string, b: string): Promise<void> {
    const key = BigInt(a) < BigInt(b) ? `${a}:${b}` : `${b}:${a}`;
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`parley:pair:${key}`]);
  }

  // ------------------------------------------------------------ accounts

  async createUser(user: NewUser): Promise<CreateUserResult> {
    return this.#tx(async (c) => {
      if (user.invite !== undefined) {
        const taken = await c.query(
          `UPDATE invites SET uses = uses + 1 WHERE id = $1 AND uses = $2 AND revoked_at IS NULL`,
          [user.invite.inviteId, user.invite.expectedUses],
        );
        if (taken.rowCount === 0) return { status: 'stale' as const };
      }
      let role = user.role ?? 'member';
      if (user.adminIfFirst === true || user.onlyIfFirst === true) {
        const anyUser = async () => (await c.query(`SELECT 1 FROM users LIMIT 1`)).rows.length > 0;
        // Once there are users there always will be (rows stay when accounts are deleted): only
        // sign-ups on an empty store wait for each other here, so only the first sees no user.
        let first = !(await anyUser());
        if (first) {
          await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${FIRST_USER_LOCK}:${this.#schema ?? ''}`]);
          first = !(await anyUser());
        }
        if (user.onlyIfFirst === true && !first) return { status: 'stale' as const };
        if (first && user.adminIfFirst === true) role = 'admin';
      }
      await c.query(
        `INSERT INTO users (id, username, display_name, password_hash, created_at, role) VALUES ($1, $2, $3, $4, $5, $6)`,
        [user.id, user.username.toLowerCase(), user.displayName, user.passwordHash, user.createdAt, role],
      );
      await c.query(`INSERT INTO user_log_head (user_id, seq) VALUES ($1, 0)`, [user.id]);
      return { status: 'created' as const, role };
    });
  }

  async listAccounts(page: AccountPage): Promise<UserRecord[]> {
    const lower = page.prefix.toLowerCase();
    const pattern = lower.replace(/[\\%_]/g, (ch) => `\\${ch}`) + '%';
    const { rows } = await this.#query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE username LIKE $1 AND ($2::text IS NULL OR username > $2)
       ORDER BY username LIMIT $3`,
      [pattern, page.after ?? null, page.limit],
    );
    return rows.map(toUserRecord);
  }

  async changeAccount(change: AccountChange): Promise<{ revokedDeviceIds: string[] }> {
    return this.#tx(async (c) => {
      const { rowCount } = await c.query(
        `UPDATE users SET password_hash = COALESCE($1, password_hash), role = COALESCE($2, role),
           deactivated_at = CASE WHEN $3 THEN $4::timestamptz ELSE deactivated_at END
         WHERE id = $5`,
        [
          change.passwordHash ?? null,
          change.role ?? null,
          change.deactivatedAt !== undefined,
          change.deactivatedAt ?? null,
          change.userId,
        ],
      );
      if (rowCount === 0) throw new StoreError('not_found', 'no such user');
      if (change.revokeDevices === undefined) return { revokedDeviceIds: [] };
      return {
        revokedDeviceIds: await this.#revokeDevicesOf(c, change.userId, change.at, change.revokeDevices.except),
      };
    });
  }

  /** Revokes the user's live devices (but `except`) and forgets their push subscriptions. */
  async #revokeDevicesOf(c: Client, userId: string, at: string, except?: string): Promise<string[]> {
    const { rows } = await c.query<{ id: string }>(
      `UPDATE devices SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id != $3 RETURNING id`,
      [at, userId, except ?? 0],
    );
    const ids = rows.map((row) => row.id);
    if (ids.length > 0) await c.query(`DELETE FROM push_subscriptions WHERE device_id = ANY($1::bigint[])`, [ids]);
    return ids;
  }

  async deleteAccount(deletion: AccountDeletion): Promise<{ revokedDeviceIds: string[]; entries: LogEntry[] }> {
    return this.#tx(async (c) => {
      const { userId, at } = deletion;
      const { rowCount } = await c.query(
        `UPDATE users SET username = 'deleted-' || id, display_name = 'Deleted user', status_text = NULL,
           password_hash = '', role = 'member', deleted_at = $1 WHERE id = $2`,
        [at, userId],
      );
      if (rowCount === 0) throw new StoreError('not_found', 'no such user');
      const revokedDeviceIds = await this.#revokeDevicesOf(c, userId, at);
      await c.query(`DELETE FROM push_subscriptions WHERE user_id = $1`, [userId]);
      await c.query(`DELETE FROM friendships WHERE user_id = $1 OR friend_id = $1`, [userId]);
      await c.query(`DELETE FROM friend_requests WHERE from_user_id = $1 OR to_user_id = $1`, [userId]);
      await c.query(`DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1`, [userId]);
      await c.query(`DELETE FROM invites WHERE created_by = $1`, [userId]);
      if (deletion.eraseMessages) {
        // The messages' traces in search, mentions and reactions go with them.
        const sent = `SELECT id FROM messages WHERE sender_id = $1`;
        await c.query(`DELETE FROM message_search WHERE id IN (${sent})`, [userId]);
        await c.query(`DELETE FROM message_mentions WHERE message_id IN (${sent})`, [userId]);
        await c.query(`DELETE FROM message_reactions WHERE message_id IN (${sent})`, [userId]);
        await c.query(`DELETE FROM messages WHERE sender_id = $1`, [userId]);
      }
      return { revokedDeviceIds, entries: await this.#appendLogs(c, timed(deletion.events, at)) };
    });
  }

  async listDevices(userId: string): Promise<DeviceRecord[]> {
    const { rows } = await this.#query<DeviceRecord>(
      `SELECT id, name, created_at AS "createdAt", COALESCE(last_used_at, created_at) AS "lastUsedAt"
       FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id`,
      [userId],
    );
    return rows;
  }

  async figures(sinceMessageId: string): Promise<StoreFigures> {
    const [users, days, size] = await Promise.all([
      this.#query<{ users: string; deactivated: string }>(
        `SELECT COUNT(*) AS users, COUNT(deactivated_at) AS deactivated FROM users WHERE deleted_at IS NULL`,
      ),
      this.#query<{ day: string; count: string }>(
        `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*) AS count FROM messages
         WHERE id >= $1 GROUP BY day ORDER BY day`,
        [sinceMessageId],
      ),
      this.#query<{ bytes: string }>(`SELECT pg_database_size(current_database()) AS bytes`),
    ]);
    return {
      users: Number(users.rows[0]!.users),
      deactivatedUsers: Number(users.rows[0]!.deactivated),
      messagesPerDay: days.rows.map((row) => ({ day: row.day, count: Number(row.count) })),
      storageBytes: Number(size.rows[0]!.bytes),
    };
  }

  // ------------------------------------------------------------ invites

  async createInvite(invite: InviteRecord): Promise<void> {
    await this.#query(
      `INSERT INTO invites (id, code_hash, created_by, created_at, expires_at, max_uses, uses, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        invite.id,
        invite.codeHash,
        invite.createdBy,
        invite.createdAt,
        invite.expiresAt,
        invite.maxUses,
        invite.uses,
        invite.revokedAt ?? null,
      ],
    );
  }

  async findInvite(codeHash: string): Promise<InviteRecord | undefined> {
    const { rows } = await this.#query<InviteRow>(`SELECT ${INVITE_COLUMNS} FROM invites WHERE code_hash = $1`, [
      codeHash,
    ]);
    return rows[0] && toInviteRecord(rows[0]);
  }

  async getInvite(inviteId: string): Promise<InviteRecord | undefined> {
    const { rows } = await this.#query<InviteRow>(`SELECT ${INVITE_COLUMNS} FROM invites WHERE id = $1`, [inviteId]);
    return rows[0] && toInviteRecord(rows[0]);
  }

  async listInvites(createdBy: string | undefined, limit: number): Promise<InviteRecord[]> {
    const { rows } = await this.#query<InviteRow>(
      `SELECT ${INVITE_COLUMNS} FROM invites WHERE $1::bigint IS NULL OR created_by = $1 ORDER BY id DESC LIMIT $2`,
      [createdBy ?? null, limit],
    );
    return rows.map(toInviteRecord);
  }

  async revokeInvite(inviteId: string, at: string): Promise<void> {
    await this.#query(`UPDATE invites SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, [inviteId, at]);
  }

  // ------------------------------------------------------------ blocks

  async changeBlock(change: BlockChange): Promise<{ changed: boolean; entries: LogEntry[] }> {
    return this.#tx(async (c) => {
      const { rowCount } = change.blocked
        ? await c.query(
            `INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
            [change.blockerId, change.blockedId, change.at],
          )
        : await c.query(`DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, [
            change.blockerId,
            change.blockedId,
          ]);
      if (rowCount === 0) return { changed: false, entries: [] };
      return { changed: true, entries: await this.#appendLogs(c, timed(change.events, change.at)) };
    });
  }

  async listBlocks(blockerId: string): Promise<{ userId: string; createdAt: string }[]> {
    const { rows } = await this.#query<{ userId: string; createdAt: string }>(
      `SELECT blocked_id AS "userId", created_at AS "createdAt" FROM blocks WHERE blocker_id = $1
       ORDER BY created_at, blocked_id`,
      [blockerId],
    );
    return rows;
  }

  async blockedEitherWay(a: string, b: string): Promise<boolean> {
    const { rows } = await this.#query(
      `SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)`,
      [a, b],
    );
    return rows.length > 0;
  }

  async blockedPeers(userId: string): Promise<string[]> {
    const { rows } = await this.#query<{ id: string }>(
      `SELECT blocked_id AS id FROM blocks WHERE blocker_id = $1 UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1`,
      [userId],
    );
    return rows.map((row) => row.id);
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const { rows } = await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = $1`, [
      username.toLowerCase(),
    ]);
    return rows[0] && toUserRecord(rows[0]);
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    const { rows } = await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
    return rows[0] && toUserRecord(rows[0]);
  }

  async getUsers(userIds: readonly string[]): Promise<User[]> {
    if (userIds.length === 0) return [];
    const { rows } = await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::bigint[])`, [
      userIds,
    ]);
    return rows.map(toUser);
  }

  async searchUsers(prefix: string, limit: number): Promise<User[]> {
    const pattern = prefix.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`) + '%';
    // username is COLLATE "C", so the unique index serves this prefix scan.
    const { rows } = await this.#query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE username LIKE $1 AND deleted_at IS NULL AND deactivated_at IS NULL
       ORDER BY username LIMIT $2`,
      [pattern, limit],
    );
    return rows.map(toUser);
  }

  async updateProfile(userId: string, patch: ProfilePatch, events: readonly LogAppend[], at: string) {
    return this.#tx(async (c) => {
      const { rows } = await c.query<UserRow>(
        `UPDATE users SET display_name = COALESCE($1, display_name),
                status_text = CASE WHEN $2 THEN $3 ELSE status_text END
         WHERE id = $4 RETURNING ${USER_COLUMNS}`,
        [patch.displayName ?? null, patch.statusText !== undefined, patch.statusText ?? null, userId],
      );
      if (rows[0] === undefined) throw new StoreError('not_found', 'no such user');
      return { user: toUser(rows[0]), entries: await this.#appendLogs(c, timed(events, at)) };
    });
  }

  async createDevice(device: NewDevice): Promise<void> {
    await this.#query(`INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)`, [
      device.id,
      device.userId,
      device.name,
      device.tokenHash,
      device.createdAt,
    ]);
  }

  async findDeviceByTokenHash(tokenHash: string): Promise<DeviceSession | undefined> {
    const { rows } = await this.#query<DeviceSession>(
      `SELECT id AS "deviceId", user_id AS "userId", COALESCE(last_used_at, created_at) AS "lastUsedAt"
       FROM devices WHERE token_hash = $1 AND revoked_at IS NULL
         AND (SELECT deactivated_at FROM users WHERE users.id = devices.user_id) IS NULL`,
      [tokenHash],
    );
    return rows[0];
  }

  async touchDevice(deviceId: string, at: string): Promise<void> {
    await this.#query(`UPDATE devices SET last_used_at = $2 WHERE id = $1`, [deviceId, at]);
  }

  async revokeDevice(deviceId: string): Promise<void> {
    await this.#tx(async (c) => {
      await c.query(`UPDATE devices SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [deviceId]);
      // A logged-out device must not keep receiving notifications.
      await c.query(`DELETE FROM push_subscriptions WHERE device_id = $1`, [deviceId]);
    });
  }

  async setLastSeen(userIds: readonly string[], at: string): Promise<void> {
    if (userIds.length === 0) return;
    await this.#query(`UPDATE users SET last_seen_at = $1 WHERE id = ANY($2::bigint[])`, [at, userIds]);
  }

  async getLastSeen(userIds: readonly string[]): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const { rows } = await this.#query<{ id: string; last_seen_at: string }>(
      `SELECT id, last_seen_at FROM users WHERE id = ANY($1::bigint[]) AND last_seen_at IS NOT NULL`,
      [userIds],
    );
    return new Map(rows.map((row) => [row.id, row.last_seen_at]));
  }

  // ------------------------------------------------------------ friends

  async #friendPair(c: Client | pg.Pool, a: string, b: string): Promise<FriendPair> {
    const [requests, friends] = await Promise.all([
      c.query<FriendRequestRecord>(
        `SELECT ${REQUEST_COLUMNS} FROM friend_requests
         WHERE (from_user_id = $1 AND to_user_id = $2) OR (from_user_id = $2 AND to_user_id = $1) ORDER BY id`,
        [a, b],
      ),
      c.query(`SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2`, [a, b]),
    ]);
    return { friends: friends.rows.length > 0, requests: requests.rows };
  }

  async friendPair(a: string, b: string): Promise<FriendPair> {
    try {
      return await this.#friendPair(this.#pool, a, b);
    } catch (error) {
      throw translate(error);
    }
  }

  async changeFriendPair(change: FriendPairChange): Promise<ConditionalWrite> {
    return this.#tx(async (c) => {
      const [a, b] = change.pair;
      await this.#lockPair(c, a, b);
      if (!samePair(change.expected, await this.#friendPair(c, a, b))) return { status: 'stale' as const };
      if (change.removeRequestIds !== undefined && change.removeRequestIds.length > 0) {
        await c.query(`DELETE FROM friend_requests WHERE id = ANY($1::bigint[])`, [change.removeRequestIds]);
      }
      const request = change.addRequest;
      if (request !== undefined) {
        await c.query(
          `INSERT INTO friend_requests (id, from_user_id, to_user_id, created_at) VALUES ($1, $2, $3, $4)`,
          [request.id, request.fromUserId, request.toUserId, request.createdAt],
        );
      }
      if (change.friends === true) {
        await c.query(
          `INSERT INTO friendships (user_id, friend_id, created_at) VALUES ($1, $2, $3), ($2, $1, $3) ON CONFLICT DO NOTHING`,
          [a, b, change.at],
        );
      } else if (change.friends === false) {
        await c.query(
          `DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)`,
          [a, b],
        );
      }
      return { status: 'applied' as const, entries: await this.#appendLogs(c, timed(change.events, change.at)) };
    });
  }

  async getFriendRequest(requestId: string): Promise<FriendRequestRecord | undefined> {
    const { rows } = await this.#query<FriendRequestRecord>(
      `SELECT ${REQUEST_COLUMNS} FROM friend_requests WHERE id = $1`,
      [requestId],
    );
    return rows[0];
  }

  async listFriendRequests(userId: string) {
    const { rows } = await this.#query<FriendRequestRecord>(
      `SELECT ${REQUEST_COLUMNS} FROM friend_requests WHERE to_user_id = $1 OR from_user_id = $1 ORDER BY id`,
      [userId],
    );
    return {
      incoming: rows.filter((r) => r.toUserId === userId),
      outgoing: rows.filter((r) => r.fromUserId === userId),
    };
  }

  async listFriendIds(userId: string): Promise<string[]> {
    const { rows } = await this.#query<{ friend_id: string }>(
      `SELECT friend_id FROM friendships WHERE user_id = $1 ORDER BY friend_id`,
      [userId],
    );
    return rows.map((row) => row.friend_id);
  }

  async areFriends(a: string, b: string): Promise<boolean> {
    const { rows } = await this.#query(`SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2`, [a, b]);
    return rows.length > 0;
  }

  // ------------------------------------------------------------ channels

  async #members(c: Client | pg.Pool, channelIds: readonly string[]): Promise<Map<string, MemberRecord[]>> {
    const { rows } = await c.query<MemberRecord & { channel_id: string; last_read: string | null }>(
      `SELECT channel_id, user_id AS "userId", role, joined_at AS "joinedAt", last_read_message_id AS last_read
       FROM channel_members WHERE channel_id = ANY($1::bigint[]) ORDER BY channel_id, joined_at, user_id`,
      [channelIds],
    );
    const byChannel = new Map<string, MemberRecord[]>(channelIds.map((id) => [id, []]));
    for (const { channel_id, last_read, ...member } of rows) {
      byChannel.get(channel_id)?.push(last_read === null ? member : { ...member, lastReadMessageId: last_read });
    }
    return byChannel;
  }

  async #channel(c: Client | pg.Pool, channelId: string): Promise<ChannelRecord | undefined> {
    const { rows } = await c.query<ChannelRow>(`SELECT id, kind, name, created_at FROM channels WHERE id = $1`, [
      channelId,
    ]);
    if (rows[0] === undefined) return undefined;
    return toChannelRecord(rows[0], (await this.#members(c, [channelId])).get(channelId) ?? []);
  }

  async #memberIds(c: Client | pg.Pool, channelId: string): Promise<string[]> {
    const { rows } = await c.query<{ user_id: string }>(
      `SELECT user_id FROM channel_members WHERE channel_id = $1 ORDER BY joined_at, user_id`,
      [channelId],
    );
    return rows.map((row) => row.user_id);
  }

  async getOrCreateDm(dm: NewDm, events: readonly LogAppend[]) {
    return this.#tx(async (c) => {
      const [a, b] = dm.members.map((m) => m.userId) as [string, string];
      const key = BigInt(a) < BigInt(b) ? `${a}:${b}` : `${b}:${a}`;
      // A concurrent creator of the same pair makes this wait, then do nothing.
      const inserted = await c.query(
        `INSERT INTO channels (id, kind, dm_key, created_at) VALUES ($1, 'dm', $2, $3)
         ON CONFLICT (dm_key) DO NOTHING RETURNING id`,
        [dm.id, key, dm.createdAt],
      );
      if (inserted.rowCount === 0) {
        const { rows } = await c.query<{ id: string }>(`SELECT id FROM channels WHERE dm_key = $1`, [key]);
        return { channel: (await this.#channel(c, rows[0]!.id))!, entries: [] as LogEntry[] };
      }
      await this.#insertMembers(c, dm.id, dm.members, dm.createdAt);
      const channel = (await this.#channel(c, dm.id))!;
      return { channel, entries: await this.#appendLogs(c, timed(events, dm.createdAt)) };
    });
  }

  async createGroup(group: NewGroup, events: readonly LogAppend[]) {
    return this.#tx(async (c) => {
      await c.query(`INSERT INTO channels (id, kind, name, created_at) VALUES ($1, 'group', $2, $3)`, [
        group.id,
        group.name,
        group.createdAt,
      ]);
      await this.#insertMembers(c, group.id, group.members, group.createdAt);
      const channel = (await this.#channel(c, group.id))!;
      return { channel, entries: await this.#appendLogs(c, timed(events, group.createdAt)) };
    });
  }

  async #insertMembers(c: Client, channelId: string, members: readonly NewMember[], at: string): Promise<void> {
    await c.query(
      `INSERT INTO channel_members (channel_id, user_id, role, joined_at)
       SELECT $1, u.id, u.role, $4 FROM unnest($2::bigint[], $3::text[]) AS u(id, role)`,
      [channelId, members.map((m) => m.userId), members.map((m) => m.role), at],
    );
  }

  async getChannel(channelId: string): Promise<ChannelRecord | undefined> {
    try {
      return await this.#channel(this.#pool, channelId);
    } catch (error) {
      throw translate(error);
    }
  }

  async getRole(channelId: string, userId: string): Promise<MemberRole | undefined> {
    const { rows } = await this.#query<{ role: MemberRole }>(
      `SELECT role FROM channel_members WHERE channel_id = $1 AND user_id = $2`,
      [channelId, userId],
    );
    return rows[0]?.role;
  }

  async memberIds(channelId: string): Promise<string[]> {
    try {
      return await this.#memberIds(this.#pool, channelId);
    } catch (error) {
      throw translate(error);
    }
  }

  async contactSources(userId: string, maxGroupSize: number): Promise<ContactSources> {
    const { rows } = await this.#query<{ source: string; id: string }>(
      `SELECT 'f' AS source, friend_id::text AS id FROM friendships WHERE user_id = $1
       UNION ALL
       SELECT 'd', peer.user_id::text
       FROM channel_members mine
       JOIN channels c ON c.id = mine.channel_id AND c.kind = 'dm'
       JOIN channel_members peer ON peer.channel_id = mine.channel_id AND peer.user_id <> mine.user_id
       WHERE mine.user_id = $1
       UNION ALL
       (SELECT DISTINCT 'g', peer.user_id::text
        FROM channel_members mine
        JOIN channels c ON c.id = mine.channel_id AND c.kind = 'group'
        JOIN channel_members peer ON peer.channel_id = mine.channel_id AND peer.user_id <> mine.user_id
        WHERE mine.user_id = $1
          AND (SELECT count(*) FROM channel_members n WHERE n.channel_id = mine.channel_id) <= $2)
       UNION ALL
       SELECT 'b', blocked_id::text FROM blocks WHERE blocker_id = $1
       UNION ALL
       SELECT 'b', blocker_id::text FROM blocks WHERE blocked_id = $1`,
      [userId, maxGroupSize],
    );
    return contactSourcesOf(rows);
  }

  async listChannelViews(userId: string, page: ChannelViewPage): Promise<ChannelViewRecord[]> {
    const { rows } = await this.#query<
      ChannelRow & {
        last_read: string | null;
        lm_id: string | null;
        lm_sender_id: string | null;
        lm_text: string | null;
        lm_created_at: string | null;
        lm_client_msg_id: string | null;
        lm_edited_at: string | null;
        lm_deleted_at: string | null;
        lm_reply_to_id: string | null;
        lm_reply_to_sender_id: string | null;
        unread: string;
        unread_mentions: string;
        muted: boolean;
      }
    >(
      `SELECT c.id, c.kind, c.name, c.created_at, m.last_read_message_id AS last_read, m.muted,
              lm.id AS lm_id, lm.sender_id AS lm_sender_id, left(lm.text, $4) AS lm_text, lm.created_at AS lm_created_at,
              lm.client_msg_id AS lm_client_msg_id, lm.edited_at AS lm_edited_at, lm.deleted_at AS lm_deleted_at,
              lm.reply_to_id AS lm_reply_to_id, lm.reply_to_sender_id AS lm_reply_to_sender_id,
              CASE WHEN lm.id IS NULL THEN 0 ELSE (
                SELECT count(*) FROM (
                  SELECT 1 FROM messages u
                  WHERE u.channel_id = c.id AND u.id > COALESCE(m.last_read_message_id, 0) AND u.sender_id <> m.user_id
                    AND u.deleted_at IS NULL
                  LIMIT ${UNREAD_CAP}) AS x
              ) END AS unread,
              (SELECT count(*) FROM (
                 SELECT 1 FROM message_mentions mm
                 WHERE mm.user_id = m.user_id AND mm.channel_id = c.id AND mm.message_id > COALESCE(m.last_read_message_id, 0)
                 LIMIT ${UNREAD_CAP}) AS y
              ) AS unread_mentions
       FROM channel_members m
       JOIN channels c ON c.id = m.channel_id
       LEFT JOIN LATERAL (
         SELECT id, sender_id, text, created_at, client_msg_id, edited_at, deleted_at, reply_to_id, reply_to_sender_id
         FROM messages WHERE channel_id = c.id ORDER BY id DESC LIMIT 1
       ) lm ON true
       WHERE m.user_id = $1 AND ($2::bigint IS NULL OR COALESCE(lm.id, c.id) < $2::bigint)
       ORDER BY COALESCE(lm.id, c.id) DESC
       LIMIT $3`,
      [userId, page.before ?? null, page.limit, page.textCodePoints],
    );
    if (rows.length === 0) return [];
    const members = await this.#membersOutside(rows.map((row) => row.id));
    return rows.map((row) => {
      const view: ChannelViewRecord = {
        ...toChannelRecord(row, members.get(row.id) ?? []),
        unreadCount: Number(row.unread),
        unreadMentionCount: Number(row.unread_mentions),
      };
      if (row.lm_id !== null) {
        view.lastMessage = toMessage({
          id: row.lm_id,
          channel_id: row.id,
          sender_id: row.lm_sender_id!,
          text: row.lm_text!,
          created_at: row.lm_created_at!,
          client_msg_id: row.lm_client_msg_id,
          mentions: null,
          edited_at: row.lm_edited_at,
          deleted_at: row.lm_deleted_at,
          reply_to_id: row.lm_reply_to_id,
          reply_to_sender_id: row.lm_reply_to_sender_id,
        });
      }
      if (row.last_read !== null) view.lastReadMessageId = row.last_read;
      if (row.muted) view.muted = true;
      return view;
    });
  }

  async #membersOutside(channelIds: readonly string[]): Promise<Map<string, MemberRecord[]>> {
    try {
      return await this.#members(this.#pool, channelIds);
    } catch (error) {
      throw translate(error);
    }
  }

  async changeChannel(change: ChannelChange): Promise<ConditionalWrite> {
    return this.#tx(async (c) => {
      const { channelId } = change;
      // Locked against concurrent changes (and against message commits, which take KEY SHARE).
      const { rows } = await c.query(`SELECT 1 FROM channels WHERE id = $1 FOR UPDATE`, [channelId]);
      const members = rows.length === 0 ? undefined : (await this.#members(c, [channelId])).get(channelId);
      if (members === undefined || !sameMembers(change.expected, members)) return { status: 'stale' as const };
      if (change.remove !== undefined && change.remove.length > 0) {
        await c.query(`DELETE FROM channel_members WHERE channel_id = $1 AND user_id = ANY($2::bigint[])`, [
          channelId,
          change.remove,
        ]);
      }
      if (change.add !== undefined && change.add.length > 0) {
        await this.#insertMembers(c, channelId, change.add, change.at);
      }
      if (change.roles !== undefined && change.roles.length > 0) {
        await c.query(
          `UPDATE channel_members m SET role = v.role
           FROM unnest($2::bigint[], $3::text[]) AS v(user_id, role)
           WHERE m.channel_id = $1 AND m.user_id = v.user_id`,
          [channelId, change.roles.map((r) => r.userId), change.roles.map((r) => r.role)],
        );
      }
      if (change.name !== undefined) {
        await c.query(`UPDATE channels SET name = $1 WHERE id = $2`, [change.name, channelId]);
      }
      return { status: 'applied' as const, entries: await this.#appendLogs(c, timed(change.events, change.at)) };
    });
  }

  async moveReadCursor(move: ReadCursorMove): Promise<ConditionalWrite> {
    return this.#tx(async (c) => {
      const result = await c.query(
        `UPDATE channel_members SET last_read_message_id = $3
         WHERE channel_id = $1 AND user_id = $2 AND (last_read_message_id IS NULL OR last_read_message_id < $3)`,
        [move.channelId, move.userId, move.to],
      );
      if (result.rowCount === 0) return { status: 'stale' as const };
      return { status: 'applied' as const, entries: await this.#appendLogs(c, timed(move.events, move.at)) };
    });
  }

  // ------------------------------------------------------------ messages

  async appendMessages(batch: readonly NewMessage[]): Promise<AppendResult[]> {
    if (batch.length === 0) return [];
    return this.#tx(async (c) => {
      const key = (senderId: string, clientMsgId: string) => `${senderId}\u0000${clientMsgId}`;
      // 1. Keys stored before (resends).
      const stored = await findOriginals(c, batch);
      // 2. Lock the channels against membership changes (sorted: a fixed order), read members.
      const channelIds = [...new Set(batch.map((m) => m.channelId))];
      const { rows: kinds } = await c.query<{ id: string; kind: string }>(
        `SELECT id::text AS id, kind FROM channels WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE`,
        [channelIds],
      );
      const members = await this.#members(c, channelIds);
      // A DM's two members, for the DMs of this batch: a block between them refuses the message.
      const dmPairs = new Map<string, [string, string]>();
      for (const { id: channelId, kind } of kinds) {
        const pair = members.get(channelId) ?? [];
        if (kind === 'dm' && pair.length === 2) dmPairs.set(channelId, [pair[0]!.userId, pair[1]!.userId]);
      }
      const blockedDms = await blockedChannels(c, dmPairs);
      // 3. Decide each message in input order, as if they were sent one by one.
      const refused = new Map<number, 'not_member' | 'blocked'>();
      const fresh = new Map<string, NewMessage>();
      batch.forEach((input, i) => {
        const k = key(input.senderId, input.clientMsgId);
        if (stored.has(k) || fresh.has(k)) return; // a resend: duplicate
        if (!(members.get(input.channelId) ?? []).some((m) => m.userId === input.senderId))
          refused.set(i, 'not_member');
        else if (blockedDms.has(input.channelId)) refused.set(i, 'blocked');
        else fresh.set(k, input);
      });
      // 4. Claim the idempotency keys; a key claimed meanwhile by another process is a duplicate.
      const created = [...fresh.values()];
      if (created.length > 0) {
        const claimed = await c.query<{ sender_id: string; client_msg_id: string }>(
          `INSERT INTO client_msg_ids (sender_id, client_msg_id, channel_id, message_id)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
           ON CONFLICT DO NOTHING RETURNING sender_id, client_msg_id`,
          [
            created.map((m) => m.senderId),
            created.map((m) => m.clientMsgId),
            created.map((m) => m.channelId),
            created.map((m) => m.id),
          ],
        );
        const won = new Set(claimed.rows.map((row) => key(row.sender_id, row.client_msg_id)));
        const lost = created.filter((m) => !won.has(key(m.senderId, m.clientMsgId)));
        if (lost.length > 0) {
          const originals = await findOriginals(c, lost);
          for (const m of lost) {
            const k = key(m.senderId, m.clientMsgId);
            fresh.delete(k);
            const original = originals.get(k);
            if (original === undefined) throw new StoreError('unavailable', 'idempotency key vanished; retry');
            stored.set(k, original);
          }
        }
      }
      const toInsert = [...fresh.values()];
      // Who each message mentions: of its names, the members of its channel (in the names' order).
      const byName = await usersByName(c, [...new Set(toInsert.flatMap((m) => m.mentionNames ?? []))]);
      const mentioned = new Map<string, string[]>();
      for (const m of toInsert) {
        const memberIds = new Set((members.get(m.channelId) ?? []).map((member) => member.userId));
        const ids = mentionedMembers(m.mentionNames ?? [], byName, memberIds);
        if (ids.length > 0) mentioned.set(m.id, ids);
      }
      if (toInsert.length > 0) {
        await c.query(
          `INSERT INTO messages (channel_id, id, sender_id, text, created_at, client_msg_id, mentions, reply_to_id, reply_to_sender_id)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[],
                                $8::bigint[], $9::bigint[])`,
          [
            toInsert.map((m) => m.channelId),
            toInsert.map((m) => m.id),
            toInsert.map((m) => m.senderId),
            toInsert.map((m) => m.text),
            toInsert.map((m) => m.createdAt),
            toInsert.map((m) => m.clientMsgId),
            toInsert.map((m) => (mentioned.has(m.id) ? JSON.stringify(mentioned.get(m.id)) : null)),
            toInsert.map((m) => m.replyTo?.id ?? null),
            toInsert.map((m) => m.replyTo?.senderId ?? null),
          ],
        );
        await indexMessages(
          c,
          toInsert.map((m) => ({ id: m.id, channelId: m.channelId, tokens: m.searchTokens ?? '' })),
        );
        await recordMentions(
          c,
          toInsert.map((m) => ({ ...m, mentions: mentioned.get(m.id) ?? [] })),
        );
      }
      // 5. Log entries last, one per member per message, in input order.
      const entries = await this.#appendLogs(
        c,
        toInsert.map((m) => ({
          userIds: (members.get(m.channelId) ?? []).map((member) => member.userId),
          type: 'message.created' as const,
          channelId: m.channelId,
          messageId: m.id,
          at: m.createdAt,
        })),
      );
      const entriesByMessage = new Map<string, LogEntry[]>();
      for (const entry of entries) {
        const list = entriesByMessage.get(entry.messageId!) ?? [];
        list.push(entry);
        entriesByMessage.set(entry.messageId!, list);
      }
      return batch.map((input, i): AppendResult => {
        const refusal = refused.get(i);
        if (refusal !== undefined) return { status: refusal };
        const k = key(input.senderId, input.clientMsgId);
        const mine = fresh.get(k);
        if (mine === input) {
          return {
            status: 'created',
            message: storedMessage(input, mentioned.get(input.id)),
            entries: entriesByMessage.get(input.id) ?? [],
          };
        }
        const original = stored.get(k);
        return { status: 'duplicate', message: original ? toMessage(original) : storedMessage(mine!) };
      });
    });
  }

  async listMessages(channelId: string, query: HistoryQuery, maxTextBytes?: number): Promise<Message[]> {
    const { limit } = query;
    const budget = finiteOrNull(maxTextBytes);
    /**
     * Messages of the channel matching `where`, in `order`, at most `limit`, ending at the first
     * whose text brings the texts to `budget` bytes: the running sum is taken over octet_length
     * (no text is read for it), so only the rows that fit leave the database.
     */
    const page = async (
      where: string,
      order: 'ASC' | 'DESC',
      params: unknown[],
      rowLimit: number,
      bytes: number | null,
    ) =>
      (
        await this.#query<MessageRow & { text_bytes: string }>(
          `SELECT ${MESSAGE_COLUMNS}, text_bytes FROM (
             SELECT ${MESSAGE_COLUMNS},
                    SUM(octet_length(text)) OVER (ORDER BY id ${order}) AS text_bytes,
                    SUM(octet_length(text)) OVER (ORDER BY id ${order}) - octet_length(text) AS bytes_before
             FROM messages WHERE channel_id = $1 ${where} ORDER BY id ${order} LIMIT $${params.length + 2}
           ) AS page
           WHERE $${params.length + 3}::bigint IS NULL OR bytes_before < $${params.length + 3}::bigint
           ORDER BY id ${order}`,
          [channelId, ...params, rowLimit, bytes],
        )
      ).rows;
    let rows: (MessageRow & { text_bytes: string })[];
    if ('before' in query) {
      rows = (await page('AND id < $2', 'DESC', [query.before], limit, budget)).reverse();
    } else if ('after' in query) {
      rows = await page('AND id > $2', 'ASC', [query.after], limit, budget);
    } else if ('around' in query) {
      // The target and the older half up to it, the newer half after it.
      const older = await page('AND id <= $2', 'DESC', [query.around], Math.floor(limit / 2) + 1, budget);
      const used = Number(older.at(-1)?.text_bytes ?? 0);
      const left = budget === null ? null : budget - used;
      const newer =
        (left === null || left > 0) && older.length < limit
          ? await page('AND id > $2', 'ASC', [query.around], limit - older.length, left)
          : [];
      rows = [...older.reverse(), ...newer];
    } else {
      rows = (await page('', 'DESC', [], limit, budget)).reverse();
    }
    return rows.map(toMessage);
  }

  async getMessage(channelId: string, messageId: string): Promise<Message | undefined> {
    const { rows } = await this.#query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = $1 AND id = $2`,
      [channelId, messageId],
    );
    return rows[0] && toMessage(rows[0]);
  }

  // ------------------------------------------------------------ search and mentions

  async searchMessages(userId: string, query: MessageSearch): Promise<Message[]> {
    try {
      return (await searchMessages(this.#pool, userId, query)).map(toMessage);
    } catch (error) {
      throw translate(error);
    }
  }

  async mentions(userId: string, page: SearchPageQuery): Promise<Message[]> {
    try {
      return (await mentions(this.#pool, userId, page)).map(toMessage);
    } catch (error) {
      throw translate(error);
    }
  }

  // ------------------------------------------------------------ message changes

  async editMessage(edit: MessageEdit): Promise<MessageChangeResult> {
    return this.#changeText(edit, edit);
  }

  async deleteMessage(del: MessageDelete): Promise<MessageChangeResult> {
    return this.#changeText(del, undefined);
  }

  /**
   * The one place where edits (`edit`) and deletes (`edit` undefined) write a message's text; the
   * search index and the mentions follow it in the same transaction. The old row version stays
   * in the table's pages until VACUUM reclaims it (docs/operations.md).
   */
  async #changeText(
    change: MessageRef & { at: string; events: readonly LogAppend[] },
    edit: MessageEdit | undefined,
  ): Promise<MessageChangeResult> {
    return this.#tx(async (c): Promise<MessageChangeResult> => {
      const { rows } = await c.query<MessageRow>(
        `UPDATE messages SET text = $3, mentions = NULL,
           edited_at = CASE WHEN $4 THEN $5::timestamptz ELSE edited_at END,
           deleted_at = CASE WHEN $4 THEN deleted_at ELSE $5::timestamptz END
         WHERE channel_id = $1 AND id = $2 AND deleted_at IS NULL AND ($6::bigint IS NULL OR sender_id = $6::bigint)
         RETURNING ${MESSAGE_COLUMNS}`,
        [change.channelId, change.messageId, edit?.text ?? '', edit !== undefined, change.at, edit?.senderId ?? null],
      );
      const row = rows[0];
      if (row === undefined) return { status: 'stale' };
      if (edit === undefined) {
        await c.query(`DELETE FROM message_reactions WHERE message_id = $1`, [change.messageId]);
      }
      await unindexMessage(c, change.messageId);
      if (edit !== undefined) {
        await indexMessages(c, [{ id: change.messageId, channelId: change.channelId, tokens: edit.searchTokens }]);
        const byName = await usersByName(c, edit.mentionNames);
        const { rows: members } = await c.query<{ user_id: string }>(
          `SELECT user_id FROM channel_members WHERE channel_id = $1`,
          [change.channelId],
        );
        const memberIds = new Set(members.map((member) => member.user_id));
        const mentions = mentionedMembers(edit.mentionNames, byName, memberIds);
        if (mentions.length > 0) {
          await c.query(`UPDATE messages SET mentions = $2 WHERE id = $1`, [
            change.messageId,
            JSON.stringify(mentions),
          ]);
          await recordMentions(c, [{ ...change, id: change.messageId, senderId: row.sender_id, mentions }]);
          row.mentions = mentions;
        }
      }
      const entries = await this.#appendLogs(c, timed(change.events, change.at));
      return { status: 'applied', message: toMessage(row), entries };
    });
  }

  /** Locks the message (reactions to one message serialize) if it exists and is not deleted. */
  async #lockLive(c: Client, ref: MessageRef): Promise<boolean> {
    const { rows } = await c.query(
      `SELECT 1 FROM messages WHERE channel_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
      [ref.channelId, ref.messageId],
    );
    return rows.length > 0;
  }

  async addReaction(change: ReactionChange) {
    return this.#tx(async (c) => {
      if (!(await this.#lockLive(c, change))) return { status: 'stale' as const };
      const { rows } = await c.query<{ mine: boolean; present: boolean; distinct: string }>(
        `SELECT bool_or(user_id = $2 AND emoji = $3) AS mine, bool_or(emoji = $3) AS present,
                count(DISTINCT emoji) AS distinct
         FROM message_reactions WHERE message_id = $1`,
        [change.messageId, change.userId, change.emoji],
      );
      const state = rows[0]!;
      if (state.mine === true) return { status: 'applied' as const, entries: [] };
      if (
        change.maxDistinctEmoji !== undefined &&
        state.present !== true &&
        Number(state.distinct) >= change.maxDistinctEmoji
      ) {
        return { status: 'stale' as const };
      }
      await c.query(
        `INSERT INTO message_reactions (channel_id, message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4, $5)`,
        [change.channelId, change.messageId, change.userId, change.emoji, change.at],
      );
      return { status: 'applied' as const, entries: await this.#appendLogs(c, timed(change.events, change.at)) };
    });
  }

  async removeReaction(change: ReactionChange) {
    return this.#tx(async (c) => {
      if (!(await this.#lockLive(c, change))) return { status: 'stale' as const };
      const result = await c.query(
        `DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3`,
        [change.messageId, change.userId, change.emoji],
      );
      if ((result.rowCount ?? 0) === 0) return { status: 'applied' as const, entries: [] };
      return { status: 'applied' as const, entries: await this.#appendLogs(c, timed(change.events, change.at)) };
    });
  }

  async listReactions(refs: readonly MessageRef[]): Promise<ReactionRecord[]> {
    if (refs.length === 0) return [];
    const { rows } = await this.#query<ReactionRecord>(
      `SELECT channel_id::text AS "channelId", message_id::text AS "messageId", user_id::text AS "userId", emoji
       FROM message_reactions WHERE message_id = ANY($1::bigint[]) ORDER BY message_id, id`,
      [refs.map((ref) => ref.messageId)],
    );
    return rows;
  }

  async replySources(refs: readonly MessageRef[], codePoints: number) {
    if (refs.length === 0) return [];
    const { rows } = await this.#query<{ id: string; sender_id: string; preview: string; deleted_at: string | null }>(
      `SELECT m.id, m.sender_id, left(m.text, $3) AS preview, m.deleted_at
       FROM unnest($1::bigint[], $2::bigint[]) AS q(channel_id, id)
       JOIN messages m ON m.channel_id = q.channel_id AND m.id = q.id`,
      [refs.map((ref) => ref.channelId), refs.map((ref) => ref.messageId), codePoints],
    );
    return rows.map((row) =>
      row.deleted_at === null
        ? { messageId: row.id, senderId: row.sender_id, preview: row.preview }
        : { messageId: row.id, senderId: row.sender_id },
    );
  }

  async listMessagesBySender(
    senderId: string,
    afterId: string,
    limit: number,
    maxTextBytes: number,
  ): Promise<Message[]> {
    // The sender's idempotency keys serve as an index of their messages (every send has one).
    const { rows } = await this.#query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM (
         SELECT m.id, m.channel_id, m.sender_id, m.text, m.created_at, m.client_msg_id, m.edited_at, m.deleted_at,
                 m.reply_to_id, m.reply_to_sender_id, m.mentions,
                SUM(octet_length(m.text)) OVER (ORDER BY m.id) - octet_length(m.text) AS bytes_before
         FROM client_msg_ids k JOIN messages m ON m.channel_id = k.channel_id AND m.id = k.message_id
         WHERE k.sender_id = $1 AND k.message_id > $2 ORDER BY k.message_id LIMIT $3
       ) AS page WHERE bytes_before < $4 ORDER BY id`,
      [senderId, afterId, limit, maxTextBytes],
    );
    return rows.map(toMessage);
  }

  // ------------------------------------------------------------ update log

  async appendLog(appends: readonly LogAppend[], at: string): Promise<LogEntry[]> {
    return this.#tx((c) => this.#appendLogs(c, timed(appends, at)));
  }

  async readLog(userId: string, afterSeq: number, limit: number, maxTextBytes?: number): Promise<StoredLogEntry[]> {
    const { rows } = await this.#query<
      LogRow & {
        m_sender_id: string | null;
        m_text: string | null;
        m_created_at: string | null;
        m_client_msg_id: string | null;
        m_mentions: string[] | null;
        m_edited_at: string | null;
        m_deleted_at: string | null;
        m_reply_to_id: string | null;
        m_reply_to_sender_id: string | null;
      }
    >(
      // The entries' positions and text sizes first (octet_length reads no text), then the texts
      // of the entries that fit the budget: the first entry whose text reaches it is the last.
      `WITH page AS (
         SELECT l.seq, l.type, l.channel_id, l.message_id, l.data, l.created_at,
                SUM(COALESCE(octet_length(m.text), 0)) OVER (ORDER BY l.seq)
                  - COALESCE(octet_length(m.text), 0) AS bytes_before
         FROM user_log l
         LEFT JOIN messages m ON l.type IN (${MESSAGE_EVENTS}) AND m.channel_id = l.channel_id AND m.id = l.message_id
         WHERE l.user_id = $1 AND l.seq > $2 ORDER BY l.seq LIMIT $3)
       SELECT p.seq, p.type, p.channel_id, p.message_id, p.data, p.created_at,
              m.sender_id AS m_sender_id, m.text AS m_text, m.created_at AS m_created_at, m.client_msg_id AS m_client_msg_id,
              m.edited_at AS m_edited_at, m.deleted_at AS m_deleted_at, m.reply_to_id AS m_reply_to_id,
              m.reply_to_sender_id AS m_reply_to_sender_id, m.mentions AS m_mentions
       FROM page p
       LEFT JOIN messages m ON p.type IN (${MESSAGE_EVENTS}) AND m.channel_id = p.channel_id AND m.id = p.message_id
       WHERE $4::bigint IS NULL OR p.bytes_before < $4::bigint
       ORDER BY p.seq`,
      [userId, afterSeq, limit, finiteOrNull(maxTextBytes)],
    );
    return rows.map((row) => {
      const entry: StoredLogEntry = toLogEntry(userId, row);
      if (row.m_text !== null) {
        entry.message = toMessage({
          id: row.message_id!,
          channel_id: row.channel_id!,
          sender_id: row.m_sender_id!,
          text: row.m_text,
          created_at: row.m_created_at!,
          client_msg_id: row.m_client_msg_id,
          mentions: row.m_mentions,
          edited_at: row.m_edited_at,
          deleted_at: row.m_deleted_at,
          reply_to_id: row.m_reply_to_id,
          reply_to_sender_id: row.m_reply_to_sender_id,
        });
      }
      return entry;
    });
  }

  async logBounds(userId: string): Promise<{ head: number; floor: number }> {
    const { rows } = await this.#query<{ head: string; low: string | null }>(
      `SELECT h.seq AS head, (SELECT min(seq) FROM user_log WHERE user_id = $1) AS low
       FROM user_log_head h WHERE h.user_id = $1`,
      [userId],
    );
    const row = rows[0];
    if (row === undefined) return { head: 0, floor: 0 };
    const head = Number(row.head);
    return { head, floor: (row.low === null ? head + 1 : Number(row.low)) - 1 };
  }

  async trimLog(before: string): Promise<number> {
    let total = 0;
    // In chunks, so a first trim of a large log does not hold one huge transaction.
    for (;;) {
      const result = await this.#query(
        `DELETE FROM user_log WHERE ctid = ANY(ARRAY(SELECT ctid FROM user_log WHERE created_at < $1 LIMIT 10000))`,
        [before],
      );
      total += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < 10_000) return total;
    }
  }

  // ------------------------------------------------------------ push subscriptions

  async savePushSubscription(subscription: PushSubscriptionRecord): Promise<void> {
    await this.#query(
      `INSERT INTO push_subscriptions (endpoint, provider, p256dh, auth, user_id, device_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (endpoint) DO UPDATE SET provider = EXCLUDED.provider, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
         user_id = EXCLUDED.user_id, device_id = EXCLUDED.device_id, created_at = EXCLUDED.created_at`,
      [
        subscription.endpoint,
        subscription.provider,
        subscription.p256dh,
        subscription.auth,
        subscription.userId,
        subscription.deviceId,
        subscription.createdAt,
      ],
    );
  }

  async deletePushSubscription(endpoint: string, userId?: string): Promise<void> {
    if (userId === undefined) await this.#query(`DELETE FROM push_subscriptions WHERE endpoint = $1`, [endpoint]);
    else await this.#query(`DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2`, [endpoint, userId]);
  }

  async deleteDevicePushSubscriptions(deviceId: string): Promise<void> {
    await this.#query(`DELETE FROM push_subscriptions WHERE device_id = $1`, [deviceId]);
  }

  async pushSubscriptions(userIds: readonly string[]): Promise<PushSubscriptionRecord[]> {
    if (userIds.length === 0) return [];
    const { rows } = await this.#query<{
      provider: PushSubscriptionRecord['provider'];
      endpoint: string;
      p256dh: string;
      auth: string;
      user_id: string;
      device_id: string;
      created_at: string;
    }>(
      `SELECT provider, endpoint, p256dh, auth, user_id, device_id, created_at FROM push_subscriptions
       WHERE user_id = ANY($1::bigint[]) ORDER BY created_at, endpoint`,
      [userIds],
    );
    return rows.map((row) => ({
      provider: row.provider,
      endpoint: row.endpoint,
      p256dh: row.p256dh,
      auth: row.auth,
      userId: row.user_id,
      deviceId: row.device_id,
      createdAt: row.created_at,
    }));
  }

  // ------------------------------------------------------------ push outbox and settings

  async enqueuePush(jobs: readonly NewPushJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#query(
      `INSERT INTO push_outbox (user_id, message_id, channel_id, sender_id, preview, mentioned, due_at)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::boolean[], $7::bigint[])
       ON CONFLICT (user_id, message_id) DO NOTHING`,
      [
        jobs.map((j) => j.userId),
        jobs.map((j) => j.messageId),
        jobs.map((j) => j.channelId),
        jobs.map((j) => j.senderId),
        jobs.map((j) => j.preview),
        jobs.map((j) => j.mentioned),
        jobs.map((j) => j.dueAt),
      ],
    );
  }

  /**
   * Claims are serialized across notifiers by a transaction-level advisory lock: a claim is one
   * short statement every poll, and the lock is what keeps two claims from splitting a group.
   */
  async claimPush(claim: PushClaim): Promise<PushOutboxJob[]> {
    const rows = await this.#tx(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('parley:push-claim'))`);
      const { rows } = await c.query<{
        user_id: string;
        channel_id: string;
        message_id: string;
        sender_id: string;
        preview: string;
        mentioned: boolean;
        due_at: string;
        attempts: number;
      }>(
        `UPDATE push_outbox SET lease_owner = $1, lease_until = $3
         WHERE (lease_until IS NULL OR lease_until <= $2)
           AND (user_id, channel_id) IN (
             SELECT user_id, channel_id FROM push_outbox AS o
             WHERE due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
               AND NOT EXISTS (SELECT 1 FROM push_outbox AS l
                               WHERE l.user_id = o.user_id AND l.channel_id = o.channel_id AND l.lease_until > $2)
             GROUP BY user_id, channel_id
             ORDER BY MIN(due_at)
             LIMIT $4)
         RETURNING user_id, channel_id, message_id, sender_id, preview, mentioned, due_at, attempts`,
        [claim.owner, claim.now, claim.leaseUntil, claim.groups],
      );
      return rows;
    });
    return sortJobs(
      rows.map((row) => ({
        userId: row.user_id,
        channelId: row.channel_id,
        messageId: row.message_id,
        senderId: row.sender_id,
        preview: row.preview,
        mentioned: row.mentioned,
        dueAt: Number(row.due_at),
        attempts: row.attempts,
      })),
    );
  }

  async completePush(owner: string, userId: string, messageIds: readonly string[]): Promise<void> {
    await this.#query(
      `DELETE FROM push_outbox WHERE user_id = $1 AND lease_owner = $2 AND message_id = ANY($3::bigint[])`,
      [userId, owner, messageIds],
    );
  }

  async retryPush(
    owner: string,
    userId: string,
    messageIds: readonly string[],
    dueAt: number,
    attempts: number,
  ): Promise<void> {
    await this.#query(
      `UPDATE push_outbox SET lease_owner = NULL, lease_until = NULL, due_at = $4, attempts = $5
       WHERE user_id = $1 AND lease_owner = $2 AND message_id = ANY($3::bigint[])`,
      [userId, owner, messageIds, dueAt, attempts],
    );
  }

  async markPushSent(endpoint: string, messageId: string, at: number): Promise<void> {
    await this.#query(
      `INSERT INTO push_sent (endpoint, message_id, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [endpoint, messageId, at],
    );
  }

  async pushSentTo(endpoints: readonly string[], messageId: string): Promise<Set<string>> {
    if (endpoints.length === 0) return new Set();
    const { rows } = await this.#query<{ endpoint: string }>(
      `SELECT endpoint FROM push_sent WHERE message_id = $1 AND endpoint = ANY($2::text[])`,
      [messageId, endpoints],
    );
    return new Set(rows.map((row) => row.endpoint));
  }

  async trimPushSent(before: number): Promise<number> {
    const result = await this.#query(`DELETE FROM push_sent WHERE sent_at < $1`, [before]);
    return result.rowCount ?? 0;
  }

  async setChannelMuted(change: ChannelSettingsChange): Promise<ConditionalWrite> {
    return this.#tx(async (c) => {
      const result = await c.query(`UPDATE channel_members SET muted = $3 WHERE channel_id = $1 AND user_id = $2`, [
        change.channelId,
        change.userId,
        change.muted,
      ]);
      if (result.rowCount === 0) return { status: 'stale' as const };
      return { status: 'applied' as const, entries: await this.#appendLogs(c, timed(change.events, change.at)) };
    });
  }

  async pushRecipient(userId: string, channelId: string): Promise<PushRecipient | undefined> {
    const { rows } = await this.#query<{ muted: boolean; last_read: string | null; push_previews: boolean }>(
      `SELECT m.muted, m.last_read_message_id AS last_read, u.push_previews
       FROM channel_members m JOIN users u ON u.id = m.user_id
       WHERE m.channel_id = $1 AND m.user_id = $2`,
      [channelId, userId],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const recipient: PushRecipient = { muted: row.muted, previews: row.push_previews };
    if (row.last_read !== null) recipient.lastReadMessageId = row.last_read;
    return recipient;
  }

  async setPushPreviews(userId: string, previews: boolean): Promise<void> {
    await this.#query(`UPDATE users SET push_previews = $2 WHERE id = $1`, [userId, previews]);
  }

  async pushPreviews(userId: string): Promise<boolean> {
    const { rows } = await this.#query<{ push_previews: boolean }>(`SELECT push_previews FROM users WHERE id = $1`, [
      userId,
    ]);
    return rows[0]?.push_previews !== false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

// ------------------------------------------------------------ helpers

type OriginalRow = MessageRow & { key_sender_id: string; key_client_msg_id: string };

/** The stored messages of these (sender, clientMsgId) keys, by key. */
async function findOriginals(
  c: Client,
  inputs: readonly { senderId: string; clientMsgId: string }[],
): Promise<Map<string, MessageRow>> {
  const { rows } = await c.query<OriginalRow>(
    `SELECT k.sender_id AS key_sender_id, k.client_msg_id AS key_client_msg_id,
            m.id, m.channel_id, m.sender_id, m.text, m.created_at, m.client_msg_id, m.edited_at, m.deleted_at,
            m.reply_to_id, m.reply_to_sender_id, m.mentions
     FROM unnest($1::bigint[], $2::text[]) AS q(sender_id, client_msg_id)
     JOIN client_msg_ids k ON k.sender_id = q.sender_id AND k.client_msg_id = q.client_msg_id
     JOIN messages m ON m.channel_id = k.channel_id AND m.id = k.message_id`,
    [inputs.map((i) => i.senderId), inputs.map((i) => i.clientMsgId)],
  );
  return new Map(rows.map((row) => [`${row.key_sender_id}\u0000${row.key_client_msg_id}`, row]));
}

/** Of these DMs (channelId -> its two members), the ones with a block between the two, either way. */
async function blockedChannels(
  c: Client,
  dmPairs: ReadonlyMap<string, readonly [string, string]>,
): Promise<Set<string>> {
  if (dmPairs.size === 0) return new Set();
  const channelIds = [...dmPairs.keys()];
  const { rows } = await c.query<{ channel_id: string }>(
    `SELECT q.channel_id::text AS channel_id FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS q(channel_id, a, b)
     WHERE EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = q.a AND blocked_id = q.b) OR (blocker_id = q.b AND blocked_id = q.a))`,
    [channelIds, channelIds.map((id) => dmPairs.get(id)![0]), channelIds.map((id) => dmPairs.get(id)![1])],
  );
  return new Set(rows.map((row) => row.channel_id));
}

/** The domain's appends, all at one time. */
function timed(appends: readonly LogAppend[], at: string): TimedAppend[] {
  return appends.map((append) => ({ ...append, at }));
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function pgCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

function isRetryable(error: unknown): boolean {
  const code = pgCode(error);
  return code === '40001' || code === '40P01';
}

/** Driver errors become StoreError kinds; nothing driver-typed leaves this module. */
export function translate(error: unknown): Error {
  if (error instanceof StoreError) return error;
  const code = pgCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === '23505') return new StoreError('conflict', `already exists: ${message}`, { cause: error });
  if (code === '23503') return new StoreError('not_found', message, { cause: error });
  if (
    code === undefined ||
    code.startsWith('08') || // connection exceptions
    code.startsWith('53') || // insufficient resources (too many connections)
    code.startsWith('57') || // operator intervention (shutdown, cancel)
    code.startsWith('40') || // deadlock / serialization failure after retries
    code === '25006' || // read-only transaction: writing to a replica after failover
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|timeout|Connection terminated|not queryable/i.test(message)
  ) {
    return new StoreError('unavailable', `postgres unavailable: ${message}`, { cause: error });
  }
  // A bug (bad SQL, bad parameter): keep the cause, but as a plain Error.
  return new Error(`postgres: ${message}`, { cause: error });
}

/** A byte budget as a query parameter: NULL for none. */
function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}
