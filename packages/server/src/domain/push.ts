/**
 * Push notifications.
 *
 * The node that commits a message queues one outbox job per recipient with no live socket
 * (PushService.messageCommitted, after the commit and off the ack path), due after the
 * coalescing window. The notifier role (PushNotifier) claims due (user, channel) groups under a
 * lease and turns each group into ONE notification per device ("3 new messages", replacing the
 * earlier one by the channel's collapse key) after dropping what no longer needs telling: the
 * user came online, read past the messages on another device, or muted the channel (mentions
 * excepted: shouldNotify). Each device gets a message once (sent-marks); 429/5xx/timeouts are
 * retried with exponential backoff and jitter, honouring Retry-After, up to a bound.
 */
import type { Message, PushPayload, PushProviderKind } from '@parley/protocol';
import type { PresenceStore } from '../ports/presence.js';
import type {
  NewPushJob,
  PushNotification,
  PushOutboxJob,
  PushOutboxStore,
  PushOutcome,
  PushProvider,
  PushRecipient,
  PushSettingsStore,
  PushSubscriptionRecord,
  PushSubscriptionStore,
} from '../ports/push.js';
import type { AccountStore, ChannelStore } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { Logger } from './events.js';

const PREVIEW_LENGTH = 140;

export interface PushOptions {
  /** Messages of one conversation within this window make one notification. */
  coalesceMs: number;
  /** How long a claimed group is held; a notifier that dies lets it go after this. */
  leaseMs: number;
  /** Tries per group before its notification counts as failed. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt (with jitter) up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** How often an idle notifier looks for due jobs. */
  pollMs: number;
  /** Groups taken per claim. */
  claimGroups: number;
  /** Sends in flight per provider (a slow provider holds no more than this). */
  concurrency: number;
  /** Sent-marks are kept this long (longer than any lease plus retries). */
  sentRetentionMs: number;
}

export const defaultPushOptions: PushOptions = {
  coalesceMs: 3000,
  leaseMs: 60_000,
  maxAttempts: 8,
  backoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  pollMs: 500,
  claimGroups: 32,
  concurrency: 32,
  sentRetentionMs: 24 * 3600_000,
};

export type SuppressReason = 'read' | 'muted' | 'online';

/** Where push figures go (metrics.ts). */
export interface PushMetrics {
  sent(provider: PushProviderKind): void;
  /** Messages folded into another message's notification. */
  coalesced(n: number): void;
  suppressed(reason: SuppressReason, n: number): void;
  retried(provider: PushProviderKind): void;
  failed(provider: PushProviderKind): void;
  gone(provider: PushProviderKind): void;
}

/**
 * Whether a message may notify its recipient: the one rule for mute. A muted conversation sends
 * nothing, except messages that mention the recipient (`job.mentioned`, set when the job is
 * queued from `Message.mentions`): mentions pierce mute.
 */
export function shouldNotify(job: Pick<NewPushJob, 'mentioned'>, recipient: Pick<PushRecipient, 'muted'>): boolean {
  return job.mentioned || !recipient.muted;
}

/** The delay before retry number `attempt` (1-based): exponential with full jitter, or what the service asked. */
export function retryDelay(options: PushOptions, attempt: number, retryAfterMs?: number, random = Math.random): number {
  const ceiling = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, options.maxBackoffMs * 4));
}

/** The text of one (coalesced) notification; no message text when previews are off. */
export function notificationText(
  jobs: readonly Pick<NewPushJob, 'preview'>[],
  sender: string,
  channelName: string | undefined,
  previews: boolean,
): { title: string; body: string } {
  const title = channelName === undefined ? sender : `${sender} in ${channelName}`;
  if (!previews) {
    return {
      title: channelName ?? sender,
      body: jobs.length > 1 ? `${jobs.length} new messages` : `New message from ${sender}`,
    };
  }
  if (jobs.length > 1) return { title, body: `${jobs.length} new messages` };
  return { title, body: jobs[0]?.preview ?? '' };
}

