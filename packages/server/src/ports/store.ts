/**
 * The durable store, as one port per aggregate: AccountStore, FriendStore, ChannelStore,
 * MessageStore, LogStore (the update log), and PushSubscriptionStore, PushOutboxStore and
 * PushSettingsStore (push.ts). Each domain
 * service takes only the ports it uses; only the composition root (app.ts) holds a whole
 * `Store`, which one backend implements (one connection pool, one transaction per call).
 *
 * The domain decides (who may do what, group size, roles, owner succession, friendship
 * transitions) and builds every log entry (`LogAppend`); a backend persists the change and those
 * entries, enforces uniqueness and allocates seqs. It restates no rule: a change decided on a
 * state that has changed since is not applied (`stale`), and the domain decides again.
 *
 * What every port promises (each port's own contract is written on it, and pinned by its suite
 * in ./contract/, run against every backend; ./contract/store.contract.ts runs them all and
 * writes every event type through a whole store):
 * - Every method that returns log entries commits its change and those entries in ONE
 *   transaction; the domain publishes them only after the promise resolves (publish after commit).
 * - Ids are decimal strings of 64-bit integers; ordering by id means numeric ordering.
 * - Times are ISO-8601 strings.
 * - Failures are thrown as StoreError with a stable kind (never a driver error).
 */
import type { ChannelKind, EventType, MemberRole, Message, ReplyRef, User, UserRole } from '@parley/protocol';
import type { MessageChangeStore } from './message-changes.js';
import type { PushOutboxStore, PushSettingsStore, PushSubscriptionStore } from './push.js';
import type { SearchStore } from './search.js';

/** No kind for broken rules (a full group, a forbidden change): the domain decides those, not a store. */
export type StoreErrorKind = 'conflict' | 'not_found' | 'unavailable';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One row of a user's update log, as stored. `data` holds small event-specific fields. */
export interface LogEntry {
  userId: string;
  seq: number;
  type: EventType;
  channelId?: string;
  messageId?: string;
  /** Event fields that are not ids: e.g. read.updated's userId, member.added's userId. */
  data?: Record<string, string>;
  createdAt: string;
}

/**
 * A log entry read back, with its message joined in for message.created, message.updated and
 * message.deleted: the message as it is when read (edited, or a tombstone), without reactions
 * or a reply preview (the domain adds those for the reader).
 */
export interface StoredLogEntry extends LogEntry {
  message?: Message;
}

/**
 * What the domain asks to append to users' logs (seq is assigned by the store), one entry per
 * user in `userIds`, in that order. Built only by domain/log-appends.ts.
 */
export interface LogAppend {
  userIds: readonly string[];
  type: EventType;
  channelId?: string;
  messageId?: string;
  data?: Record<string, string>;
}

/**
 * The outcome of a change the domain decided on a state it read: `applied` with its committed
 * log entries, or `stale` (nothing written) when that state had changed by the time of the write.
 */
export type ConditionalWrite = { status: 'applied'; entries: LogEntry[] } | { status: 'stale' };

// ---------------------------------------------------------------- accounts

export interface UserRecord extends User {
  passwordHash: string;
  createdAt: string;
  lastSeenAt?: string;
  role: UserRole;
  /** Set while the account is deactivated: it cannot sign in and its tokens find nothing. */
  deactivatedAt?: string;
  /** Set once the account was deleted (the row stays, anonymised, so its messages have a sender). */
  deletedAt?: string;
}

/** One use of an invite, decided by the domain on the invite's `uses` as it read them. */
export interface InviteUse {
  inviteId: string;
  /** The uses the domain read; the use is taken (uses + 1) only if they are still this many. */
  expectedUses: number;
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  createdAt: string;
  /** 'member' when absent. */
  role?: UserRole;
  /** The user becomes 'admin' if no other user exists at the moment of the commit (decided there). */
  adminIfFirst?: boolean;
  /** Created only if no other user exists at the moment of the commit (`stale` otherwise). */
  onlyIfFirst?: boolean;
  /** The invite the sign-up redeems, consumed in the same transaction. */
  invite?: InviteUse;
}

/**
 * `created` with the role the user got; `stale` (nothing written) when the invite's uses were no
 * longer `expectedUses` (another sign-up took one meanwhile) or the invite is gone or revoked, or
 * with `onlyIfFirst` when another user exists.
 */
export type CreateUserResult = { status: 'created'; role: UserRole } | { status: 'stale' };

/** A live (not revoked) device of a user. */
export interface DeviceRecord {
  id: string;
  name: string;
  createdAt: string;
  /** The last touchDevice, or the creation if never. */
  lastUsedAt: string;
}

