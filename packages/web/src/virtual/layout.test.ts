import { describe, expect, it } from 'vitest';
import { HeightCache, computeLayout, rowAt, visibleRange } from './layout';

describe('virtual layout', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);

  it('computes offsets from measured and estimated heights', () => {
    const cache = new HeightCache();
    cache.set('k1', 100);
    const layout = computeLayout(keys, (i) => cache.get(keys[i]!) ?? 40);
    expect(layout.offsets[0]).toBe(0);
    expect(layout.offsets[1]).toBe(40);
    expect(layout.offsets[2]).toBe(140);
    expect(layout.total).toBe(9_999 * 40 + 100);
    expect(layout.indexOf.get('k2')).toBe(2);
  });

  it('finds the row under a point by binary search', () => {
    const layout = computeLayout(keys, () => 40);
    expect(rowAt(layout.offsets, 0)).toBe(0);
    expect(rowAt(layout.offsets, 39.9)).toBe(0);
    expect(rowAt(layout.offsets, 40)).toBe(1);
    expect(rowAt(layout.offsets, 1e9)).toBe(9_999);
  });

  it('renders only a window of rows, however long the list', () => {
    const layout = computeLayout(keys, () => 40);
    const { start, end } = visibleRange(layout.offsets, 200_000, 800, 400);
    expect(start).toBe(4_990);
    expect(end).toBe(5_030);
    expect(end - start).toBeLessThan(50);
    expect(visibleRange(new Float64Array([0]), 0, 800, 400)).toEqual({ start: 0, end: -1 });
  });

  it('reports whether a measurement changed', () => {
    const cache = new HeightCache();
    expect(cache.set('a', 10)).toBe(true);
    expect(cache.set('a', 10.2)).toBe(false);
    expect(cache.set('a', 12)).toBe(true);
  });

  it('lays out 10,000 rows quickly', () => {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) computeLayout(keys, () => 40);
    expect((performance.now() - t0) / 20).toBeLessThan(20);
  });
});
