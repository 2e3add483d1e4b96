import { expect, it } from 'vitest';
import type { NewMessage } from '../../ports/store.js';
import { LONG_TEXT_BYTES } from './long-texts.js';
import { decodeBatch, encodeBatch } from './writer-protocol.js';

const message = (id: string, text: string): NewMessage => ({
  id,
  channelId: '3',
  senderId: '1',
  text,
  createdAt: '2026-12-03T01:00:00.000Z',
  clientMsgId: `c${id}`,
});

/** Crosses the way a worker message does, transferring what encodeBatch says to transfer. */
function cross(batch: readonly NewMessage[]) {
  const { wire, transfer } = encodeBatch(batch);
  return decodeBatch(structuredClone(wire, { transfer }));
}

it('sends a batch of short texts as strings only, with nothing to transfer', () => {
  const batch = [message('1', 'hi'), message('2', 'é'.repeat(LONG_TEXT_BYTES / 2 - 1))];
  expect(encodeBatch(batch).transfer).toEqual([]);
  expect(cross(batch)).toEqual({ batch, encodedTexts: [undefined, undefined] });
});

it('moves each long text into one transferred buffer as its UTF-8 bytes, leaving its text empty', () => {
  const first = `${'héllo 你好 🎉 '.repeat(200)}`;
  const second = 'x'.repeat(LONG_TEXT_BYTES);
  const { batch, encodedTexts } = cross([message('1', first), message('2', 'short'), message('3', second)]);

  expect(batch.map((m) => m.text)).toEqual(['', 'short', '']);
  expect(batch.map((m) => m.clientMsgId)).toEqual(['c1', 'c2', 'c3']);
  expect(encodedTexts.map((bytes) => bytes && Buffer.from(bytes).toString('utf8'))).toEqual([first, undefined, second]);
});

it('transfers the very buffer that holds the texts', () => {
  const { wire, transfer } = encodeBatch([message('1', 'x'.repeat(LONG_TEXT_BYTES))]);
  structuredClone(wire, { transfer });
  expect(transfer[0]!.byteLength).toBe(0);
});