/**
 * An account change, decided by the domain (domain/accounts.ts, domain/admin.ts), written in one
 * transaction: the password, role and deactivation as given, then the revocation of the user's
 * live devices (all of them, or all but `revokeDevices.except`).
 */
export interface AccountChange {
  userId: string;
  passwordHash?: string;
  role?: UserRole;
  /** A time deactivates; null reactivates. */
  deactivatedAt?: string | null;
  revokeDevices?: { except?: string };
  at: string;
}

/**
 * Deleting an account, decided by the domain: the user row stays (so messages keep a sender)
 * but is anonymised (username `deleted-<id>`, display name "Deleted user", no status, no
 * password); every device is revoked, friendships, friend requests, blocks (both ways), push
 * subscriptions and invites created by the user are removed; with `eraseMessages`, every
 * message the user sent is removed too, with its text wherever it was stored, its place in the
 * search index and in mentions, and its reactions. `events` go in the same transaction.
 */
export interface AccountDeletion {
  userId: string;
  eraseMessages: boolean;
  at: string;
  events: readonly LogAppend[];
}

/** A page of accounts by username (administration). */
export interface AccountPage {
  /** Usernames starting with this ('' = all). */
  prefix: string;
  /** Usernames after this one (the previous page's last). */
  after?: string;
  limit: number;
}

/** Raw figures for the server statistics. */
export interface StoreFigures {
  /** Accounts that are not deleted. */
  users: number;
  deactivatedUsers: number;
  /** Messages per UTC day (YYYY-MM-DD) with an id >= `sinceMessageId`, only days that have any. */
  messagesPerDay: { day: string; count: number }[];
  storageBytes: number;
}

export interface ProfilePatch {
  displayName?: string;
  /** null clears the status. */
  statusText?: string | null;
}

export interface NewDevice {
  id: string;
  userId: string;
  name: string;
  tokenHash: string;
  createdAt: string;
}

export interface DeviceRef {
  deviceId: string;
  userId: string;
}

/** A live device as its token finds it, with when the token was last used (renewed). */
export interface DeviceSession extends DeviceRef {
  /** The last touchDevice, or the device's creation if never. */
  lastUsedAt: string;
}

/**
 * Users, devices (login tokens) and last-seen times. Contract (./contract/accounts.contract.ts):
 * usernames are unique case-insensitively and stored lower-cased; a revoked device's token
 * finds nothing, nor does any token of a deactivated user; a profile change commits with the
 * entries it is given; of concurrent first sign-ups with `adminIfFirst`, exactly one is admin;
 * an invite's last use is taken by one sign-up only.
 */
export interface AccountStore {
  /**
   * Throws StoreError('conflict') if the (lower-cased) username is taken (nothing written, the
   * invite's use included).
   */
  createUser(user: NewUser): Promise<CreateUserResult>;
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  getUser(userId: string): Promise<UserRecord | undefined>;
  /** The users that exist among `userIds`, in no particular order. */
  getUsers(userIds: readonly string[]): Promise<User[]>;
  /** Users whose username starts with `prefix`, by username; deleted and deactivated users are left out. */
  searchUsers(prefix: string, limit: number): Promise<User[]>;
  /** Every account (deactivated and deleted included) whose username starts with the prefix, by username. */
  listAccounts(page: AccountPage): Promise<UserRecord[]>;
  /** Throws StoreError('not_found') for an unknown user. Returns the ids of the devices it revoked. */
  changeAccount(change: AccountChange): Promise<{ revokedDeviceIds: string[] }>;
  /** Throws StoreError('not_found') for an unknown user. */
  deleteAccount(deletion: AccountDeletion): Promise<{ revokedDeviceIds: string[]; entries: LogEntry[] }>;
  /** The user's live devices, oldest first. */
  listDevices(userId: string): Promise<DeviceRecord[]>;
  figures(sinceMessageId: string): Promise<StoreFigures>;
  /**
   * Changes the profile and appends `events` in the same transaction. Throws
   * StoreError('not_found') for an unknown user (nothing appended).
   */
  updateProfile(
    userId: string,
    patch: ProfilePatch,
    events: readonly LogAppend[],
    at: string,
  ): Promise<{ user: User; entries: LogEntry[] }>;
  createDevice(device: NewDevice): Promise<void>;
  /** The live (not revoked) device with this token hash. */
  findDeviceByTokenHash(tokenHash: string): Promise<DeviceSession | undefined>;
  /** Records that the device's token was used at `at` (which renews its lifetime). */
  touchDevice(deviceId: string, at: string): Promise<void>;
  /** Also forgets the device's push subscriptions, where the backend keeps them. */
  revokeDevice(deviceId: string): Promise<void>;
  /** One write for all of them (a gateway shutting down records thousands at once). */
  setLastSeen(userIds: readonly string[], at: string): Promise<void>;
  /** lastSeenAt per user, for those that have one. */
  getLastSeen(userIds: readonly string[]): Promise<Map<string, string>>;
}

