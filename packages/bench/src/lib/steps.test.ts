import { describe, expect, it } from 'vitest';
import { stepFixture as step } from './step-fixture.js';
import { atCommonRate, cpuPerMessageUs, sustainedAt, tallyStep, type StepCounts } from './steps.js';

describe('cpuPerMessageUs', () => {
  it('divides the fraction of a core by the acked messages per second, in µs', () => {
    // Half a core for 5,000 acked msgs/s: 100 µs each.
    expect(cpuPerMessageUs(step(5000, 0.5))).toBe(100);
    expect(cpuPerMessageUs(step(3000, 0.7))).toBe(233.3);
  });

  it('is unknown when nothing was acked', () => {
    expect(cpuPerMessageUs({ ...step(1000, 0.2), ackedPerS: 0 })).toBeNull();
  });
});

describe('atCommonRate', () => {
  const parley = [step(1000, 0.2), step(2000, 0.36), step(3000, 0.9, false)];
  const durable = [step(1000, 0.15), step(2000, 0.3), step(3000, 0.42)];

  it('reads CPU per message of both at the highest step both sustained', () => {
    expect(atCommonRate(parley, durable, cpuPerMessageUs)).toEqual({ rate: 2000, a: 180, b: 150 });
  });

  it('reads delivery p99 the same way', () => {
    const a = [step(1000, 0.1, true, 4), step(2000, 0.2, true, 9)];
    const b = [step(1000, 0.1, true, 3), step(2000, 0.2, false, 300)];
    expect(atCommonRate(a, b, (s) => s.delivery.p99)).toEqual({ rate: 1000, a: 4, b: 3 });
  });

  it('finds none when either sustained nothing or did not run', () => {
    expect(atCommonRate([step(1000, 0.2, false)], durable, cpuPerMessageUs)).toBeUndefined();
    expect(atCommonRate(undefined, durable, cpuPerMessageUs)).toBeUndefined();
  });

  it('gives a third target its step at that rate only when it sustained it', () => {
    expect(sustainedAt(durable, 2000)?.serverCpu).toBe(0.3);
    expect(sustainedAt(parley, 3000)).toBeUndefined();
    expect(sustainedAt(parley, 4000)).toBeUndefined();
  });
});

describe('tallyStep', () => {
  const counts = (c: Partial<StepCounts>): StepCounts => ({
    acked: 0,
    errors: 0,
    delivered: 0,
    ackedInWindow: 0,
    deliveredInWindow: 0,
    ...c,
  });

  it('with acks: owes a delivery per acked message and counts the unanswered as unacked', () => {
    expect(tallyStep(100, counts({ acked: 97, errors: 1, delivered: 96, ackedInWindow: 90 }), 1, true)).toEqual({
      acked: 97,
      unacked: 2,
      expectedDeliveries: 97,
      lost: 1,
      ackedInWindow: 90,
    });
  });

  it('without acks: a message counts as acked once delivered, and the undelivered are lost', () => {
    expect(tallyStep(100, counts({ delivered: 98, deliveredInWindow: 95 }), 1, false)).toEqual({
      acked: 98,
      unacked: 0,
      expectedDeliveries: 100,
      lost: 2,
      ackedInWindow: 95,
    });
  });

  it('without acks and several recipients: acked counts whole fan-outs delivered', () => {
    expect(tallyStep(10, counts({ delivered: 985, deliveredInWindow: 990 }), 99, false)).toMatchObject({
      acked: 9,
      expectedDeliveries: 990,
      lost: 5,
      ackedInWindow: 10,
    });
  });
});
