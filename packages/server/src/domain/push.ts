/**
 * Push notifications: after a message commits, members with no live socket get a job on the
 * PushQueue; the notifier role turns each job into an encrypted Web Push per subscribed device
 * and forgets subscriptions the push service reports gone.
 */
import type { Message, PushPayload } from '@parley/protocol';
import type { PresenceStore } from '../ports/presence.js';
import type { PushJob, PushProvider, PushQueue, PushSubscriptionStore } from '../ports/push.js';
import type { AccountStore, ChannelStore } from '../ports/store.js';
import type { Logger } from './events.js';

const PREVIEW_LENGTH = 140;

export class PushService {
  /** Notifications being queued right now (a shutdown waits for them). */
  readonly #queuing = new Set<Promise<void>>();

  constructor(
    private readonly store: PushSubscriptionStore & Pick<AccountStore, 'getUsers'> & Pick<ChannelStore, 'getChannel'>,
    private readonly presence: PresenceStore,
    private readonly queue: PushQueue,
    private readonly log: Logger,
  ) {}

  /** Queues a notification for every recipient (not the sender) with no live socket. */
  messageCommitted(message: Message, recipientIds: readonly string[]): Promise<void> {
    const queuing = this.#queue(message, recipientIds);
    this.#queuing.add(queuing);
    void queuing.finally(() => this.#queuing.delete(queuing));
    return queuing;
  }

  /** Resolves once the notifications of every message committed so far are queued (shutdown). */
  async settle(): Promise<void> {
    while (this.#queuing.size > 0) await Promise.all(this.#queuing);
  }

  async #queue(message: Message, recipientIds: readonly string[]): Promise<void> {
    const others = recipientIds.filter((id) => id !== message.senderId);
    if (others.length === 0) return;
    try {
      const online = await this.presence.online(others);
      const offline = others.filter((id) => !online.has(id));
      if (offline.length === 0) return;
      const preview = [...message.text.slice(0, PREVIEW_LENGTH * 2)].slice(0, PREVIEW_LENGTH).join('');
      const jobs: PushJob[] = offline.map((userId) => ({
        userId,
        channelId: message.channelId,
        messageId: message.id,
        senderId: message.senderId,
        preview,
      }));
      await this.queue.enqueue(jobs);
    } catch (error) {
      this.log.warn({ err: error }, 'could not queue push notifications');
    }
  }

  /** The notifier role: deliver queued jobs until the queue closes. */
  startDelivering(provider: PushProvider): void {
    this.queue.consume((job) => this.#deliver(provider, job));
  }

  async #deliver(provider: PushProvider, job: PushJob): Promise<void> {
    const subscriptions = await this.store.pushSubscriptions([job.userId]);
    if (subscriptions.length === 0) return;
    const payload: PushPayload = {
      title: await this.#title(job),
      body: job.preview,
      channelId: job.channelId,
      messageId: job.messageId,
    };
    const json = JSON.stringify(payload);
    for (const subscription of subscriptions) {
      try {
        if ((await provider.send(subscription, json)) === 'gone') {
          await this.store.deletePushSubscription(subscription.endpoint);
        }
      } catch (error) {
        this.log.warn({ err: error, endpoint: new URL(subscription.endpoint).host }, 'push delivery failed');
      }
    }
  }

  /** "Alice" for a DM, "Alice in Team" for a group. */
  async #title(job: PushJob): Promise<string> {
    const [sender] = await this.store.getUsers([job.senderId]);
    const name = sender?.displayName ?? 'Someone';
    const channel = await this.store.getChannel(job.channelId);
    return channel?.kind === 'group' && channel.name ? `${name} in ${channel.name}` : name;
  }
}
