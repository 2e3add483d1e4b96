/**
 * The writer: the one connection that writes to the database, with everything its writes
 * remember (writes.ts), the crash recovery it runs when it opens, and the durability order of
 * message batches (README.md). It implements STORE_ROUTES' 'writer' methods; its `reads` are
 * the reader's methods over its own connection. A server runs it on the writer thread
 * (writer-worker.ts); ':memory:' and tests run it on their own thread (sqlite-store.ts).
 *
 * better-sqlite3 is synchronous: each method runs to completion inside one transaction, which is
 * also what makes per-user seq allocation gap-free here (one writer).
 */
import Database from 'better-sqlite3';
import {
  StoreError,
  type AccountChange,
  type AccountDeletion,
  type AppendResult,
  type BlockChange,
  type CreateUserResult,
  type InviteRecord,
  type ChannelChange,
  type ConditionalWrite,
  type FriendPairChange,
  type LogAppend,
  type LogEntry,
  type NewDevice,
  type NewDm,
  type NewGroup,
  type NewMember,
  type NewMessage,
  type NewUser,
  type ProfilePatch,
  type ReadCursorMove,
  type StoredLogEntry,
} from '../../ports/store.js';
import type {
  MessageChangeResult,
  MessageDelete,
  MessageEdit,
  MessageRef,
  ReactionChange,
} from '../../ports/message-changes.js';
import type {
  ChannelSettingsChange,
  NewPushJob,
  PushClaim,
  PushOutboxJob,
  PushSubscriptionRecord,
} from '../../ports/push.js';
import { sameMembers, samePair, sortJobs, toUser, type UserRow } from '../sql-rows.js';
import { applyAccountChange, insertUser, revokeDevicesOf } from './accounts-sql.js';
import { JSON_IDS, MESSAGE_COLUMNS, openDatabase, type SqliteMessageRow } from './connection.js';
import { LongTexts, longTextBytes, TextsOnDiskMark, type TextPlace } from './long-texts.js';
import { SqliteReader, USER_COLUMNS } from './reader.js';
import type { WriterSide } from './routes.js';
import type { SqliteStoreOptions } from './options.js';
import { migrations } from './schema.js';
import { newestMessageId, readMark, writeMark } from './store-meta.js';
import { SqliteCheckpointThread } from './threads.js';
import { WalSync } from './wal-sync.js';
import { appendLog, appendMessages, WriterSession, type LogNews } from './writes.js';
import { indexMessage, recordMentions, unindexMessage } from './search-index.js';

