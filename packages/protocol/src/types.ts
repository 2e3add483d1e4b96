/** Wire types of the public API v1 (see docs/protocol.md). Ids are decimal strings, times ISO-8601. */

export interface User {
  id: string;
  username: string;
  displayName: string;
  statusText?: string;
}

/**
 * `unknown`: you may not see this user's presence (GET /v1/presence answers it for anyone who is
 * not your friend, DM partner or a member of a group you are in). Events never carry it.
 */
export type PresenceStatus = 'online' | 'offline' | 'unknown';

export interface Presence {
  status: PresenceStatus;
  /** When the user was last connected; absent while online, if never seen, or if `unknown`. */
  lastSeenAt?: string;
}

/** What a reply shows of the message it answers (absent `preview`: that message was deleted). */
export interface ReplyRef {
  id: string;
  senderId: string;
  /** The first limits.replyPreviewCodePoints code points of the original's current text. */
  preview?: string;
}

/** One emoji on a message: who put it there, how many, and whether the reader is one of them. */
export interface Reaction {
  emoji: string;
  /** userIds.length. */
  count: number;
  /** Whether the user reading this (history, sync, an event in their log) reacted with it. */
  me: boolean;
  /**
   * Who reacted, in the order they did (a group has at most 100 members). With it a client applies
   * reaction.added / reaction.removed as set operations: applying one twice changes nothing.
   */
  userIds: string[];
}

export interface Message {
  id: string;
  channelId: string;
  senderId: string;
  /** '' for a deleted message (a tombstone: see `deletedAt`). */
  text: string;
  createdAt: string;
  clientMsgId?: string;
  /** Ids of the users this message mentions (`@username` of a member at send); absent when none. */
  mentions?: string[];
  /** When the text was last edited (earlier versions are not kept). */
  editedAt?: string;
  /** Set on a tombstone: the text is erased, `replyTo` and `reactions` are gone. */
  deletedAt?: string;
  /** The message this one answers. */
  replyTo?: ReplyRef;
  /** By first reaction; absent when there are none. */
  reactions?: Reaction[];
}

export type ChannelKind = 'dm' | 'group';
export type MemberRole = 'owner' | 'admin' | 'member';

/** A channel member: the user's profile plus their role and, where known, presence. */
export interface ChannelMember extends User {
  role: MemberRole;
  presence?: Presence;
  /** How far this member has read, in DMs and groups (so "Seen" / "Seen by N" survive a reload). */
  lastReadMessageId?: string;
}

/** A channel as every member sees it. */
export interface ChannelInfo {
  id: string;
  kind: ChannelKind;
  /** Group name; absent for DMs. */
  name?: string;
  members: ChannelMember[];
  createdAt: string;
}

/**
 * A message as a channel view carries it: `text` is the whole text, or, when `textTruncated` is
 * true, only its first limits.previewCodePoints code points (cut between graphemes where one fits),
 * for the conversation list. A truncated text is never the message itself: show the message from
 * history or from its `message.created` event.
 */
export interface MessagePreview extends Message {
  textTruncated?: true;
}

/**
 * A page of GET /v1/channels, most recent activity first. When `hasMore`, pass `nextBefore` as
 * `before` for the next page.
 */
export interface ChannelPage {
  channels: Channel[];
  hasMore: boolean;
  nextBefore?: string;
}

/** A channel as one user sees it in their list. */
export interface Channel extends ChannelInfo {
  lastMessage?: MessagePreview;
  /** Messages from others after the read cursor (capped at 1000). */
  unreadCount: number;
  /** Messages after the read cursor that mention this user (capped at 1000). */
  unreadMentionCount: number;
  lastReadMessageId?: string;
  /** This user muted the channel (no push notifications, except mentions of them); absent when not. */
  muted?: true;
}

export interface FriendRequest {
  id: string;
  fromUserId: string;
  toUserId: string;
  fromUser: User;
  toUser: User;
  createdAt: string;
}

export interface Friend {
  user: User;
  presence: Presence;
}

export interface AuthResult {
  user: User;
  token: string;
  deviceId: string;
  /** Your server-wide role (the first account of a server is its admin). */
  role: UserRole;
  /**
   * Your update log's head when this device was created. Connect with `hello {since: seq}`: what
   * you read over REST after this answer covers the log up to `seq`, and the replay brings
   * everything after it, so nothing committed meanwhile is missed.
   */
  seq: number;
}

