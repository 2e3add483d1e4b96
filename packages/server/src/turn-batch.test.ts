import { expect, it } from 'vitest';
import { TurnBatch } from './turn-batch.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

it('hands over what one turn gathered together, in order, once the turn is done', async () => {
  const handed: number[][] = [];
  const batch = new TurnBatch<number>((items) => handed.push(items));
  batch.add(1);
  batch.add(2);
  expect(handed).toEqual([]);
  await nextTurn();
  batch.add(3);
  await nextTurn();
  expect(handed).toEqual([[1, 2], [3]]);
});

it('hands over at once on flush, and the turn end then finds nothing left', async () => {
  const handed: string[][] = [];
  const batch = new TurnBatch<string>((items) => handed.push(items));
  batch.add('a');
  batch.flush();
  expect(handed).toEqual([['a']]);
  batch.add('b');
  await nextTurn();
  expect(handed).toEqual([['a'], ['b']]);
});
