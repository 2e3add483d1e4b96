import { expect, it } from 'vitest';
import { stepOrder } from './dm.js';

it('rotates the targets one place per step, so each goes first, second and last in turn', () => {
  const targets = ['parley', 'floor', 'floor-sqlite'] as const;
  expect([0, 1, 2, 3].map((k) => stepOrder(targets, k))).toEqual([
    ['parley', 'floor', 'floor-sqlite'],
    ['floor', 'floor-sqlite', 'parley'],
    ['floor-sqlite', 'parley', 'floor'],
    ['parley', 'floor', 'floor-sqlite'],
  ]);
});

it('keeps a single target as it is', () => {
  expect(stepOrder(['parley'], 1)).toEqual(['parley']);
});
