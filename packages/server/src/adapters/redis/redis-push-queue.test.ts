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
