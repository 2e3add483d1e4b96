import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs without jitter', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.attempt).toBe(6);
  });

  it('draws each delay from [base * (1 - jitter), base]', () => {
    const low = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0.999999 });
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1000);
    expect(low.next()).toBe(1000);
    expect(high.next()).toBe(2000);
  });

  it('spreads delays of many clients (full jitter)', () => {
    const delays = new Set<number>();
    for (let i = 0; i < 50; i++) delays.add(new Backoff({ initialMs: 10_000, maxMs: 10_000, jitter: 1 }).next());
    expect(delays.size).toBeGreaterThan(40);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThanOrEqual(10_000);
  });

  it('starts over after reset', () => {
    const b = new Backoff({ initialMs: 50, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(50);
  });

  it('caps at 5 s by default, so a client is back within seconds of a restart', () => {
    const b = new Backoff({ jitter: 0 });
    const delays = Array.from({ length: 12 }, () => b.next());
    expect(delays.slice(0, 6)).toEqual([250, 500, 1000, 2000, 4000, 5000]);
    expect(Math.max(...delays)).toBe(5000);
  });

  it('raises a delay to atLeastMs before jitter, never above maxMs', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 3000, jitter: 0.5, random: () => 0 });
    expect(b.next(1000)).toBe(500);
    expect(b.next(1000)).toBe(500);
    expect(b.next(10_000)).toBe(1500);
  });

  it('rejects nonsense options', () => {
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(RangeError);
  });
});
