import { expect, it } from 'vitest';
import { runOrder } from './dm.js';

it('lets Parley and the floor take turns going first, the other floors after them', () => {
  const targets = ['floor', 'floor-sqlite', 'parley'] as const;
  expect(runOrder(targets, 0)).toEqual(['floor', 'parley', 'floor-sqlite']);
  expect(runOrder(targets, 1)).toEqual(['parley', 'floor', 'floor-sqlite']);
  expect(runOrder(targets, 2)).toEqual(['floor', 'parley', 'floor-sqlite']);
});

it('keeps a single target as it is', () => {
  expect(runOrder(['parley'], 1)).toEqual(['parley']);
});
