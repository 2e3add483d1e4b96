import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStoreHere } from '../src/adapters/sqlite/sqlite-store.js';
import { dmOf } from '../src/ports/contract/fixtures.js';
import type { Store } from '../src/ports/store.js';
import { ChatError } from '../src/domain/errors.js';
import { EventRouter } from '../src/domain/events.js';
import type { LivePublisher } from '../src/domain/live.js';
import { isOneEmoji, MessageChangeService } from '../src/domain/message-changes.js';

it('takes exactly one emoji grapheme', () => {
  for (const emoji of ['👍', '👍🏽', '👨‍👩‍👧', '🇰🇷', '❤️', '1️⃣', '#️⃣', '🏳️‍🌈']) expect(isOneEmoji(emoji), emoji).toBe(true);
  for (const text of ['', 'a', 'ok', '👍👍', ' 👍', '1', '🇰', 'é', '\u200d'])
    expect(isOneEmoji(text), text).toBe(false);
});

let store: Store;
let now: number;
const published: unknown[] = [];
beforeEach(async () => {
  store = openSqliteStoreHere({ path: ':memory:' });
  now = Date.UTC(2026, 5, 1);
  const at = new Date(now).toISOString();
  for (const [id, username] of [
    ['1', 'ann'],
    ['2', 'ben'],
  ] as const) {
    await store.createUser({ id, username, displayName: username, passwordHash: 'h', createdAt: at });
  }
  await store.getOrCreateDm(...dmOf('3', '1', '2', at));
  await store.appendMessages([
    { id: '10', channelId: '3', senderId: '1', text: 'hi', createdAt: at, clientMsgId: 'c' },
  ]);
});
afterEach(() => store.close());

function service(editWindowMs: number) {
  const live = {
    events: async (events: unknown[]) => void published.push(...events),
  } as Partial<LivePublisher> as LivePublisher;
  const events = new EventRouter(store, live, { warn: () => undefined, error: () => undefined });
  return new MessageChangeService(store, events, { now: () => now }, { editWindowMs, maxReactionEmoji: 2 });
}
const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof ChatError ? error.code : String(error)),
  );
const ref = { channelId: '3', messageId: '10' };

it('lets the sender edit within the window only', async () => {
  const changes = service(60_000);
  now += 59_000;
  expect((await changes.edit('1', ref, 'hello')).text).toBe('hello');
  now += 2_000;
  expect(await code(changes.edit('1', ref, 'later'))).toBe('forbidden');
  expect(await code(service(0).edit('1', ref, 'any time'))).toBe('ok');
});

it('caps the distinct emoji on a message, but not more users of one already there', async () => {
  const changes = service(0);
  await changes.react('1', ref, '👍', true);
  await changes.react('1', ref, '🎉', true);
  expect(await code(changes.react('2', ref, '🔥', true))).toBe('conflict');
  const message = await changes.react('2', ref, '🎉', true);
  expect(message.reactions).toEqual([
    { emoji: '👍', count: 1, me: false, userIds: ['1'] },
    { emoji: '🎉', count: 2, me: true, userIds: ['1', '2'] },
  ]);
});
