/**
 * Push notifications for users with no live socket.
 *
 * - PushSubscriptionStore keeps each device's Web Push subscription (durable, in the Store's
 *   database).
 * - PushQueue hands jobs from the nodes that commit messages to the notifier role. Contract:
 *   each job goes to one consumer, in enqueue order per producer; a job may be lost if a node
 *   crashes with it in hand, and a job whose handler throws is dropped (a notification is a
 *   hint: the message itself is safe in the store and in the user's update log). `close` is a
 *   graceful stop: the consumer takes no new job, the job in hand is finished before `close`
 *   resolves, and a job taken from a shared backend after `close` began goes back to the front
 *   of the queue for another consumer. (An in-process queue has no one to hand its waiting jobs
 *   to: they end with the process.)
 * - PushProvider talks to the push service (Web Push today; APNs/FCM would be other providers).
 */
export interface PushSubscriptionRecord {
  endpoint: string;
  p256dh: string;
  auth: string;
  userId: string;
  deviceId: string;
  createdAt: string;
}

export interface PushSubscriptionStore {
  /** Inserts or replaces the subscription with this endpoint. */
  savePushSubscription(subscription: PushSubscriptionRecord): Promise<void>;
  /** Deletes it (only if it belongs to `userId`, when given). */
  deletePushSubscription(endpoint: string, userId?: string): Promise<void>;
  pushSubscriptions(userIds: readonly string[]): Promise<PushSubscriptionRecord[]>;
}

/** One notification for one user; names are resolved by the notifier, not the sender's node. */
export interface PushJob {
  userId: string;
  channelId: string;
  messageId: string;
  senderId: string;
  /** The first characters of the text. */
  preview: string;
}

export interface PushQueue {
  enqueue(jobs: readonly PushJob[]): Promise<void>;
  /** Starts handing jobs to `handler`, one at a time per consumer, until `close`. */
  consume(handler: (job: PushJob) => Promise<void>): void;
  close(): Promise<void>;
}

export type PushOutcome = 'delivered' | 'gone';

export interface PushProvider {
  /** `gone`: the subscription expired or was revoked; the caller deletes it. */
  send(subscription: PushSubscriptionRecord, payload: string): Promise<PushOutcome>;
}