// ---------------------------------------------------------------- invites

export interface InviteRecord {
  id: string;
  /** SHA-256 of the code (the code itself is never stored). */
  codeHash: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revokedAt?: string;
}

/**
 * Invite codes. Uses are taken by AccountStore.createUser (in the sign-up's transaction).
 * Contract: ./contract/invites.contract.ts.
 */
export interface InviteStore {
  createInvite(invite: InviteRecord): Promise<void>;
  findInvite(codeHash: string): Promise<InviteRecord | undefined>;
  getInvite(inviteId: string): Promise<InviteRecord | undefined>;
  /** The newest `limit` invites, of one creator or (undefined) of everyone, newest first. */
  listInvites(createdBy: string | undefined, limit: number): Promise<InviteRecord[]>;
  /** Marks it revoked at `at` (once; a revoked invite keeps its first time). */
  revokeInvite(inviteId: string, at: string): Promise<void>;
}

// ---------------------------------------------------------------- blocks

/** One user blocking (`blocked: true`) or unblocking another; `events` go with the change. */
export interface BlockChange {
  blockerId: string;
  blockedId: string;
  blocked: boolean;
  at: string;
  events: readonly LogAppend[];
}

/**
 * Who blocked whom. A block is one-way (blocker, blocked); the domain decides what it hides.
 * Contract: ./contract/blocks.contract.ts.
 */
export interface BlockStore {
  /** `changed: false` (and no entries) when the pair was already in that state. */
  changeBlock(change: BlockChange): Promise<{ changed: boolean; entries: LogEntry[] }>;
  /** Whom `blockerId` blocked, oldest first. */
  listBlocks(blockerId: string): Promise<{ userId: string; createdAt: string }[]>;
  /** Whether either of the two blocked the other. */
  blockedEitherWay(a: string, b: string): Promise<boolean>;
  /** The users `userId` blocked or was blocked by. */
  blockedPeers(userId: string): Promise<string[]>;
}

// ---------------------------------------------------------------- friends

export interface FriendRequestRecord {
  id: string;
  fromUserId: string;
  toUserId: string;
  createdAt: string;
}

/** What stands between two users: a friendship, or pending requests (either direction). */
export interface FriendPair {
  friends: boolean;
  /** Pending requests between the two, in either direction, by id. */
  requests: FriendRequestRecord[];
}

/**
 * A change to a pair of users, decided by the domain (domain/friends.ts) on `expected`. Applied
 * only if the pair is still exactly `expected` (friendship and the set of request ids); `events`
 * go in the same transaction.
 */
export interface FriendPairChange {
  pair: readonly [string, string];
  expected: FriendPair;
  addRequest?: FriendRequestRecord;
  removeRequestIds?: readonly string[];
  /** true: they become friends (since `at`); false: they stop being friends. */
  friends?: boolean;
  at: string;
  events: readonly LogAppend[];
}

/**
 * Friendships and pending friend requests, kept symmetric: a friendship holds both ways, and
 * `friendPair` reads the same from either side. Writes are conditional on the pair's state
 * (FriendPairChange). Contract: ./contract/friends.contract.ts.
 */
export interface FriendStore {
  /** The current state of the pair (order of `a`, `b` does not matter). */
  friendPair(a: string, b: string): Promise<FriendPair>;
  /** Throws StoreError('conflict') if `addRequest` repeats a pending (from, to). */
  changeFriendPair(change: FriendPairChange): Promise<ConditionalWrite>;
  getFriendRequest(requestId: string): Promise<FriendRequestRecord | undefined>;
  listFriendRequests(userId: string): Promise<{ incoming: FriendRequestRecord[]; outgoing: FriendRequestRecord[] }>;
  listFriendIds(userId: string): Promise<string[]>;
  areFriends(a: string, b: string): Promise<boolean>;
}

// ---------------------------------------------------------------- channels

export interface MemberRecord {
  userId: string;
  role: MemberRole;
  joinedAt: string;
  /** The member's read cursor, if they have read anything. */
  lastReadMessageId?: string;
}