/** Bodies of the update-log events (the per-user "message sync queue"). */
export type EventBody =
  | { type: 'message.created'; message: Message }
  | { type: 'read.updated'; channelId: string; userId: string; messageId: string }
  | { type: 'channel.created'; channel: ChannelInfo }
  | { type: 'channel.updated'; channel: ChannelInfo }
  | { type: 'member.added'; channel: ChannelInfo; userId: string }
  | { type: 'member.removed'; channel: ChannelInfo; userId: string }
  | { type: 'friend.requested'; request: FriendRequest }
  | { type: 'friend.added'; friend: User }
  | { type: 'friend.removed'; userId: string }
  /** A profile (display name, status) changed: sent to the user's own devices and everyone who shows them. */
  | { type: 'user.updated'; user: User }
  /** A message was edited: the whole message as it is when the event is read (ids and place unchanged). */
  | { type: 'message.updated'; message: Message }
  /** A message was deleted: its tombstone (`text: ''`, `deletedAt`), as it is when the event is read. */
  | { type: 'message.deleted'; message: Message }
  /** `userId` reacted with `emoji`: adding it to a set twice changes nothing. */
  | { type: 'reaction.added'; channelId: string; messageId: string; emoji: string; userId: string }
  /** `userId` took back `emoji`: removing it from a set twice changes nothing. */
  | { type: 'reaction.removed'; channelId: string; messageId: string; emoji: string; userId: string }
  /** You blocked `userId` (on another of your devices, or this one): sent to your own devices only. */
  | { type: 'user.blocked'; userId: string }
  /** You unblocked `userId`: sent to your own devices only. */
  | { type: 'user.unblocked'; userId: string }
  /** The user changed their own settings of a channel (mute): sent to the user's own devices only. */
  | { type: 'channel.settings.updated'; channelId: string; muted: boolean };

export type EventType = EventBody['type'];

/** One entry of a user's update log: a gap-free `seq` (1, 2, 3, ...) and its event. */
export type SyncEvent = EventBody & { seq: number };

/** GET /v1/channels/:id/messages. */
export interface HistoryPage {
  messages: Message[];
  /**
   * More messages lie beyond the page on the side away from its anchor (older for the latest page
   * and `before`, newer for `after`; for `around`, the byte budget cut the page): the page stopped
   * at its `limit` or at its byte budget. Continue with `before` the first id or `after` the last.
   */
  hasMore: boolean;
}

// ---- search and mentions ----

/** A [start, end) range of code points in a message's text. */
export type TextRange = [number, number];

/** One hit of GET /v1/search: the message and where the query matched in its text. */
export interface SearchResult {
  message: Message;
  highlights: TextRange[];
}

/**
 * GET /v1/search, newest first. When `hasMore`, pass the last result's message id as `before`
 * for the next page.
 */
export interface SearchPage {
  results: SearchResult[];
  hasMore: boolean;
}

/** GET /v1/mentions: messages that mention the caller, newest first, paged like SearchPage. */
export interface MentionsPage {
  results: { message: Message }[];
  hasMore: boolean;
}

export interface SyncPage {
  events: SyncEvent[];
  /** Pass as `since` next time: the last event's seq, or `since` when there were none. */
  seq: number;
  hasMore: boolean;
}

export interface GatewayInfo {
  url: string;
  nodeId: string;
}

/** A push service a device registers with: Web Push (browsers), APNs (Apple), FCM (Android). */
export type PushProviderKind = 'webpush' | 'apns' | 'fcm';

/**
 * GET /v1/push/config: whether this server sends push notifications, through which providers,
 * and the VAPID key a browser subscribes with (when Web Push is among them).
 */
export interface PushConfig {
  enabled: boolean;
  providers: PushProviderKind[];
  vapidPublicKey?: string;
}

/** GET/PATCH /v1/push/settings: the user's own push settings (every device of theirs). */
export interface PushSettings {
  /** false: notifications say "New message from <name>" without the message's text. */
  previews: boolean;
}

/**
 * What a push notification carries (JSON in the Web Push payload; the `parley` key of an APNs
 * payload; the `data` of an FCM message). One notification stands for `count` messages of one
 * channel (a burst is coalesced); `tag` is the channel's id, so a later one replaces it.
 */
export interface PushPayload {
  title: string;
  body: string;
  channelId: string;
  /** The channel's name for a group; the sender's display name for a DM. */
  channelName: string;
  /** The newest message it stands for. */
  messageId: string;
  count: number;
  tag: string;
}

