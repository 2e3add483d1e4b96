/**
 * The durable store, split by aggregate. One backend implements all of them (one connection
 * pool, one transaction per call). Domain code depends only on these interfaces.
 *
 * Contract (pinned by ./contract/store.contract.ts, run against every backend):
 * - Every method that returns `LogEntry[]` commits its change and those log entries in ONE
 *   transaction; the domain publishes them only after the promise resolves (publish after commit).
 * - Each user's log has a gap-free, strictly increasing `seq` starting at 1, also when several
 *   processes write to the same user at once.
 * - Ids are decimal strings of 64-bit integers; ordering by id means numeric ordering.
 * - Times are ISO-8601 strings.
 * - Failures are thrown as StoreError with a stable kind (never a driver error).
 */
import type { ChannelKind, EventType, MemberRole, Message, User } from '@parley/protocol';
import type { PushSubscriptionStore } from './push.js';

export type StoreErrorKind = 'conflict' | 'not_found' | 'group_full' | 'unavailable';

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

/** A log entry read back, with its message joined in for message.created. */
export interface StoredLogEntry extends LogEntry {
  message?: Message;
}

/** What a caller asks to append to users' logs (seq is assigned by the store). */
export interface LogAppend {
  userIds: readonly string[];
  type: EventType;
  channelId?: string;
  messageId?: string;
  data?: Record<string, string>;
}

// ---------------------------------------------------------------- accounts

export interface UserRecord extends User {
  passwordHash: string;
  createdAt: string;
  lastSeenAt?: string;
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  createdAt: string;
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

export interface AccountStore {
  /** Throws StoreError('conflict') if the (lower-cased) username is taken. */
  createUser(user: NewUser): Promise<void>;
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  getUser(userId: string): Promise<UserRecord | undefined>;
  /** The users that exist among `userIds`, in no particular order. */
  getUsers(userIds: readonly string[]): Promise<User[]>;
  /** Users whose username starts with `prefix`, by username. */
  searchUsers(prefix: string, limit: number): Promise<User[]>;
  /** Throws StoreError('not_found') for an unknown user. */
  updateProfile(userId: string, patch: { displayName?: string; statusText?: string }): Promise<User>;
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

// ---------------------------------------------------------------- friends

export interface FriendRequestRecord {
  id: string;
  fromUserId: string;
  toUserId: string;
  createdAt: string;
}

export interface FriendStore {
  /**
   * Records a request, or, if `toUserId` already asked `fromUserId`, makes them friends.
   * Throws StoreError('conflict') if they are already friends. Asking twice returns the
   * first request. Log entries: friend.requested to both, or friend.added to both.
   */
  requestFriend(request: FriendRequestRecord): Promise<{
    request: FriendRequestRecord;
    accepted: boolean;
    entries: LogEntry[];
  }>;
  getFriendRequest(requestId: string): Promise<FriendRequestRecord | undefined>;
  listFriendRequests(userId: string): Promise<{ incoming: FriendRequestRecord[]; outgoing: FriendRequestRecord[] }>;
  /** Accepts a request addressed to `userId`; throws not_found otherwise. friend.added to both. */
  acceptFriendRequest(
    requestId: string,
    userId: string,
    at: string,
  ): Promise<{ friendId: string; entries: LogEntry[] }>;
  /** Withdraws (by the sender) or declines (by the recipient) a pending request. */
  deleteFriendRequest(requestId: string, userId: string): Promise<void>;
  listFriendIds(userId: string): Promise<string[]>;
  areFriends(a: string, b: string): Promise<boolean>;
  /** friend.removed to both; throws not_found if they were not friends. */
  removeFriend(userId: string, friendId: string, at: string): Promise<LogEntry[]>;
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
  lastReadMessageId?: string;
}

export interface ChannelStore {
  /**
   * The DM channel of this pair, created on first use (channel.created to both).
   * Concurrent calls for the same pair return the same channel.
   */
  getOrCreateDm(dm: { id: string; userIds: readonly [string, string]; createdAt: string }): Promise<{
    channel: ChannelRecord;
    entries: LogEntry[];
  }>;
  /** Owner plus members (deduplicated); group_full past maxMembers. channel.created to all. */
  createGroup(group: {
    id: string;
    name: string;
    ownerId: string;
    memberIds: readonly string[];
    maxMembers: number;
    createdAt: string;
  }): Promise<{ channel: ChannelRecord; entries: LogEntry[] }>;
  getChannel(channelId: string): Promise<ChannelRecord | undefined>;
  /** The member's role, or undefined if `userId` is not a member. */
  getRole(channelId: string, userId: string): Promise<MemberRole | undefined>;
  memberIds(channelId: string): Promise<string[]>;
  /** Distinct users sharing a group of at most `maxGroupSize` members with `userId` (DMs do not count). */
  channelPeers(userId: string, maxGroupSize: number): Promise<string[]>;
  /** Every channel the user belongs to, most recent activity first. */
  listChannelViews(userId: string): Promise<ChannelViewRecord[]>;
  /** group_full past maxMembers; conflict if already a member. member.added to all (new one included). */
  addMember(channelId: string, userId: string, role: MemberRole, maxMembers: number, at: string): Promise<LogEntry[]>;
  /**
   * member.removed to all (the removed one included). If the owner leaves, the oldest admin,
   * else the oldest member, becomes owner. not_found if not a member.
   */
  removeMember(channelId: string, userId: string, at: string): Promise<LogEntry[]>;
  setRole(channelId: string, userId: string, role: MemberRole, at: string): Promise<LogEntry[]>;
  renameGroup(channelId: string, name: string, at: string): Promise<LogEntry[]>;
  /**
   * Moves the user's read cursor forward to `messageId` (never backwards) and appends
   * read.updated to `notifyUserIds`. Returns [] when the cursor did not move.
   */
  markRead(
    channelId: string,
    userId: string,
    messageId: string,
    notifyUserIds: readonly string[],
    at: string,
  ): Promise<LogEntry[]>;
}

// ---------------------------------------------------------------- messages

export interface NewMessage {
  id: string;
  channelId: string;
  senderId: string;
  text: string;
  createdAt: string;
  clientMsgId: string;
}

export type AppendResult =
  /** Stored now; `entries` are the message.created log entries of every member. */
  | { status: 'created'; message: Message; entries: LogEntry[] }
  /** (senderId, clientMsgId) was stored before: the original message, nothing new. */
  | { status: 'duplicate'; message: Message }
  /** The sender is not a member of the channel (or it does not exist): nothing stored. */
  | { status: 'not_member' };

export type HistoryQuery =
  | { before: string; limit: number }
  | { after: string; limit: number }
  | { around: string; limit: number }
  | { limit: number };

export interface MessageStore {
  /**
   * Group commit: all messages in one transaction, results in input order. Membership is
   * checked and recipients are taken inside the transaction.
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
}

// ---------------------------------------------------------------- update log

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

export interface Store extends AccountStore, FriendStore, ChannelStore, MessageStore, LogStore, PushSubscriptionStore {
  close(): Promise<void>;
}
