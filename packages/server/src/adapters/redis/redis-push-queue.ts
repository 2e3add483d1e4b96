import type { Redis } from 'ioredis';
import type { PushJob, PushQueue } from '../../ports/push.js';
import { connect, DEFAULT_PREFIX, disconnect, readyOrClosed, type RedisConnectionOptions } from './connection.js';

/** Jobs wait in a Redis list; each notifier takes them with BRPOP, so every job has one consumer. */
export class RedisPushQueue implements PushQueue {
  readonly #key: string;
  readonly #producer: Redis;
  #consumer: Redis | undefined;
  #consuming: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(private readonly options: RedisConnectionOptions) {
    this.#key = `${options.prefix ?? DEFAULT_PREFIX}push:jobs`;
    this.#producer = connect(options, 'parley-push');
  }

  static async open(options: RedisConnectionOptions, timeoutMs = 5_000): Promise<RedisPushQueue> {
    const queue = new RedisPushQueue(options);
    return readyOrClosed(queue, [queue.#producer], timeoutMs);
  }

  async enqueue(jobs: readonly PushJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#producer.lpush(this.#key, ...jobs.map((job) => JSON.stringify(job)));
  }

  consume(handler: (job: PushJob) => Promise<void>): void {
    // A blocking pop needs a connection of its own.
    const consumer = connect(this.options, 'parley-push-consumer');
    this.#consumer = consumer;
    this.#consuming = (async () => {
      while (!this.#closed) {
        let popped: [string, string] | null = null;
        try {
          // Short blocks: `close` waits for the pop under way rather than cutting it (a job
          // popped on a connection that is being cut would be lost).
          popped = await consumer.brpop(this.#key, 1);
        } catch {
          if (!this.#closed) await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        if (popped === null) continue;
        if (this.#closed) {
          // Taken as the notifier stops: back to the front (BRPOP takes from the right end).
          await this.#producer.rpush(this.#key, popped[1]).catch(() => undefined);
          return;
        }
        try {
          await handler(JSON.parse(popped[1]) as PushJob);
        } catch {
          // Dropped: see the PushQueue contract.
        }
      }
    })();
  }

  /** Stops consuming: finishes the job in hand, returns one popped meanwhile, then disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#consuming;
    await Promise.all([disconnect(this.#producer), this.#consumer && disconnect(this.#consumer)]);
  }
}