// ---- accounts: sign-up modes, invites, devices, blocking, administration ----

/** Who may create an account: anyone, holders of an invite code, or administrators only. */
export type SignupMode = 'open' | 'invite' | 'closed';
/** A server-wide role (not a channel role). */
export type UserRole = 'admin' | 'member';

/** GET /v1/auth/config: what the sign-up form needs to know before anyone is signed in. */
export interface AuthConfig {
  signup: SignupMode;
}

/** GET /v1/me: your profile and your server-wide role. */
export interface MeResult {
  user: User;
  role: UserRole;
}

/** One signed-in device of yours (GET /v1/me/devices). */
export interface Device {
  id: string;
  name: string;
  createdAt: string;
  /** When its token was last used (renewed at most hourly), or its creation. */
  lastUsedAt: string;
  /** The device this request came from. */
  current: boolean;
}

/** An invite as listed (the code itself is shown once, when it is created). */
export interface Invite {
  id: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revoked: boolean;
}

/** POST /v1/invites: the invite, its code, and the web app's link for it. */
export interface CreatedInvite {
  invite: Invite;
  code: string;
  /** A path on this server (`/#/invite/<code>`) that opens sign-up with the code filled in. */
  link: string;
}

/** Someone you blocked (GET /v1/me/blocks). */
export interface Block {
  user: User;
  createdAt: string;
}

/** A user as administrators see them. */
export interface AdminUser extends User {
  role: UserRole;
  createdAt: string;
  lastSeenAt?: string;
  deactivatedAt?: string;
}

/** GET /v1/admin/users: a page by username; pass `nextAfter` as `after` for the next one. */
export interface AdminUserPage {
  users: AdminUser[];
  nextAfter?: string;
}

/** GET /v1/admin/stats. */
export interface ServerStats {
  users: number;
  deactivatedUsers: number;
  /** Sockets open on the gateways of the fleet (as they last announced themselves). */
  connections: number;
  /** Messages per UTC day, the last `days` days, oldest first (days without messages included). */
  messagesPerDay: { day: string; count: number }[];
  /** Bytes the store takes on disk (SQLite files, or the PostgreSQL database's size). */
  storageBytes: number;
}

// ---- WebSocket frames ----

export interface HelloFrame {
  op: 'hello';
  token: string;
  /** Highest seq this device has applied; the server replays everything after it. */
  since?: number;
}
export interface SendFrame {
  op: 'send';
  channelId: string;
  text: string;
  clientMsgId: string;
  /** Answer this message (of the same channel). */
  replyToId?: string;
}
export interface PingFrame {
  op: 'ping';
}
export interface ReadFrame {
  op: 'read';
  channelId: string;
  messageId: string;
}
export interface TypingFrame {
  op: 'typing';
  channelId: string;
}
export type ClientFrame = HelloFrame | SendFrame | PingFrame | ReadFrame | TypingFrame;

export interface ReadyFrame {
  op: 'ready';
  userId: string;
  deviceId: string;
  /** The user's log head when the connection became ready. */
  seq: number;
  heartbeatMs: number;
  nodeId: string;
}
export interface AckFrame {
  op: 'ack';
  clientMsgId: string;
  messageId: string;
  createdAt: string;
}
export interface ErrorFrame {
  op: 'error';
  code: string;
  message: string;
  clientMsgId?: string;
}
export interface PongFrame {
  op: 'pong';
  /** The user's log head now: a device whose applied seq is below it fills the gap from /v1/sync. */
  seq: number;
}
export type EventFrame = { op: 'event' } & SyncEvent;
export interface PresenceFrame {
  op: 'presence';
  userId: string;
  status: PresenceStatus;
  lastSeenAt?: string;
}
export interface TypingEventFrame {
  op: 'typing';
  channelId: string;
  userId: string;
}
/**
 * Ephemeral (no seq): another member of a group moved their read cursor. In DMs the same news
 * comes as a logged `read.updated` event; in groups it is ephemeral so a read costs one bus
 * publish, not one log entry per member. After a reconnect, `GET /v1/channels` has every
 * member's `lastReadMessageId`.
 */
export interface ReadPositionFrame {
  op: 'read';
  channelId: string;
  userId: string;
  messageId: string;
}
export type ServerFrame =
  ReadyFrame | AckFrame | ErrorFrame | PongFrame | EventFrame | PresenceFrame | TypingEventFrame | ReadPositionFrame;
