/**
 * Push notifications for users with no live socket.
 *
 * - PushSubscriptionStore keeps each device's registrations (a browser's Web Push subscription,
 *   a phone's APNs or FCM token), durable, in the Store's database.
 * - PushOutboxStore is the durable, at-least-once queue between the node that commits a message
 *   and the notifiers: one row per (recipient, message), in the Store's database, so a job
 *   survives a notifier killed mid-job and a Redis restart. Notifiers claim whole (user, channel)
 *   groups under a lease; a lease that runs out lets another notifier claim them again, and the
 *   sent-marks (`markPushSent`) make sure a device never gets the same message twice.
 * - PushSettingsStore: the per-channel mute and the per-user preview setting the notifier reads.
 * - PushProvider talks to one push service (Web Push, APNs, FCM).
 *
 * Contracts: ./contract/push-subscriptions.contract.ts and ./contract/push-outbox.contract.ts.
 */
import type { PushProviderKind } from '@parley/protocol';
import type { ConditionalWrite, LogAppend } from './store.js';

export type { PushProviderKind };

export interface PushSubscriptionRecord {
  provider: PushProviderKind;
  /** Web Push: the push service URL. APNs / FCM: the device token. Unique across all registrations. */
  endpoint: string;
  /** Web Push keys ('' for APNs and FCM). */
  p256dh: string;
  auth: string;
  userId: string;
  deviceId: string;
  createdAt: string;
}

export interface PushSubscriptionStore {
  /** Inserts or replaces the registration with this endpoint. */
  savePushSubscription(subscription: PushSubscriptionRecord): Promise<void>;
  /** Deletes it (only if it belongs to `userId`, when given). */
  deletePushSubscription(endpoint: string, userId?: string): Promise<void>;
  /** Deletes every registration of the device (sign-out, device removal). */
  deleteDevicePushSubscriptions(deviceId: string): Promise<void>;
  pushSubscriptions(userIds: readonly string[]): Promise<PushSubscriptionRecord[]>;
}

/** One recipient of one message, as the committing node queues it. */
export interface NewPushJob {
  userId: string;
  channelId: string;
  messageId: string;
  senderId: string;
  /** The first characters of the text. */
  preview: string;
  /** The message mentions this recipient (a mention notifies through a mute). */
  mentioned: boolean;
  /** When it may be sent (ms since the epoch): the message's time plus the coalescing window. */
  dueAt: number;
}

/** A job as claimed: `attempts` counts the earlier tries that ended in a retry. */
export interface PushOutboxJob extends NewPushJob {
  attempts: number;
}

export interface PushClaim {
  /** Who claims (a notifier's id); only the owner's complete/retry take effect. */
  owner: string;
  /** ms since the epoch. */
  now: number;
  /** Until when the claimed rows are held (ms since the epoch). */
  leaseUntil: number;
  /** At most this many (user, channel) groups. */
  groups: number;
}

/**
 * The durable push queue. Times are ms since the epoch (they are compared, never shown).
 *
 * - `enqueuePush` stores each job once per (userId, messageId): a repeat is ignored.
 * - `claimPush` takes up to `groups` (user, channel) groups that have a job due (`dueAt <= now`)
 *   and no job under a live lease, and leases to `owner` EVERY job of each such group (due or
 *   not yet: a burst goes out as one notification), until `leaseUntil`. Groups are never split
 *   between two live claims, also when several notifiers claim at once. Jobs come grouped, by
 *   user then channel then message id.
 * - `completePush` deletes the owner's leased jobs of that user (a job re-claimed by another
 *   owner since is left alone); `retryPush` releases them with a new `dueAt` and `attempts`.
 * - `markPushSent` records that a device (its endpoint) got a message; `pushSentTo` tells which
 *   of the endpoints already got it. `trimPushSent` forgets marks older than `before`.
 */
export interface PushOutboxStore {
  enqueuePush(jobs: readonly NewPushJob[]): Promise<void>;
  claimPush(claim: PushClaim): Promise<PushOutboxJob[]>;
  completePush(owner: string, userId: string, messageIds: readonly string[]): Promise<void>;
  retryPush(
    owner: string,
    userId: string,
    messageIds: readonly string[],
    dueAt: number,
    attempts: number,
  ): Promise<void>;
  markPushSent(endpoint: string, messageId: string, at: number): Promise<void>;
  pushSentTo(endpoints: readonly string[], messageId: string): Promise<Set<string>>;
  trimPushSent(before: number): Promise<number>;
}

/** What the notifier needs to know about one recipient of one channel. */
export interface PushRecipient {
  /** Whether the user muted the channel. */
  muted: boolean;
  lastReadMessageId?: string;
  /** The user's preview setting (false: no message text in notifications). */
  previews: boolean;
}

/** A user's own change to their settings of one channel, with its log entries. */
export interface ChannelSettingsChange {
  channelId: string;
  userId: string;
  muted: boolean;
  at: string;
  events: readonly LogAppend[];
}

/**
 * Mute and previews. `setChannelMuted` is `stale` when the user is not a member of the channel;
 * `pushRecipient` is undefined then too.
 */
export interface PushSettingsStore {
  setChannelMuted(change: ChannelSettingsChange): Promise<ConditionalWrite>;
  pushRecipient(userId: string, channelId: string): Promise<PushRecipient | undefined>;
  setPushPreviews(userId: string, previews: boolean): Promise<void>;
  pushPreviews(userId: string): Promise<boolean>;
}

export type PushOutcome =
  | { status: 'delivered' }
  /** The registration expired or was revoked: the caller deletes it. */
  | { status: 'gone' }
  /** 429, 5xx, a timeout: try again later (after `retryAfterMs` when the service said). */
  | { status: 'retry'; retryAfterMs?: number; reason: string }
  /** Refused for good (a malformed request): counted failed, not retried. */
  | { status: 'failed'; reason: string };

/** One notification for one device, in the provider-neutral shape the domain builds. */
export interface PushNotification {
  title: string;
  body: string;
  /** The PushPayload JSON (Web Push payload; APNs `parley`; FCM `data`). */
  payload: string;
  /** The conversation: tag / apns-collapse-id / android.collapse_key. */
  collapseKey: string;
}

export interface PushProvider {
  readonly kind: PushProviderKind;
  /** Never throws: every failure is an outcome. Bounded by the provider's timeout. */
  send(subscription: PushSubscriptionRecord, notification: PushNotification): Promise<PushOutcome>;
  /** Closes connections it keeps (APNs keeps an HTTP/2 session). */
  close?(): void;
}
