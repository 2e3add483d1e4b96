import type { Redis } from 'ioredis';
import type { BackoffPolicy, RateDecision, RateLimiter, RateRule } from '../../ports/rate-limit.js';
import { StoreError } from '../../ports/store.js';
import { connect, DEFAULT_PREFIX, disconnect, readyOrClosed, type RedisConnectionOptions } from './connection.js';

export interface RedisRateLimiterOptions extends RedisConnectionOptions {
  /** Where "now" comes from (tests inject one); every process of a fleet should keep NTP time. */
  clock?: { now(): number };
}

/*
 * Layout (under the prefix): rate:<key>, a hash {v, at} as in MemoryRateLimiter: for a token
 * bucket the tokens left and when they were counted, for a backoff the tries and the time before
 * which no try is admitted. Each decision is one Lua script, so it is atomic across the fleet;
 * PEXPIRE drops a key once it no longer limits anything. Times come from the caller's clock.
 */

/** ARGV: now, limit, windowMs. Returns {1, 0} admitted or {0, retryAfterMs}. */
const TAKE = `
local now, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'v', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens = limit; at = now end
if now > at then
  tokens = math.min(limit, tokens + (now - at) * limit / window)
  at = now
end
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'v', tostring(tokens), 'at', tostring(at))
  -- (less a hair, so float error never rounds a whole millisecond up)
  return {0, math.ceil((1 - tokens) * window / limit - 1e-6)}
end
redis.call('HSET', KEYS[1], 'v', tostring(tokens - 1), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}`;

/** ARGV: now, free, baseMs, maxMs, forgetMs. Returns {1, 0} admitted or {0, retryAfterMs}. */
const ATTEMPT = `
local now, free, base, max, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'v', 'at')
local tries, waitUntil = tonumber(state[1]) or 0, tonumber(state[2]) or 0
if now < waitUntil then return {0, waitUntil - now} end
-- Quiet for forgetMs after the wait: start over (PEXPIRE also drops it, by Redis's own clock).
if now >= waitUntil + forget then tries = 0 end
tries = tries + 1
local wait = 0
if tries >= free then wait = math.min(max, base * 2 ^ math.min(tries - free, 40)) end
redis.call('HSET', KEYS[1], 'v', tostring(tries), 'at', tostring(now + wait))
redis.call('PEXPIRE', KEYS[1], math.floor(wait + forget))
return {1, 0}`;

type RateRedis = Redis & {
  parleyRateTake(key: string, now: number, limit: number, windowMs: number): Promise<[number, number]>;
  parleyRateAttempt(
    key: string,
    now: number,
    free: number,
    baseMs: number,
    maxMs: number,
    forgetMs: number,
  ): Promise<[number, number]>;
};

/** RateLimiter shared by the fleet through Redis (see the layout above). */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RateRedis;
  readonly #prefix: string;
  readonly #clock: { now(): number };

  constructor(options: RedisRateLimiterOptions) {
    this.#prefix = `${options.prefix ?? DEFAULT_PREFIX}rate:`;
    this.#clock = options.clock ?? { now: () => Date.now() };
    const redis = connect(options, 'parley-rate');
    redis.defineCommand('parleyRateTake', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('parleyRateAttempt', { numberOfKeys: 1, lua: ATTEMPT });
    this.#redis = redis as RateRedis;
  }

  static async open(options: RedisRateLimiterOptions, timeoutMs = 5_000): Promise<RedisRateLimiter> {
    const limiter = new RedisRateLimiter(options);
    return readyOrClosed(limiter, [limiter.#redis], timeoutMs);
  }

  async take(key: string, rule: RateRule): Promise<RateDecision> {
    return decision(
      await this.#run(() =>
        this.#redis.parleyRateTake(this.#prefix + key, this.#clock.now(), rule.limit, rule.windowMs),
      ),
    );
  }

  async attempt(key: string, policy: BackoffPolicy): Promise<RateDecision> {
    return decision(
      await this.#run(() =>
        this.#redis.parleyRateAttempt(
          this.#prefix + key,
          this.#clock.now(),
          policy.free,
          policy.baseMs,
          policy.maxMs,
          policy.forgetMs,
        ),
      ),
    );
  }

  async reset(key: string): Promise<void> {
    await this.#run(() => this.#redis.del(this.#prefix + key));
  }

  async close(): Promise<void> {
    await disconnect(this.#redis);
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreError('unavailable', `rate limiter: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
}

function decision([allowed, retryAfterMs]: [number, number]): RateDecision {
  return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, retryAfterMs) };
}
