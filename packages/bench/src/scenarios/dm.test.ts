import { describe, expect, it } from 'vitest';
import { stepFixture as step } from '../lib/step-fixture.js';
import type { StepResult } from '../lib/steps.js';
import { dmSummary, type DmRun, type DmTargets } from './dm.js';

/** A run whose ladder is the given steps (its sustained rate: the last of its first sustained ones). */
function run(textLen: number, steps: StepResult[]): DmRun {
  let max: number | null = null;
  for (const s of steps) {
    if (!s.sustained) break;
    max = s.offered;
  }
  return { textLen, steps, maxSustainedMsgsPerS: max, connectFailures: 0, seqGaps: 0, seqDups: 0 };
}

describe('dmSummary', () => {
  const cfg = { textLens: [100, 10_000], p99BoundMs: 100 };
  // Parley sustains 2,000 (100-byte) and 1,000 (10k); the durable floor 3,000 and 1,000.
  const targets: DmTargets = {
    parley: [
      run(100, [step(1000, 0.2), step(2000, 0.36), step(3000, 0.9, false)]),
      run(10_000, [step(1000, 0.5), step(2000, 0.95, false)]),
    ],
    'floor-sqlite': [
      run(100, [step(1000, 0.15), step(2000, 0.3), step(3000, 0.42), step(5000, 0.9, false)]),
      run(10_000, [step(1000, 0.4), step(2000, 0.9, false)]),
    ],
    floor: [
      run(100, [step(1000, 0.1), step(2000, 0.16), step(3000, 0.22), step(5000, 0.33), step(7500, 0.9, false)]),
      run(10_000, [step(1000, 0.2), step(2000, 0.3), step(3000, 0.9, false)]),
    ],
    relay: [
      run(100, [step(1000, 0.05), step(2000, 0.08), step(3000, 0.11), step(5000, 0.2), step(7500, 0.3)]),
      run(10_000, [step(1000, 0.1), step(2000, 0.18), step(3000, 0.3)]),
    ],
  };
  const rows = dmSummary(targets, cfg);
  const row = (prefix: string, texts: string) =>
    rows.find((r) => r.metric.startsWith(prefix) && r.metric.includes(texts));

  it('reads server CPU per message of Parley and the durable floor at the highest step both sustained', () => {
    expect(row('dm server CPU per message against the durable floor', '100-byte')).toEqual({
      metric:
        'dm server CPU per message against the durable floor, 100-byte texts, at 2,000 msgs/s (highest step both sustained)',
      unit: 'µs/msg',
      parley: 180,
      baseline: 150,
      baselineLabel: 'floor + SQLite',
      // The protocol's cost (floor against the one-frame relay) beside Parley's, at the same rate.
      others: { floor: 80, 'one-frame relay': 40 },
      ratio: 1.2,
      target: '<= 1.25',
      met: true,
    });
  });

  it('bounds CPU per message only for 100-byte texts, and the durable rate ratio only for 10,000-char ones', () => {
    const cpu10k = row('dm server CPU per message against the durable floor', '10,000-char');
    expect(cpu10k).toMatchObject({ parley: 500, baseline: 400, ratio: 1.25 });
    expect(cpu10k?.target).toBeUndefined();
    expect(row('dm sustained msgs/s against the durable floor', '100-byte')).toMatchObject({ ratio: 0.667 });
    expect(row('dm sustained msgs/s against the durable floor', '100-byte')?.target).toBeUndefined();
    expect(row('dm sustained msgs/s against the durable floor', '10,000-char')).toMatchObject({
      parley: 1000,
      baseline: 1000,
      ratio: 1,
      target: '>= 1.0',
      met: true,
    });
  });

  it('shows the one-frame relay beside the floors in the sustained row', () => {
    expect(row('dm sustained msgs/s, ', '100-byte')).toMatchObject({
      parley: 2000,
      baseline: 5000,
      others: { 'floor + SQLite': 3000, 'one-frame relay': 7500 },
      ratio: 0.4,
      target: '>= 0.5',
      met: false,
    });
  });

  it('misses the CPU bound when Parley sustained no step the durable floor did', () => {
    const none: DmTargets = { ...targets, parley: [run(100, [step(1000, 0.9, false)])] };
    const r = dmSummary(none, { textLens: [100], p99BoundMs: 100 }).find((x) => x.metric.includes('CPU'));
    expect(r).toMatchObject({ parley: null, baseline: null, ratio: null, met: false });
    expect(r?.metric).toContain('no step both sustained');
  });
});