/** The committing side: queues the jobs. */
export class PushService {
  /** Jobs being queued right now (a shutdown waits for them). */
  readonly #queuing = new Set<Promise<void>>();
  /** Jobs waiting for the next outbox write: one write per turn of the event loop, not per message. */
  #pending: NewPushJob[] = [];
  /** The write that will take #pending (set while one is scheduled). */
  #next: Promise<void> | undefined;
  /** The outbox write under way; the next one starts after it. Never rejects. */
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<PushOutboxStore, 'enqueuePush'>,
    private readonly presence: Pick<PresenceStore, 'online'>,
    private readonly clock: Clock,
    private readonly options: Pick<PushOptions, 'coalesceMs'>,
    private readonly log: Logger,
    private readonly metrics?: PushMetrics,
    /** Told when jobs were queued here (wakes this process's notifier). */
    private readonly onQueued: () => void = () => undefined,
  ) {}

  /**
   * Queues a job for every recipient (not the sender) with no live socket. Never rejects. Called
   * after the commit, off the ack path: the jobs of the messages committed in one turn go to the
   * outbox in one write (the embedded store syncs each write to disk).
   */
  messageCommitted(message: Message, recipientIds: readonly string[]): Promise<void> {
    const queuing = this.#queue(message, recipientIds);
    this.#queuing.add(queuing);
    void queuing.finally(() => this.#queuing.delete(queuing));
    return queuing;
  }

  /** Resolves once the jobs of every message committed so far are queued (shutdown). */
  async settle(): Promise<void> {
    while (this.#queuing.size > 0) await Promise.all(this.#queuing);
  }

  async #queue(message: Message, recipientIds: readonly string[]): Promise<void> {
    const others = recipientIds.filter((id) => id !== message.senderId);
    if (others.length === 0) return;
    let online = new Set<string>();
    try {
      online = await this.presence.online(others);
    } catch (error) {
      // Presence unknown (Redis down): queue for everyone; the notifier asks again before sending.
      this.log.warn({ err: error }, 'presence unavailable while queuing push notifications');
    }
    const offline = others.filter((id) => !online.has(id));
    if (online.size > 0) this.metrics?.suppressed('online', others.length - offline.length);
    if (offline.length === 0) return;
    const preview = [...message.text.slice(0, PREVIEW_LENGTH * 2)].slice(0, PREVIEW_LENGTH).join('');
    const mentioned = new Set(message.mentions);
    const dueAt = this.clock.now() + this.options.coalesceMs;
    await this.#write(
      offline.map((userId) => ({
        userId,
        channelId: message.channelId,
        messageId: message.id,
        senderId: message.senderId,
        preview,
        mentioned: mentioned.has(userId),
        dueAt,
      })),
    );
  }

  /** Adds the jobs to the next outbox write; resolves once that write is done (or failed, logged). */
  #write(jobs: readonly NewPushJob[]): Promise<void> {
    this.#pending.push(...jobs);
    this.#next ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await this.#writing;
      const batch = this.#pending;
      this.#pending = [];
      this.#next = undefined;
      this.#writing = this.store.enqueuePush(batch).then(
        () => this.onQueued(),
        (error: unknown) => this.log.warn({ err: error, jobs: batch.length }, 'could not queue push notifications'),
      );
      await this.#writing;
    });
    return this.#next;
  }
}

/** What a device registers: a browser's Web Push subscription or a phone's token. */
export type PushRegistration =
  | { provider?: 'webpush'; endpoint: string; keys: { p256dh: string; auth: string } }
  | { provider: 'apns' | 'fcm'; token: string };

/** Which registration to remove: a Web Push endpoint or a phone's token. */
export type PushRegistrationRef = { endpoint: string } | { provider: 'apns' | 'fcm'; token: string };

/** Devices' push registrations; refuses a provider this server has no credentials for. */
export class PushRegistrations {
  constructor(
    private readonly store: Pick<
      PushSubscriptionStore,
      'savePushSubscription' | 'deletePushSubscription' | 'deleteDevicePushSubscriptions'
    >,
    readonly providers: readonly PushProviderKind[],
    private readonly clock: Clock,
  ) {}

