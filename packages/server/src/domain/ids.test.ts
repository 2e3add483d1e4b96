import { describe, expect, it } from 'vitest';
import { decodeId, SnowflakeGenerator, SNOWFLAKE_EPOCH_MS } from './ids.js';

describe('SnowflakeGenerator', () => {
  it('encodes time, node id and sequence in a decimal string', () => {
    const now = SNOWFLAKE_EPOCH_MS + 123_456_789;
    const ids = new SnowflakeGenerator(517, () => now);
    const id = ids.next();
    expect(id).toMatch(/^\d+$/);
    expect(decodeId(id)).toEqual({ timestampMs: now, nodeId: 517, sequence: 0 });
    expect(decodeId(ids.next())).toEqual({ timestampMs: now, nodeId: 517, sequence: 1 });
  });

  it('mints strictly increasing ids, also past 4096 in one millisecond', () => {
    const ids = new SnowflakeGenerator(1, () => SNOWFLAKE_EPOCH_MS + 1000);
    let previous = -1n;
    for (let i = 0; i < 10_000; i++) {
      const value = BigInt(ids.next());
      expect(value > previous).toBe(true);
      previous = value;
    }
  });

  it('never goes backwards when the clock does', () => {
    let now = SNOWFLAKE_EPOCH_MS + 5000;
    const ids = new SnowflakeGenerator(3, () => now);
    const before = BigInt(ids.next());
    now -= 2000;
    expect(BigInt(ids.next()) > before).toBe(true);
  });

  it('gives two nodes distinct ids at the same instant', () => {
    const clock = () => SNOWFLAKE_EPOCH_MS + 42;
    const a = new SnowflakeGenerator(1, clock);
    const b = new SnowflakeGenerator(2, clock);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      seen.add(a.next());
      seen.add(b.next());
    }
    expect(seen.size).toBe(2000);
  });

  it('sorts by time as decimal strings of growing length', () => {
    const early = new SnowflakeGenerator(0, () => SNOWFLAKE_EPOCH_MS + 1).next();
    const late = new SnowflakeGenerator(0, () => SNOWFLAKE_EPOCH_MS + 10 * 365 * 86_400_000).next();
    expect(BigInt(late) > BigInt(early)).toBe(true);
    expect(decodeId(late).timestampMs).toBe(SNOWFLAKE_EPOCH_MS + 10 * 365 * 86_400_000);
  });

  it('rejects node ids outside 0..1023', () => {
    expect(() => new SnowflakeGenerator(1024)).toThrow(RangeError);
    expect(() => new SnowflakeGenerator(-1)).toThrow(RangeError);
  });
});
