import { expect, it } from 'vitest';
import { TokenBuckets } from './rate-limit.js';

it('allows a burst, then refills at the rate', () => {
  let now = 0;
  const buckets = new TokenBuckets(2, 3, { now: () => now });
  expect([1, 2, 3, 4].map(() => buckets.take('d'))).toEqual([true, true, true, false]);
  now += 500; // one token at 2/s
  expect([buckets.take('d'), buckets.take('d')]).toEqual([true, false]);
  expect(buckets.take('other device')).toBe(true);
});
