/**
 * @parley/client: the Parley SDK for browsers and Node. This entry is browser-safe (no Node
 * modules, no `ws`); in Node import "@parley/client/node", which adds the `ws` transport and
 * a file storage.
 */
export { ParleyClient } from './client.js';
export type {
  ChannelEvent,
  ClientEvents,
  ClientOptions,
  ConnectionState,
  FriendEvent,
  PresenceUpdate,
  ReactionEvent,
  ReadUpdate,
  Session,
  TypingUpdate,
} from './client.js';
export { ParleyApi, errorFromCode, errorFromResponse } from './api.js';
export type {
  AdminUserQuery,
  ApiOptions,
  FetchLike,
  HistoryQuery,
  LoginInput,
  PasswordChange,
  ProfilePatch,
  SignupInput,
} from './api.js';
export { Backoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { Emitter, ObservableValue } from './emitter.js';
export type { Listener, Observable } from './emitter.js';
export { Outbox, newClientMsgId } from './outbox.js';
export type { OutboxMessage, OutboxOptions, OutboxState } from './outbox.js';
export { RecentIds, SeqTracker } from './seq-tracker.js';
export type { SeqGap, Sequenced } from './seq-tracker.js';
export type { StartedOver } from './sync-engine.js';
export { KeyWriter, MemoryStorage, WebStorage } from './storage.js';
export type { ClientStorage, WebStorageLike, WebStorageOptions } from './storage.js';
export { globalWebSocketFactory } from './transport.js';
export type { WebSocketFactory, WebSocketLike } from './transport.js';
export { applyReaction, insertMessage, mergeMessages, replaceMessage } from './messages.js';
export type { ReactionChange } from './messages.js';
export { ChangeQueue } from './changes.js';
export type { MessageChangeKind, PendingChange } from './changes.js';
export { ChatError } from '@parley/protocol';
export type {
  Channel,
  ChannelInfo,
  ErrorCode,
  Friend,
  FriendRequest,
  Message,
  Reaction,
  ReplyRef,
  SyncEvent,
  User,
} from '@parley/protocol';
