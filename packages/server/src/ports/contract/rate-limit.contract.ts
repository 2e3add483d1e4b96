/**
 * The RateLimiter contract (../rate-limit.ts), run against every implementation. The harness
 * opens limiters that share one backend and one test clock, each standing for one process of a
 * fleet; the clock moves only when a test moves it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BackoffPolicy, RateLimiter } from '../rate-limit.js';

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 5, 1)): ManualClock {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

export interface RateLimiterHarness {
  /** A limiter on the shared backend, reading `clock`; each call is another process. */
  open(clock: ManualClock): Promise<RateLimiter>;
  cleanup(): Promise<void>;
}

const policy: BackoffPolicy = { free: 3, baseMs: 1_000, maxMs: 8_000, forgetMs: 60_000 };

export function describeRateLimiterContract(
  name: string,
  make: () => Promise<RateLimiterHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`RateLimiter contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let harness: RateLimiterHarness | undefined;
    let clock: ManualClock;
    const setup = async () => {
      harness = await make();
      clock = manualClock();
      return harness;
    };
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it('admits a burst of `limit`, then refuses with the wait until the next token', async () => {
      const limiter = await (await setup()).open(clock);
      const rule = { limit: 3, windowMs: 3_000 };
      for (let i = 0; i < 3; i++) expect(await limiter.take('k', rule)).toEqual({ allowed: true });
      expect(await limiter.take('k', rule)).toEqual({ allowed: false, retryAfterMs: 1_000 });
      clock.advance(999);
      expect(await limiter.take('k', rule)).toEqual({ allowed: false, retryAfterMs: 1 });
      clock.advance(1);
      expect(await limiter.take('k', rule)).toEqual({ allowed: true });
      expect(await limiter.take('other', rule)).toEqual({ allowed: true });
    });

    it('shares one bucket between processes, also under concurrent calls', async () => {
      const h = await setup();
      const [a, b] = [await h.open(clock), await h.open(clock)];
      const rule = { limit: 10, windowMs: 60_000 };
      const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).take('shared', rule)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    });

    it('refills a drained bucket completely after one window', async () => {
      const limiter = await (await setup()).open(clock);
      const rule = { limit: 2, windowMs: 10_000 };
      await limiter.take('k', rule);
      await limiter.take('k', rule);
      clock.advance(60_000);
      expect(await limiter.take('k', rule)).toEqual({ allowed: true });
      expect(await limiter.take('k', rule)).toEqual({ allowed: true });
      expect((await limiter.take('k', rule)).allowed).toBe(false);
    });

    it('admits free tries, then makes each next try wait longer, up to the cap', async () => {
      const limiter = await (await setup()).open(clock);
      for (let i = 0; i < 3; i++) expect(await limiter.attempt('u', policy)).toEqual({ allowed: true });
      // The 3rd try made the 4th wait 1 s; then 2 s, 4 s, and 8 s from then on.
      for (const wait of [1_000, 2_000, 4_000, 8_000, 8_000]) {
        expect(await limiter.attempt('u', policy)).toEqual({ allowed: false, retryAfterMs: wait });
        clock.advance(wait - 1);
        // Refused tries neither count nor lengthen the wait.
        expect(await limiter.attempt('u', policy)).toEqual({ allowed: false, retryAfterMs: 1 });
        clock.advance(1);
        expect(await limiter.attempt('u', policy)).toEqual({ allowed: true });
      }
    });

    it('admits no more than the free tries at once when they race', async () => {
      const h = await setup();
      const [a, b] = [await h.open(clock), await h.open(clock)];
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).attempt('race', policy)),
      );
      // The 3 free tries; the 3rd set the first wait.
      expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    });

    it('forgets the tries after forgetMs of quiet, or at once on reset', async () => {
      const limiter = await (await setup()).open(clock);
      for (let i = 0; i < 3; i++) await limiter.attempt('u', policy);
      clock.advance(1_000 + 60_000);
      for (let i = 0; i < 3; i++) expect(await limiter.attempt('u', policy)).toEqual({ allowed: true });
      expect((await limiter.attempt('u', policy)).allowed).toBe(false);
      await limiter.reset('u');
      expect(await limiter.attempt('u', policy)).toEqual({ allowed: true });
    });
  });
}
