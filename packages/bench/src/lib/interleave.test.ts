import { describe, expect, it } from 'vitest';
import { median, stepOrder } from './interleave.js';

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
