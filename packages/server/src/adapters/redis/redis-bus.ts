import type { Redis } from 'ioredis';
import type { Bus, BusMessage, Unsubscribe } from '../../ports/bus.js';
import { connect, DEFAULT_PREFIX, disconnect, readyOrClosed, type RedisConnectionOptions } from './connection.js';

type Handler = (payload: string, topic: string) => void;

export interface RedisBusOptions extends RedisConnectionOptions {
  /**
   * While the publishing connection is down, messages are held (up to these bounds, the oldest
   * going first) and published in order once it is back: a message committed during a short
   * outage is then still delivered live. Defaults: 10 s, 10,000 messages, 16 MiB.
   */
  holdMs?: number;
  holdMessages?: number;
  holdBytes?: number;
}

interface Held extends BusMessage {
  at: number;
  bytes: number;
}

export interface RedisBusStats {
  /** Messages handed to Redis. */
  published: number;
  /** Messages dropped because Redis was unreachable longer than they could be held (the Bus is at-most-once). */
  dropped: number;
  /** Messages held while Redis was unreachable and published once it was back. */
  delayed: number;
  /** Messages held right now, waiting for the connection. */
  held: number;
  /** Messages received and handed to local subscribers. */
  received: number;
}

/**
 * Bus on Redis pub/sub. One connection publishes (a batch is one pipelined round trip, so
 * per-topic order is kept for a single publisher); a second one, in subscriber mode, holds one
 * Redis channel per topic with local subscribers and fans out to them in process.
 *
 * Both connections reconnect by themselves; after a reconnect every topic that still has a local
 * subscriber is subscribed again and the `onReconnect` listeners are called. While Redis is
 * unreachable, `publish` holds the batch (bounded in age, count and bytes) and resolves; what
 * is held goes out in order once the connection is back, and what exceeds the bounds is dropped
 * and counted: durability is the Store's job, gateways and clients fill gaps from the update log.
 */
export class RedisBus implements Bus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #topics = new Map<string, Set<Handler>>();
  readonly #stats: RedisBusStats = { published: 0, dropped: 0, delayed: 0, held: 0, received: 0 };
  readonly #reconnectListeners = new Set<() => void>();
  readonly #hold: { ms: number; messages: number; bytes: number };
  /** Messages waiting for the publishing connection, oldest first. */
  #held: Held[] = [];
  #heldBytes = 0;
  #flushing = false;
  #everReady = false;
  #closed = false;

  constructor(options: RedisBusOptions) {
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#hold = {
      ms: options.holdMs ?? 10_000,
      messages: options.holdMessages ?? 10_000,
      bytes: options.holdBytes ?? 16 * 1024 * 1024,
    };
    this.#pub = connect(options, 'parley-bus-pub');
    this.#sub = connect({ ...options, redis: { ...options.redis, autoResubscribe: false } }, 'parley-bus-sub');
    this.#sub.on('message', (channel: string, payload: string) => this.#deliver(channel, payload));
    this.#sub.on('ready', () => void this.#resubscribe());
    this.#pub.on('ready', () => void this.#flush());
  }

  /** Creates a bus and waits until both connections are up (throws after `timeoutMs`). */
  static async open(options: RedisBusOptions, timeoutMs = 5_000): Promise<RedisBus> {
    const bus = new RedisBus(options);
    return readyOrClosed(bus, [bus.#pub, bus.#sub], timeoutMs);
  }

  get stats(): Readonly<RedisBusStats> {
    return { ...this.#stats, held: this.#held.length };
  }

  async publish(messages: readonly BusMessage[]): Promise<void> {
    if (messages.length === 0 || this.#closed) return;
    // Behind what is held, so that a topic's messages keep their order.
    if (this.#pub.status !== 'ready' || this.#held.length > 0 || this.#flushing) {
      this.#keep(messages);
      return;
    }
    await this.#send(messages);
  }

  /** Holds messages for the reconnect, dropping the oldest beyond the bounds. */
  #keep(messages: readonly BusMessage[]): void {
    const at = Date.now();
    for (const { topic, payload } of messages) {
      const bytes = Buffer.byteLength(payload) + topic.length;
      this.#held.push({ topic, payload, at, bytes });
      this.#heldBytes += bytes;
    }
    this.#dropHeld(at);
  }

  #dropHeld(now: number): void {
    let drop = 0;
    while (
      drop < this.#held.length &&
      (this.#held.length - drop > this.#hold.messages ||
        this.#heldBytes > this.#hold.bytes ||
        now - this.#held[drop]!.at > this.#hold.ms)
    ) {
      this.#heldBytes -= this.#held[drop]!.bytes;
      drop++;
    }
    if (drop === 0) return;
    this.#held = this.#held.slice(drop);
    this.#stats.dropped += drop;
  }

  /** Publishes what was held, in order, once the connection is back. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#held.length > 0 && this.#pub.status === 'ready' && !this.#closed) {
        this.#dropHeld(Date.now());
        const batch = this.#held.splice(0, 1_000);
        for (const message of batch) this.#heldBytes -= message.bytes;
        this.#stats.delayed += batch.length;
        await this.#send(batch);
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #send(messages: readonly BusMessage[]): Promise<void> {
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
    this.#stats.dropped += this.#held.length;
    this.#held = [];
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
   * subscribed again). Messages published meanwhile may be lost: a gateway then reads its
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