  async register(device: { userId: string; deviceId: string }, registration: PushRegistration): Promise<void> {
    const provider = registration.provider ?? 'webpush';
    if (!this.providers.includes(provider)) {
      fail('push_not_configured', `this server does not send ${provider} notifications`);
    }
    const record: PushSubscriptionRecord =
      'token' in registration
        ? { provider, endpoint: registration.token, p256dh: '', auth: '', ...device, createdAt: isoNow(this.clock) }
        : {
            provider,
            endpoint: registration.endpoint,
            p256dh: registration.keys.p256dh,
            auth: registration.keys.auth,
            ...device,
            createdAt: isoNow(this.clock),
          };
    await storeCall(this.store.savePushSubscription(record));
  }

  async unregister(userId: string, which: PushRegistrationRef): Promise<void> {
    await storeCall(this.store.deletePushSubscription('token' in which ? which.token : which.endpoint, userId));
  }

  /**
   * Forgets every push registration of a device: for sign-out, device removal and account
   * deletion (the store's revokeDevice also does it, in its own transaction).
   */
  async removeDeviceRegistrations(deviceId: string): Promise<void> {
    await storeCall(this.store.deleteDevicePushSubscriptions(deviceId));
  }
}

/** A bound on sends in flight (per provider). */
class Gate {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

type NotifierStore = PushOutboxStore &
  Pick<PushSettingsStore, 'pushRecipient'> &
  Pick<PushSubscriptionStore, 'pushSubscriptions' | 'deletePushSubscription'> &
  Pick<AccountStore, 'getUsers'> &
  Pick<ChannelStore, 'getChannel'>;

/** The notifier role: claims due groups and delivers them, until `close`. */
export class PushNotifier {
  readonly #providers = new Map<PushProviderKind, { provider: PushProvider; gate: Gate }>();
  #running: Promise<void> | undefined;
  #closed = false;
  #wake: (() => void) | undefined;
  #lastTrim = 0;

  constructor(
    private readonly store: NotifierStore,
    private readonly presence: Pick<PresenceStore, 'online'>,
    providers: readonly PushProvider[],
    private readonly clock: Clock,
    private readonly options: PushOptions,
    /** Unique per notifier process (lease owner). */
    private readonly owner: string,
    private readonly log: Logger,
    private readonly metrics?: PushMetrics,
    private readonly random: () => number = Math.random,
  ) {
    for (const provider of providers)
      this.#providers.set(provider.kind, { provider, gate: new Gate(options.concurrency) });
  }