export interface ChannelRecord {
  id: string;
  kind: ChannelKind;
  name?: string;
  createdAt: string;
  members: MemberRecord[];
}

/** A channel with one user's view of it. */
export interface ChannelViewRecord extends ChannelRecord {
  lastMessage?: Message;
  unreadCount: number;
  /** Messages after the user's read cursor that mention them (SearchStore), capped at 1000. */
  unreadMentionCount: number;
  lastReadMessageId?: string;
  /** The user muted it (push.ts, PushSettingsStore). */
  muted?: boolean;
}

export interface NewMember {
  userId: string;
  role: MemberRole;
}

export interface NewDm {
  id: string;
  members: readonly [NewMember, NewMember];
  createdAt: string;
}

export interface NewGroup {
  id: string;
  name: string;
  /** Deduplicated, with their roles (domain/channels.ts decides both). */
  members: readonly NewMember[];
  createdAt: string;
}

/**
 * A change to a channel's members or name, decided by the domain on `expected`. Applied only if
 * the channel's members (user and role) are still exactly `expected`; `events` go in the same
 * transaction. Order of application: remove, add, roles, name.
 */
export interface ChannelChange {
  channelId: string;
  expected: readonly NewMember[];
  remove?: readonly string[];
  add?: readonly NewMember[];
  roles?: readonly NewMember[];
  name?: string;
  at: string;
  events: readonly LogAppend[];
}

/**
 * Moves one member's read cursor forward to `to`, if it is still behind `to` (or never set). The
 * decision rests only on the cursor being behind, not on where it was: a move that lost a race to
 * a lower one still holds, so concurrent reads of one conversation take at most one more decision.
 */
export interface ReadCursorMove {
  channelId: string;
  userId: string;
  to: string;
  at: string;
  events: readonly LogAppend[];
}

/** Who may be a user's contacts, by where they come from (domain/contacts.ts makes them contacts). */
export interface ContactSources {
  friends: string[];
  /** The other member of each of the user's DMs. */
  dmPartners: string[];
  /** Distinct users sharing a group of at most `maxGroupSize` members with the user (DMs do not count). */
  groupPeers: string[];
  /** Distinct users the user blocked or who blocked the user. */
  blocked: string[];
}

/**
 * The sources of a user's contacts, read together: every hello needs all of them, and one read
 * costs a fraction of four. Contract: ./contract/contacts.contract.ts.
 */
export interface ContactStore {
  contactSources(userId: string, maxGroupSize: number): Promise<ContactSources>;
}

/**
 * DMs, groups, their members with roles and read cursors. One DM per pair of users, whoever
 * opens it, also under concurrent opens; membership and cursor writes are conditional on the
 * state they were decided on. Contract: ./contract/channels.contract.ts.
 */
export interface ChannelStore {
  /**
   * The DM channel of this pair, created on first use with `events` appended; an existing one
   * is returned with no entries. Concurrent calls for the same pair return the same channel.
   */
  getOrCreateDm(dm: NewDm, events: readonly LogAppend[]): Promise<{ channel: ChannelRecord; entries: LogEntry[] }>;
  createGroup(group: NewGroup, events: readonly LogAppend[]): Promise<{ channel: ChannelRecord; entries: LogEntry[] }>;
  getChannel(channelId: string): Promise<ChannelRecord | undefined>;
  /** The member's role, or undefined if `userId` is not a member. */
  getRole(channelId: string, userId: string): Promise<MemberRole | undefined>;
  memberIds(channelId: string): Promise<string[]>;
  /**
   * Up to `page.limit` of the channels the user belongs to, most recent activity first: a
   * channel's activity is its last message's id, or its own id while it has no message (ids of
   * channels and messages come from one sequence). With `page.before`, only channels whose
   * activity is below it.
   */
  listChannelViews(userId: string, page: ChannelViewPage): Promise<ChannelViewRecord[]>;
  /** `stale` also when the channel does not exist. */
  changeChannel(change: ChannelChange): Promise<ConditionalWrite>;
  /** `stale` when the cursor is already at or past `to` (or `userId` is not a member). */
  moveReadCursor(move: ReadCursorMove): Promise<ConditionalWrite>;
}

// ---------------------------------------------------------------- messages

