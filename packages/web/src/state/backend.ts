/**
 * What the web app needs from the SDK, as one small interface. `sdk-backend.ts` implements it
 * on @parley/client; tests and the offline demo can implement it on anything.
 */
import type { ParleyApi } from '@parley/client';
import type { PresenceStatus, SyncEvent, User } from '@parley/protocol';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface OutboxItem {
  clientMsgId: string;
  channelId: string;
  text: string;
  state: 'pending' | 'failed';
  queuedAt: string;
  error?: { code: string; message: string };
}

/** A change to a sent message. */
export type MessageChange =
  | { kind: 'edit'; channelId: string; messageId: string; text: string }
  | { kind: 'delete'; channelId: string; messageId: string }
  | { kind: 'react' | 'unreact'; channelId: string; messageId: string; emoji: string };

export interface SentItem {
  clientMsgId: string;
  channelId: string;
  text: string;
  messageId: string;
  createdAt: string;
}

export interface BackendEvents {
  /** A log event, in seq order, exactly once (live or replayed). */
  event: SyncEvent;
  presence: { userId: string; status: PresenceStatus; lastSeenAt?: string };
  typing: { channelId: string; userId: string };
  /** A read cursor moved: this user's (other devices), a DM partner's, or a group member's (ephemeral). */
  read: { channelId: string; userId: string; messageId: string };
  /** A profile (display name, status) changed: this user's or someone shown in the app. */
  user: User;
  connection: ConnectionState;
  /** The outbox changed (added, failed, retried, discarded). */
  outbox: OutboxItem[];
  /** The server accepted one of our messages. */
  sent: SentItem;
  /** Connected (first time or again): a good moment to refresh lists. */
  ready: { resynced: boolean };
  /** The session ended (token revoked or rejected). */
  unauthorized: undefined;
}

export interface Backend {
  readonly api: Pick<
    ParleyApi,
    | 'me'
    | 'updateMe'
    | 'user'
    | 'searchUsers'
    | 'sendFriendRequest'
    | 'friendRequests'
    | 'acceptFriendRequest'
    | 'friends'
    | 'removeFriend'
    | 'openDm'
    | 'createGroup'
    | 'channels'
    | 'channel'
    | 'addMember'
    | 'removeMember'
    | 'messages'
    | 'historyPage'
    | 'search'
    | 'mentions'
    | 'request'
    // accounts: your account, devices, blocks, invites, administration
    | 'account'
    | 'changePassword'
    | 'devices'
    | 'signOutDevice'
    | 'signOutOtherDevices'
    | 'deleteAccount'
    | 'exportData'
    | 'blocks'
    | 'block'
    | 'unblock'
    | 'createInvite'
    | 'invites'
    | 'revokeInvite'
    | 'adminUsers'
    | 'adminCreateUser'
    | 'adminUpdateUser'
    | 'adminResetPassword'
    | 'adminDeleteUser'
    | 'adminStats'
  >;
  readonly userId: string;
  on<K extends keyof BackendEvents>(type: K, listener: (value: BackendEvents[K]) => void): () => void;
  connection(): ConnectionState;
  start(): void;
  /** Reconnect now instead of waiting for the backoff. */
  reconnectNow(): void;
  send(channelId: string, text: string, replyToId?: string): void;
  /** An edit, delete or reaction, queued by the SDK like a send. */
  changeMessage(change: MessageChange): void;
  retry(clientMsgId: string): void;
  discard(clientMsgId: string): void;
  outbox(): OutboxItem[];
  markRead(channelId: string, messageId: string): void;
  typing(channelId: string): void;
  /** Stops everything; with `logout` also revokes the token and forgets the session. */
  close(options?: { logout?: boolean }): Promise<void>;
}
