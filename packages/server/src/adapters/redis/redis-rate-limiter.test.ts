import { describeRateLimiterContract } from '../../ports/contract/rate-limit.contract.js';
import type { RateLimiter } from '../../ports/rate-limit.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';
import { deleteRedisKeys, redisSkipReason, redisTestUrl, uniqueRedisPrefix } from './testing.js';

const skip = await redisSkipReason();

describeRateLimiterContract(
  'redis',
  async () => {
    const prefix = uniqueRedisPrefix('rate');
    const opened: RateLimiter[] = [];
    return {
      async open(clock) {
        const limiter = await RedisRateLimiter.open({ url: redisTestUrl, prefix, clock });
        opened.push(limiter);
        return limiter;
      },
      async cleanup() {
        await Promise.all(opened.map((limiter) => limiter.close()));
        await deleteRedisKeys(prefix);
      },
    };
  },
  skip,
);
