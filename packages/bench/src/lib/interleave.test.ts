import { describe, expect, it } from 'vitest';
import { balancedRounds, median, stepOrder } from './interleave.js';

describe('stepOrder', () => {
  it('rotates the targets one place per step, so each goes first, second and last in turn', () => {
    const targets = ['relay', 'floor', 'floor-sqlite', 'parley'] as const;
    expect([0, 1, 2, 3, 4].map((k) => stepOrder(targets, k))).toEqual([
      ['relay', 'floor', 'floor-sqlite', 'parley'],
      ['floor', 'floor-sqlite', 'parley', 'relay'],
      ['floor-sqlite', 'parley', 'relay', 'floor'],
      ['parley', 'relay', 'floor', 'floor-sqlite'],
      ['relay', 'floor', 'floor-sqlite', 'parley'],
    ]);
  });

  it('keeps a single target as it is', () => {
    expect(stepOrder(['parley'], 1)).toEqual(['parley']);
  });

  it('puts each of two targets first in every other round', () => {
    expect([0, 1, 2].map((k) => stepOrder(['floor', 'parley'], k)[0])).toEqual(['floor', 'parley', 'floor']);
  });
});

describe('balancedRounds', () => {
  it('rounds up to a multiple of the targets, so each takes every place equally often', () => {
    expect(balancedRounds(3, 2)).toBe(4);
    expect(balancedRounds(2, 2)).toBe(2);
    expect(balancedRounds(3, 3)).toBe(3);
    expect(balancedRounds(3, 1)).toBe(3);
    const firsts = Array.from({ length: balancedRounds(3, 2) }, (_, k) => stepOrder(['floor', 'parley'], k)[0]);
    expect(firsts.filter((kind) => kind === 'parley')).toHaveLength(2);
  });
});

describe('median', () => {
  it('takes the middle figure of an odd count, whatever the order', () => {
    expect(median([4131, 730, 2000])).toBe(2000);
    expect(median([5])).toBe(5);
  });

  it('takes the mean of the middle two of an even count', () => {
    expect(median([809, 2920])).toBe(1864.5);
    expect(median([1, 9, 3, 4])).toBe(3.5);
  });

  it('is unknown for no figures', () => {
    expect(median([])).toBeNull();
  });

  it('leaves its input in place', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});