function dmKey(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * A committed transaction survives a crash of the process or the machine: synchronous=FULL, and
 * for message batches an fdatasync of the WAL (and of the long-text file) before they are acked.
 */
export class SqliteWriter implements WriterSide {
  readonly #db: Database.Database;
  readonly #session: WriterSession;
  readonly #checkpointer: SqliteCheckpointThread | undefined;
  readonly #walSync: WalSync | undefined;
  /** Settles when the last message batch's statements are done (the next may start). */
  #commitTurn: Promise<void> = Promise.resolve();
  /** Settles when the last message batch is on disk. Never rejects. */
  #lastSync: Promise<void> = Promise.resolve();
  /** How far the long texts are on disk; undefined where there is no long-text file to write. */
  #textsMark: TextsOnDiskMark | undefined;
  /** The reads, on this connection (its member lists cached: writes.ts). */
  readonly reads: SqliteReader;

  constructor(options: SqliteStoreOptions) {
    this.#db = openDatabase(options.path);
    const onDisk = options.path !== ':memory:';
    const longTexts = onDisk ? new LongTexts(options.path, true) : undefined;
    this.#session = new WriterSession(this.#db, longTexts, options.logMoveAfterMs);
    this.reads = new SqliteReader(this.#session);
    // Crash recovery (README.md, "Start-up and crash recovery"), in this order.
    this.#migrate();
    if (longTexts !== undefined) this.#textsMark = new TextsOnDiskMark(this.#removeMessagesWithLostTexts(longTexts));
    this.#tx(() => this.#session.clientMsgIds.recover());
    this.#tx(() => this.#session.pendingLog.moveAll());
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
        unindexMessage(this.#session, String(row.id));
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

  async createUser(user: NewUser): Promise<CreateUserResult> {
    return this.#tx(() => insertUser(this.#session, user));
  }

  async changeAccount(change: AccountChange): Promise<{ revokedDeviceIds: string[] }> {
    return this.#tx(() => applyAccountChange(this.#session, change));
  }

  async deleteAccount(deletion: AccountDeletion): Promise<{ revokedDeviceIds: string[]; entries: LogEntry[] }> {
    if (!deletion.eraseMessages) return this.#deleteAccount(deletion, []);
    // As for a deleted message (#changeText): freed pages zeroed, long texts overwritten after the commit.
    const erase: TextPlace[] = [];
    const secureDelete = this.#db.pragma('secure_delete', { simple: true }) as number;
    this.#db.pragma('secure_delete = ON');
    let result: { revokedDeviceIds: string[]; entries: LogEntry[] };
    try {
      result = this.#deleteAccount(deletion, erase);
    } finally {
      this.#db.pragma(`secure_delete = ${secureDelete}`);
    }
    // Only once committed: a rolled-back delete still points at these texts.
    for (const place of erase) this.#session.longTexts?.erase(place);
    return result;
  }

  #deleteAccount(deletion: AccountDeletion, erase: TextPlace[]): { revokedDeviceIds: string[]; entries: LogEntry[] } {
    return this.#tx(() => {
      const { userId, at } = deletion;
      const found = this.#sql(
        `UPDATE users SET username = 'deleted-' || id, display_name = 'Deleted user', status_text = NULL,
           password_hash = '', role = 'member', deleted_at = ? WHERE id = ? RETURNING 1`,
      ).get(at, userId);
      if (found === undefined) throw new StoreError('not_found', 'no such user');
      const revokedDeviceIds = revokeDevicesOf(this.#session, userId, at);
      this.#sql(`DELETE FROM push_subscriptions WHERE user_id = ?`).run(userId);
      this.#sql(`DELETE FROM friendships WHERE user_id = @u OR friend_id = @u`).run({ u: userId });
      this.#sql(`DELETE FROM friend_requests WHERE from_user_id = @u OR to_user_id = @u`).run({ u: userId });
      this.#sql(`DELETE FROM blocks WHERE blocker_id = @u OR blocked_id = @u`).run({ u: userId });
      this.#sql(`DELETE FROM invites WHERE created_by = ?`).run(userId);
      if (deletion.eraseMessages) {
        const sent = this.#sql(
          `SELECT CAST(id AS TEXT) AS id, text_at, text_bytes FROM messages WHERE sender_id = ?`,
        ).all(userId) as { id: string; text_at: number | null; text_bytes: number | null }[];
        for (const message of sent) {
          unindexMessage(this.#session, message.id);
          if (message.text_at !== null && message.text_bytes !== null) {
            erase.push({ at: message.text_at, bytes: message.text_bytes });
          }
        }
        this.#sql(
          `DELETE FROM message_reactions WHERE message_id IN (SELECT id FROM messages WHERE sender_id = ?)`,
        ).run(userId);
        this.#sql(`DELETE FROM messages WHERE sender_id = ?`).run(userId);
      }
      return { revokedDeviceIds, entries: this.#appendAll(deletion.events, at) };
    });
  }

  // ------------------------------------------------------------ invites

  async createInvite(invite: InviteRecord): Promise<void> {
    this.#sql(
      `INSERT INTO invites (id, code_hash, created_by, created_at, expires_at, max_uses, uses, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      invite.id,
      invite.codeHash,
      invite.createdBy,
      invite.createdAt,
      invite.expiresAt,
      invite.maxUses,
      invite.uses,
      invite.revokedAt ?? null,
    );
  }

  async revokeInvite(inviteId: string, at: string): Promise<void> {
    this.#sql(`UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(at, inviteId);
  }

  // ------------------------------------------------------------ blocks

  async changeBlock(change: BlockChange): Promise<{ changed: boolean; entries: LogEntry[] }> {
    return this.#tx(() => {
      const result = change.blocked
        ? this.#sql(`INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)`).run(
            change.blockerId,
            change.blockedId,
            change.at,
          )
        : this.#sql(`DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?`).run(
            change.blockerId,
            change.blockedId,
          );
      if (result.changes === 0) return { changed: false, entries: [] };
      return { changed: true, entries: this.#appendAll(change.events, change.at) };
    });
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

  // ------------------------------------------------------------ friends

  async changeFriendPair(change: FriendPairChange): Promise<ConditionalWrite> {
    return this.#tx(() => {
      const [a, b] = change.pair;
      if (!samePair(change.expected, this.reads.readFriendPair(a, b))) return { status: 'stale' as const };
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

  // ------------------------------------------------------------ channels

  async getOrCreateDm(dm: NewDm, events: readonly LogAppend[]) {
    return this.#tx(() => {
      const key = dmKey(dm.members[0].userId, dm.members[1].userId);
      const existing = this.#sql(`SELECT CAST(id AS TEXT) AS id FROM channels WHERE dm_key = ?`).get(key) as
        { id: string } | undefined;
      if (existing !== undefined) return { channel: this.reads.readChannel(existing.id)!, entries: [] as LogEntry[] };
      this.#sql(`INSERT INTO channels (id, kind, dm_key, created_at) VALUES (?, 'dm', ?, ?)`).run(
        dm.id,
        key,
        dm.createdAt,
      );
      this.#insertMembers(dm.id, dm.members, dm.createdAt);
      const entries = this.#appendAll(events, dm.createdAt);
      return { channel: this.reads.readChannel(dm.id)!, entries };
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
      return { channel: this.reads.readChannel(group.id)!, entries };
    });
  }

  #insertMembers(channelId: string, members: readonly NewMember[], at: string): void {
    const insert = this.#sql(`INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`);
    for (const member of members) insert.run(channelId, member.userId, member.role, at);
    this.#session.forgetMembers(channelId);
  }

  async changeChannel(change: ChannelChange): Promise<ConditionalWrite> {
    return this.#tx(() => {
      const { channelId } = change;
      const exists = this.#sql(`SELECT 1 FROM channels WHERE id = ?`).get(channelId) !== undefined;
      if (!exists || !sameMembers(change.expected, this.reads.readMembers(channelId)))
        return { status: 'stale' as const };
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
         WHERE channel_id = @channelId AND user_id = @userId
           AND (last_read_message_id IS NULL OR last_read_message_id < @to)`,
      ).run({ to: move.to, channelId: move.channelId, userId: move.userId });
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

  // ------------------------------------------------------------ message changes

  async editMessage(edit: MessageEdit): Promise<MessageChangeResult> {
    return this.#changeText(edit, edit);
  }

  async deleteMessage(del: MessageDelete): Promise<MessageChangeResult> {
    return this.#changeText(del, undefined);
  }

  /**
   * The one place where edits (`text`) and deletes (`text` undefined) write a message's text.
   * The old text is erased where it was: with secure_delete the freed bytes of the row's page
   * are zeroed, and a long text's bytes in the long-text file are overwritten (after the commit,
   * once no row points at them). The search index and the mentions follow the text.
   */
  #changeText(
    change: MessageRef & { at: string; events: readonly LogAppend[] },
    edit: MessageEdit | undefined,
  ): MessageChangeResult {
    const text = edit?.text;
    const senderId = edit?.senderId;
    const erase: TextPlace[] = [];
    const secureDelete = this.#db.pragma('secure_delete', { simple: true }) as number;
    this.#db.pragma('secure_delete = ON');
    let result: MessageChangeResult;
    try {
      result = this.#tx((): MessageChangeResult => {
        const row = this.#sql(
          `SELECT CAST(sender_id AS TEXT) AS sender_id, text_at, text_bytes FROM messages
           WHERE id = ? AND channel_id = ? AND deleted_at IS NULL`,
        ).get(change.messageId, change.channelId) as
          { sender_id: string; text_at: number | null; text_bytes: number | null } | undefined;
        if (row === undefined || (senderId !== undefined && row.sender_id !== senderId)) return { status: 'stale' };
        if (row.text_at !== null && row.text_bytes !== null) erase.push({ at: row.text_at, bytes: row.text_bytes });
        this.#sql(
          `UPDATE messages SET text = ?, text_at = NULL, text_bytes = NULL, text_crc = NULL,
             edited_at = CASE WHEN ? THEN ? ELSE edited_at END, deleted_at = CASE WHEN ? THEN deleted_at ELSE ? END
           WHERE id = ?`,
        ).run(
          text ?? '',
          text === undefined ? 0 : 1,
          change.at,
          text === undefined ? 0 : 1,
          change.at,
          change.messageId,
        );
        if (text === undefined) this.#sql(`DELETE FROM message_reactions WHERE message_id = ?`).run(change.messageId);
        unindexMessage(this.#session, change.messageId);
        let mentions: string[] = [];
        if (edit !== undefined) {
          indexMessage(this.#session, change.messageId, edit.searchTokens);
          const message = { id: change.messageId, channelId: change.channelId, senderId: row.sender_id };
          mentions = recordMentions(
            this.#session,
            message,
            edit.mentionNames,
            this.#session.memberIds(change.channelId),
          );
        }
        this.#sql(`UPDATE messages SET mentions = ? WHERE id = ?`).run(
          mentions.length > 0 ? JSON.stringify(mentions) : null,
          change.messageId,
        );
        const entries = this.#appendAll(change.events, change.at);
        const updated = this.#sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(
          change.messageId,
        ) as SqliteMessageRow;
        return { status: 'applied', message: this.#session.toMessage(updated), entries };
      });
    } finally {
      this.#db.pragma(`secure_delete = ${secureDelete}`);
    }
    for (const place of erase) this.#session.longTexts?.erase(place);
    return result;
  }

  /** Whether the message exists in the channel and is not deleted (inside a transaction). */
  #live(ref: MessageRef): boolean {
    return (
      this.#sql(`SELECT 1 FROM messages WHERE id = ? AND channel_id = ? AND deleted_at IS NULL`).get(
        ref.messageId,
        ref.channelId,
      ) !== undefined
    );
  }

  async addReaction(change: ReactionChange) {
    return this.#tx(() => {
      if (!this.#live(change)) return { status: 'stale' as const };
      const { messageId, userId, emoji } = change;
      const has = this.#sql(`SELECT 1 FROM message_reactions WHERE message_id = ? AND user_id = ? AND emoji = ?`);
      if (has.get(messageId, userId, emoji) !== undefined) return { status: 'applied' as const, entries: [] };
      if (change.maxDistinctEmoji !== undefined) {
        const present = this.#sql(`SELECT 1 FROM message_reactions WHERE message_id = ? AND emoji = ? LIMIT 1`);
        const distinct = this.#sql(`SELECT COUNT(DISTINCT emoji) AS n FROM message_reactions WHERE message_id = ?`);
        if (
          present.get(messageId, emoji) === undefined &&
          (distinct.get(messageId) as { n: number }).n >= change.maxDistinctEmoji
        ) {
          return { status: 'stale' as const };
        }
      }
      this.#sql(`INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)`).run(
        messageId,
        userId,
        emoji,
        change.at,
      );
      return { status: 'applied' as const, entries: this.#appendAll(change.events, change.at) };
    });
  }

  async removeReaction(change: ReactionChange) {
    return this.#tx(() => {
      if (!this.#live(change)) return { status: 'stale' as const };
      const removed = this.#sql(`DELETE FROM message_reactions WHERE message_id = ? AND user_id = ? AND emoji = ?`).run(
        change.messageId,
        change.userId,
        change.emoji,
      ).changes;
      if (removed === 0) return { status: 'applied' as const, entries: [] };
      return { status: 'applied' as const, entries: this.#appendAll(change.events, change.at) };
    });
  }

  // ------------------------------------------------------------ update log

  async appendLog(appends: readonly LogAppend[], at: string): Promise<LogEntry[]> {
    return this.#tx(() => this.#appendAll(appends, at));
  }

  /**
   * What is stored, then what is still pending (pending-log.ts). Only the writing instance knows
   * the pending entries, so it is a writer method (routes.ts).
   */
  async readLog(userId: string, afterSeq: number, limit: number, maxTextBytes?: number): Promise<StoredLogEntry[]> {
    return this.#session.pendingLog.read(userId, afterSeq, limit, maxTextBytes);
  }

  /** Like readLog, routed to the writer thread: pending entries count. */
  async logBounds(userId: string): Promise<{ head: number; floor: number }> {
    const head = this.#session.logHead(userId);
    // An empty log (head 0: trimming keeps each user's newest entry) needs no oldest-seq query.
    const oldest = head === 0 ? undefined : this.#session.oldestLogSeq(userId);
    return { head, floor: (oldest ?? head + 1) - 1 };
  }

  /** Starts gathering the update log's news (WriterSession.takeLogNews), for the writer thread. */
  reportLogNews(): void {
    this.#session.reportLogNews();
  }

  takeLogNews(): LogNews {
    return this.#session.takeLogNews();
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
      this.#session.logTrimmed();
      return chunks.reduce((sum, chunk) => sum + chunk.n, rows);
    });
  }

  // ------------------------------------------------------------ push subscriptions

  async savePushSubscription(subscription: PushSubscriptionRecord): Promise<void> {
    this.#sql(
      `INSERT INTO push_subscriptions (endpoint, provider, p256dh, auth, user_id, device_id, created_at)
       VALUES (@endpoint, @provider, @p256dh, @auth, @userId, @deviceId, @createdAt)
       ON CONFLICT (endpoint) DO UPDATE SET provider = excluded.provider, p256dh = excluded.p256dh, auth = excluded.auth,
         user_id = excluded.user_id, device_id = excluded.device_id, created_at = excluded.created_at`,
    ).run(subscription);
  }

  async deletePushSubscription(endpoint: string, userId?: string): Promise<void> {
    if (userId === undefined) this.#sql(`DELETE FROM push_subscriptions WHERE endpoint = ?`).run(endpoint);
    else this.#sql(`DELETE FROM push_subscriptions WHERE endpoint = ? AND user_id = ?`).run(endpoint, userId);
  }

  async deleteDevicePushSubscriptions(deviceId: string): Promise<void> {
    this.#sql(`DELETE FROM push_subscriptions WHERE device_id = ?`).run(deviceId);
  }

  // ------------------------------------------------------------ push outbox and settings

  async enqueuePush(jobs: readonly NewPushJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const insert = this.#sql(
      `INSERT INTO push_outbox (user_id, message_id, channel_id, sender_id, preview, mentioned, due_at)
       VALUES (@userId, @messageId, @channelId, @senderId, @preview, @mentioned, @dueAt)
       ON CONFLICT (user_id, message_id) DO NOTHING`,
    );
    this.#tx(() => {
      for (const job of jobs) insert.run({ ...job, mentioned: job.mentioned ? 1 : 0 });
    });
  }

  /** One writer: a claim is one statement, so no two claims can split a group. */
  async claimPush(claim: PushClaim): Promise<PushOutboxJob[]> {
    const rows = this.#sql(
      `UPDATE push_outbox SET lease_owner = @owner, lease_until = @leaseUntil
       WHERE (lease_until IS NULL OR lease_until <= @now)
         AND (user_id, channel_id) IN (
           SELECT user_id, channel_id FROM push_outbox AS o
           WHERE due_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
             AND NOT EXISTS (SELECT 1 FROM push_outbox AS l
                             WHERE l.user_id = o.user_id AND l.channel_id = o.channel_id AND l.lease_until > @now)
           GROUP BY user_id, channel_id
           ORDER BY MIN(due_at)
           LIMIT @groups)
       RETURNING CAST(user_id AS TEXT) AS userId, CAST(channel_id AS TEXT) AS channelId,
         CAST(message_id AS TEXT) AS messageId, CAST(sender_id AS TEXT) AS senderId, preview,
         mentioned, due_at AS dueAt, attempts`,
    ).all(claim) as (Omit<PushOutboxJob, 'mentioned'> & { mentioned: number })[];
    return sortJobs(rows.map((row) => ({ ...row, mentioned: row.mentioned === 1 })));
  }

  async completePush(owner: string, userId: string, messageIds: readonly string[]): Promise<void> {
    this.#sql(`DELETE FROM push_outbox WHERE user_id = ? AND lease_owner = ? AND message_id IN ${JSON_IDS}`).run(
      userId,
      owner,
      JSON.stringify(messageIds),
    );
  }

  async retryPush(
    owner: string,
    userId: string,
    messageIds: readonly string[],
    dueAt: number,
    attempts: number,
  ): Promise<void> {
    this.#sql(
      `UPDATE push_outbox SET lease_owner = NULL, lease_until = NULL, due_at = ?, attempts = ?
       WHERE user_id = ? AND lease_owner = ? AND message_id IN ${JSON_IDS}`,
    ).run(dueAt, attempts, userId, owner, JSON.stringify(messageIds));
  }

  async markPushSent(endpoint: string, messageId: string, at: number): Promise<void> {
    this.#sql(`INSERT INTO push_sent (endpoint, message_id, sent_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`).run(
      endpoint,
      messageId,
      at,
    );
  }

  async trimPushSent(before: number): Promise<number> {
    return this.#sql(`DELETE FROM push_sent WHERE sent_at < ?`).run(before).changes;
  }

  async setChannelMuted(change: ChannelSettingsChange): Promise<ConditionalWrite> {
    return this.#tx(() => {
      const result = this.#sql(`UPDATE channel_members SET muted = ? WHERE channel_id = ? AND user_id = ?`).run(
        change.muted ? 1 : 0,
        change.channelId,
        change.userId,
      );
      if (result.changes === 0) return { status: 'stale' as const };
      return { status: 'applied' as const, entries: this.#appendAll(change.events, change.at) };
    });
  }

  async setPushPreviews(userId: string, previews: boolean): Promise<void> {
    this.#sql(`UPDATE users SET push_previews = ? WHERE id = ?`).run(previews ? 1 : 0, userId);
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
