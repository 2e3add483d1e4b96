import { describeRateLimiterContract } from '../../ports/contract/rate-limit.contract.js';
import type { RateLimiter } from '../../ports/rate-limit.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';

// In one process every caller shares one instance: the harness hands out the same one.
describeRateLimiterContract('memory', async () => {
  let limiter: RateLimiter | undefined;
  return {
    open: async (clock) => (limiter ??= new MemoryRateLimiter(clock)),
    cleanup: async () => limiter?.close(),
  };
});
