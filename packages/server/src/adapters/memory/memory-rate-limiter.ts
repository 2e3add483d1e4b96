import {
  backoffDelay,
  type BackoffPolicy,
  type RateDecision,
  type RateLimiter,
  type RateRule,
} from '../../ports/rate-limit.js';

interface Clock {
  now(): number;
}

interface Entry {
  /** Token bucket: tokens left; backoff: tries counted. */
  value: number;
  /** Token bucket: when `value` was computed; backoff: the time before which no try is admitted. */
  at: number;
  /** When the entry no longer limits anything and may be dropped. */
  expiresAt: number;
}

/** One process's rate limits (the embedded default); a fleet shares RedisRateLimiter instead. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #entries = new Map<string, Entry>();
  #lastSweep = 0;

  constructor(private readonly clock: Clock = { now: () => Date.now() }) {}

  async take(key: string, rule: RateRule): Promise<RateDecision> {
    const now = this.#sweep();
    const entry = this.#get(key, now);
    const elapsed = entry === undefined ? 0 : Math.max(0, now - entry.at);
    let tokens =
      entry === undefined ? rule.limit : Math.min(rule.limit, entry.value + (elapsed * rule.limit) / rule.windowMs);
    if (tokens < 1) {
      if (entry !== undefined) Object.assign(entry, { value: tokens, at: Math.max(now, entry.at) });
      return {
        allowed: false,
        retryAfterMs: Math.max(1, Math.ceil(((1 - tokens) * rule.windowMs) / rule.limit - 1e-6)),
      };
    }
    tokens -= 1;
    this.#entries.set(key, { value: tokens, at: Math.max(now, entry?.at ?? now), expiresAt: now + rule.windowMs });
    return { allowed: true };
  }

  async attempt(key: string, policy: BackoffPolicy): Promise<RateDecision> {
    const now = this.#sweep();
    const entry = this.#get(key, now);
    if (entry !== undefined && now < entry.at) return { allowed: false, retryAfterMs: entry.at - now };
    const tries = (entry?.value ?? 0) + 1;
    const wait = backoffDelay(tries, policy);
    this.#entries.set(key, { value: tries, at: now + wait, expiresAt: now + wait + policy.forgetMs });
    return { allowed: true };
  }

  async reset(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  #get(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expiresAt > now ? entry : undefined;
  }

  /** The time now, after dropping expired entries (at most once a minute) so memory stays bounded. */
  #sweep(): number {
    const now = this.clock.now();
    if (now - this.#lastSweep >= 60_000) {
      this.#lastSweep = now;
      for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    }
    return now;
  }
}
