import type { Clock } from './clock.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets per key (device), refilled continuously; idle full buckets are forgotten. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  take(key: string): boolean {
    const bucket = this.#refill(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Whether `take` would succeed now, without taking. */
  has(key: string): boolean {
    return this.#refill(key).tokens >= 1;
  }

  #refill(key: string): Bucket {
    const now = this.clock.now();
    this.#sweep(now);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, updatedAt: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
      bucket.updatedAt = now;
    }
    return bucket;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    const refillMs = (this.burst / this.ratePerSecond) * 1000;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.updatedAt > refillMs) this.#buckets.delete(key);
    }
  }
}
