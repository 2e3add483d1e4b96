import type { Redis } from 'ioredis';
import type { Bus, BusMessage, Unsubscribe } from '../../ports/bus.js';
import { connect, DEFAULT_PREFIX, disconnect, whenReady, type RedisConnectionOptions } from './connection.js';

type Handler = (payload: string, topic: string) => void;

export type RedisBusOptions = RedisConnectionOptions;

export interface RedisBusStats {
  /** Messages handed to Redis. */
  published: number;
  /** Messages dropped because Redis was unreachable (the Bus is at-most-once). */
  dropped: number;
  /** Messages received and handed to local subscribers. */
  received: number;
}

/**
 * Bus on Redis pub/sub. One connection publishes (a batch is one pipelined round trip, so
 * per-topic order is kept for a single publisher); a second one, in subscriber mode, holds one
 * Redis channel per topic with local subscribers and fans out to them in process.
 *
 * Both connections reconnect by themselves; after a reconnect every topic that still has a local
 * subscriber is subscribed again. While Redis is unreachable, `publish` drops (and counts) the
 * batch and resolves: durability is the Store's job, clients fill gaps from the update log.
 */
export class RedisBus implements Bus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #topics = new Map<string, Set<Handler>>();
  readonly #stats: RedisBusStats = { published: 0, dropped: 0, received: 0 };
  readonly #reconnectListeners = new Set<() => void>();
  #everReady = false;
  #closed = false;

  constructor(options: RedisBusOptions) {
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#pub = connect(options, 'parley-bus-pub');
    this.#sub = connect({ ...options, redis: { ...options.redis, autoResubscribe: false } }, 'parley-bus-sub');
    this.#sub.on('message', (channel: string, payload: string) => this.#deliver(channel, payload));
    this.#sub.on('ready', () => void this.#resubscribe());
  }

  /** Creates a bus and waits until both connections are up (throws after `timeoutMs`). */
  static async open(options: RedisBusOptions, timeoutMs = 5_000): Promise<RedisBus> {
    const bus = new RedisBus(options);
    try {
      await Promise.all([whenReady(bus.#pub, timeoutMs), whenReady(bus.#sub, timeoutMs)]);
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  get stats(): Readonly<RedisBusStats> {
    return this.#stats;
  }

  async publish(messages: readonly BusMessage[]): Promise<void> {
    if (messages.length === 0 || this.#closed) return;
    if (this.#pub.status !== 'ready') {
      this.#stats.dropped += messages.length;
      return;
    }
    const pipeline = this.#pub.pipeline();
    for (const { topic, payload } of messages) pipeline.publish(this.#prefix + topic, payload);
    try {
      const results = await pipeline.exec();
      let failed = 0;
      for (const [error] of results ?? []) if (error) failed += 1;
      this.#stats.dropped += failed;
      this.#stats.published += messages.length - failed;
    } catch {
      this.#stats.dropped += messages.length;
    }
  }

  async subscribe(topic: string, onMessage: Handler): Promise<Unsubscribe> {
    if (this.#closed) throw new Error('RedisBus is closed');
    // Wrap so that the same function subscribed twice counts as two subscriptions.
    const handler: Handler = (payload, t) => onMessage(payload, t);
    let handlers = this.#topics.get(topic);
    if (handlers === undefined) {
      handlers = new Set([handler]);
      this.#topics.set(topic, handlers);
      if (this.#sub.status === 'ready') {
        try {
          await this.#sub.subscribe(this.#prefix + topic);
        } catch {
          // Lost the connection meanwhile: the 'ready' handler subscribes again on reconnect.
        }
      }
    } else {
      handlers.add(handler);
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const current = this.#topics.get(topic);
      if (current === undefined || !current.delete(handler) || current.size > 0) return;
      this.#topics.delete(topic);
      if (this.#sub.status === 'ready') {
        try {
          await this.#sub.unsubscribe(this.#prefix + topic);
        } catch {
          // A reconnect starts from an empty subscription set anyway.
        }
      }
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#topics.clear();
    await Promise.all([disconnect(this.#pub), disconnect(this.#sub)]);
  }

  #deliver(channel: string, payload: string): void {
    if (!channel.startsWith(this.#prefix)) return;
    const topic = channel.slice(this.#prefix.length);
    const handlers = this.#topics.get(topic);
    if (handlers === undefined) return;
    this.#stats.received += 1;
    for (const handler of handlers) {
      try {
        handler(payload, topic);
      } catch {
        // A failing subscriber must not stop delivery to the others.
      }
    }
  }

  /**
   * Calls `listener` each time the subscriber connection is back after an outage (its topics
   * subscribed again). Messages published meanwhile were lost: a gateway should then check its
   * connections' logs for entries they have not been sent. Returns a function that removes it.
   */
  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => this.#reconnectListeners.delete(listener);
  }

  async #resubscribe(): Promise<void> {
    const reconnected = this.#everReady;
    this.#everReady = true;
    const subscribed = await this.#subscribeAll();
    if (!reconnected || !subscribed || this.#closed) return;
    for (const listener of this.#reconnectListeners) {
      try {
        listener();
      } catch {
        // A failing listener must not stop the others.
      }
    }
  }

  async #subscribeAll(): Promise<boolean> {
    if (this.#closed) return false;
    const channels = [...this.#topics.keys()].map((t) => this.#prefix + t);
    // Chunked: one SUBSCRIBE with 100k arguments would stall the server.
    for (let i = 0; i < channels.length; i += 1_000) {
      try {
        await this.#sub.subscribe(...channels.slice(i, i + 1_000));
      } catch {
        return false; // disconnected again: the next 'ready' retries
      }
    }
    return true;
  }
}
