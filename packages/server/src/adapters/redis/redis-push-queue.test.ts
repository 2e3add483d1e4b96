import { afterEach, expect, it } from 'vitest';
import type { PushJob } from '../../ports/push.js';
import { describePushQueueContract } from '../../ports/contract/push-queue.contract.js';
import { RedisPushQueue } from './redis-push-queue.js';
import { deleteRedisKeys, redisSkipReason, redisTestUrl, uniqueRedisPrefix } from './testing.js';

const skip = await redisSkipReason();

describePushQueueContract(
  'redis',
  async () => {
    const prefix = uniqueRedisPrefix('push');
    const opened: RedisPushQueue[] = [];
    return {
      async open() {
        const queue = await RedisPushQueue.open({ url: redisTestUrl, prefix });
        opened.push(queue);
        return queue;
      },
      async cleanup() {
        await Promise.all(opened.map((q) => q.close()));
        await deleteRedisKeys(prefix);
      },
    };
  },
  skip,
);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it.skipIf(skip !== false)(
  'a notifier that stops leaves the jobs it did not take to the next one, in order',
  async () => {
    const prefix = uniqueRedisPrefix('push-stop');
    cleanups.push(() => deleteRedisKeys(prefix));
    const job = (n: number): PushJob => ({
      userId: 'u',
      channelId: 'c',
      messageId: String(n),
      senderId: 's',
      preview: '',
    });
    const stopping = await RedisPushQueue.open({ url: redisTestUrl, prefix });
    cleanups.push(() => stopping.close());
    let release: () => void = () => undefined;
    const first: string[] = [];
    stopping.consume(async (j) => {
      first.push(j.messageId);
      await new Promise<void>((resolve) => (release = resolve));
    });
    await stopping.enqueue([job(1), job(2), job(3)]);
    while (first.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = stopping.close();
    release();
    await closed;
    const next = await RedisPushQueue.open({ url: redisTestUrl, prefix });
    cleanups.push(() => next.close());
    const second: string[] = [];
    next.consume(async (j) => void second.push(j.messageId));
    const deadline = Date.now() + 5_000;
    while (second.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(first).toEqual(['1']);
    expect(second).toEqual(['2', '3']);
  },
);