export interface NewMessage {
  id: string;
  channelId: string;
  senderId: string;
  text: string;
  createdAt: string;
  clientMsgId: string;
  /**
   * What the search index holds for the text (domain/search-text.ts, indexTokens); absent or
   * '': the message is not indexed.
   */
  searchTokens?: string;
  /**
   * Lower-cased usernames the text may mention (domain/mentions.ts): the stored message mentions
   * those of them that are members of the channel at the commit (Message.mentions, in the order
   * of this list), and SearchStore.mentions lists it for them.
   */
  mentionNames?: readonly string[];
  /**
   * The message this one answers (the domain checked it is of the same channel). The store keeps
   * its id and sender; a read gives back `{id, senderId}` (the preview is the domain's to add).
   */
  replyTo?: ReplyRef;
}

export type AppendResult =
  /** Stored now; `entries` are the message.created log entries of every member. */
  | { status: 'created'; message: Message; entries: LogEntry[] }
  /** (senderId, clientMsgId) was stored before: the original message, nothing new. */
  | { status: 'duplicate'; message: Message }
  /** The sender is not a member of the channel (or it does not exist): nothing stored. */
  | { status: 'not_member' }
  /** A DM whose two members have a block between them (either way, at the commit): nothing stored. */
  | { status: 'blocked' };

export interface ChannelViewPage {
  limit: number;
  before?: string;
  /**
   * Each lastMessage's text is its first this many code points (all of it when shorter): a
   * channel list reads no more of its messages than its previews need.
   */
  textCodePoints: number;
}

export type HistoryQuery =
  | { before: string; limit: number }
  | { after: string; limit: number }
  | { around: string; limit: number }
  | { limit: number };

/**
 * Messages and their idempotency keys. A message is stored once per (sender, clientMsgId), also
 * when two processes get it at once; each new message is logged as message.created to the
 * members of the moment of its commit. Contract: ./contract/messages.contract.ts.
 */
export interface MessageStore {
  /**
   * Group commit: all messages in one transaction, results in input order. Membership and a
   * DM's blocks are checked and recipients are taken inside the transaction, so a message
   * committed after a block or a removal is refused, never stored.
   */
  appendMessages(batch: readonly NewMessage[]): Promise<AppendResult[]>;
  /**
   * Ascending id order. `around` centres on the id: floor(limit/2) older messages, the message
   * itself, and the rest newer (fewer on a side that runs out; the page is not refilled).
   *
   * With `maxTextBytes`, the page also ends at the first message at which the texts read so far
   * (UTF-8 bytes) reach it, counted from the query's anchor outwards (from the newest for the
   * latest page and `before`, from the oldest for `after`, the older side first for `around`), so
   * it always holds at least one message. The budget holds while reading: a backend never loads
   * more than maxTextBytes plus one message's text.
   */
  listMessages(channelId: string, query: HistoryQuery, maxTextBytes?: number): Promise<Message[]>;
  getMessage(channelId: string, messageId: string): Promise<Message | undefined>;
  /**
   * Messages sent by `senderId` with ids above `afterId` (any channel), ascending, at most
   * `limit`, ending like listMessages at `maxTextBytes` (for an account's data export).
   */
  listMessagesBySender(senderId: string, afterId: string, limit: number, maxTextBytes: number): Promise<Message[]>;
}

// ---------------------------------------------------------------- update log

/**
 * The per-user update log. Each user's log has a gap-free, strictly increasing `seq` starting at
 * 1, also when several processes write to the same user at once; trimming never lets a seq be
 * used twice. Contract: ./contract/update-log.contract.ts.
 */
export interface LogStore {
  /** Appends non-message events in one transaction (used by domain flows that own no table). */
  appendLog(appends: readonly LogAppend[], at: string): Promise<LogEntry[]>;
  /**
   * Entries with seq > afterSeq, ascending, at most `limit`. With `maxTextBytes`, the page also
   * ends at the first entry at which the joined messages' texts (UTF-8 bytes) reach it (so at
   * least one entry), and never more than that is loaded.
   */
  readLog(userId: string, afterSeq: number, limit: number, maxTextBytes?: number): Promise<StoredLogEntry[]>;
  /** The user's highest seq (0 if none) and lowest kept seq (after trimming). */
  logBounds(userId: string): Promise<{ head: number; floor: number }>;
  /** Deletes entries created before `before`; returns how many went. */
  trimLog(before: string): Promise<number>;
}

/** The whole store: for the composition root (app.ts) and the adapters' own tests only. */
export interface Store
  extends
    AccountStore,
    InviteStore,
    BlockStore,
    FriendStore,
    ChannelStore,
    ContactStore,
    MessageStore,
    MessageChangeStore,
    LogStore,
    PushSubscriptionStore,
    SearchStore,
    PushOutboxStore,
    PushSettingsStore {
  close(): Promise<void>;
}