  /** Polls for due groups every pollMs (and at once when woken) until `close`. */
  start(): void {
    this.#running ??= (async () => {
      while (!this.#closed) {
        let claimed = 0;
        try {
          claimed = await this.deliverDue();
        } catch (error) {
          this.log.warn({ err: error }, 'push delivery round failed');
        }
        if (claimed === 0 && !this.#closed) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.options.pollMs);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wake = undefined;
        }
      }
    })();
  }

  /** Looks for due jobs now (jobs were queued in this process). */
  wake(): void {
    this.#wake?.();
  }

  /** Stops: finishes the groups in hand (their leases are released by completing or retrying them). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#running;
    for (const { provider } of this.#providers.values()) provider.close?.();
  }

  /** One round: claims due groups at the clock's time and delivers them; returns how many groups. */
  async deliverDue(): Promise<number> {
    const now = this.clock.now();
    if (now - this.#lastTrim > 3600_000) {
      this.#lastTrim = now;
      await this.store.trimPushSent(now - this.options.sentRetentionMs);
    }
    const jobs = await this.store.claimPush({
      owner: this.owner,
      now,
      leaseUntil: now + this.options.leaseMs,
      groups: this.options.claimGroups,
    });
    const groups = new Map<string, PushOutboxJob[]>();
    for (const job of jobs) {
      const key = `${job.userId}:${job.channelId}`;
      const group = groups.get(key);
      if (group) group.push(job);
      else groups.set(key, [job]);
    }
    await Promise.all(
      [...groups.values()].map((group) =>
        this.#deliverGroup(group).catch((error: unknown) => {
          // Left leased: another try after the lease.
          this.log.warn({ err: error }, 'push delivery failed');
        }),
      ),
    );
    return groups.size;
  }

  async #deliverGroup(group: PushOutboxJob[]): Promise<void> {
    const first = group[0]!;
    const { userId, channelId } = first;
    const ids = group.map((job) => job.messageId);
    const complete = () => this.store.completePush(this.owner, userId, ids);
    const recipient = await this.store.pushRecipient(userId, channelId);
    if (recipient === undefined) return complete(); // no longer a member
    if ((await this.presence.online([userId])).has(userId)) {
      this.metrics?.suppressed('online', group.length);
      return complete();
    }
    const lastRead = recipient.lastReadMessageId === undefined ? -1n : BigInt(recipient.lastReadMessageId);
    const unread = group.filter((job) => BigInt(job.messageId) > lastRead);
    if (unread.length < group.length) this.metrics?.suppressed('read', group.length - unread.length);
    const wanted = unread.filter((job) => shouldNotify(job, recipient));
    if (wanted.length < unread.length) this.metrics?.suppressed('muted', unread.length - wanted.length);
    if (wanted.length === 0) return complete();

    const newest = wanted.at(-1)!;
    const subscriptions = (await this.store.pushSubscriptions([userId])).filter((s) => this.#providers.has(s.provider));
    const already = await this.store.pushSentTo(
      subscriptions.map((s) => s.endpoint),
      newest.messageId,
    );
    const pending = subscriptions.filter((s) => !already.has(s.endpoint));
    if (pending.length === 0) return complete();
    const notification = await this.#notification(wanted, recipient.previews);
    const outcomes = await Promise.all(pending.map((s) => this.#send(s, notification, newest.messageId)));
    if (outcomes.some((o) => o.status === 'delivered')) this.metrics?.coalesced(wanted.length - 1);

    const retries = outcomes.flatMap((o, i) => (o.status === 'retry' ? [{ o, s: pending[i]! }] : []));
    if (retries.length === 0) return complete();
    const attempt = Math.max(...group.map((job) => job.attempts)) + 1;
    if (attempt >= this.options.maxAttempts) {
      for (const { s } of retries) this.metrics?.failed(s.provider);
      this.log.warn({ userId, channelId, attempts: attempt }, 'push notification given up after its retries');
      return complete();
    }
    for (const { s } of retries) this.metrics?.retried(s.provider);
    const retryAfter = Math.max(...retries.map(({ o }) => (o.status === 'retry' ? (o.retryAfterMs ?? 0) : 0)));
    const dueAt = this.clock.now() + retryDelay(this.options, attempt, retryAfter, this.random);
    await this.store.retryPush(this.owner, userId, ids, dueAt, attempt);
  }

  async #send(
    subscription: PushSubscriptionRecord,
    notification: PushNotification,
    messageId: string,
  ): Promise<PushOutcome> {
    const entry = this.#providers.get(subscription.provider)!;
    let outcome: PushOutcome;
    try {
      outcome = await entry.gate.run(() => entry.provider.send(subscription, notification));
    } catch (error) {
      outcome = { status: 'retry', reason: error instanceof Error ? error.message : String(error) };
    }
    switch (outcome.status) {
      case 'delivered':
        this.metrics?.sent(subscription.provider);
        await this.store.markPushSent(subscription.endpoint, messageId, this.clock.now());
        break;
      case 'gone':
        this.metrics?.gone(subscription.provider);
        await this.store.deletePushSubscription(subscription.endpoint);
        break;
      case 'failed':
        this.metrics?.failed(subscription.provider);
        this.log.warn({ provider: subscription.provider, reason: outcome.reason }, 'push refused');
        break;
      case 'retry':
        break;
    }
    return outcome;
  }

  async #notification(jobs: readonly PushOutboxJob[], previews: boolean): Promise<PushNotification> {
    const newest = jobs.at(-1)!;
    const [sender] = await this.store.getUsers([newest.senderId]);
    const senderName = sender?.displayName ?? 'Someone';
    const channel = await this.store.getChannel(newest.channelId);
    const groupName = channel?.kind === 'group' ? channel.name : undefined;
    const { title, body } = notificationText(jobs, senderName, groupName, previews);
    const payload: PushPayload = {
      title,
      body,
      channelId: newest.channelId,
      channelName: groupName ?? senderName,
      messageId: newest.messageId,
      count: jobs.length,
      tag: newest.channelId,
    };
    return { title, body, payload: JSON.stringify(payload), collapseKey: newest.channelId };
  }
}
