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

export interface Message {
  id: string;
  channelId: string;
  senderId: string;
  text: string;
  createdAt: string;
  clientMsgId?: string;
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
