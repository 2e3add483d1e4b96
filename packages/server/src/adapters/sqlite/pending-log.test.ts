import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { NewMessage, Store } from '../../ports/store.js';
import { openSqliteStoreHere } from './sqlite-store.js';
import { dmOf } from '../../ports/contract/fixtures.js';

// The update log is written behind (pending-log.ts); these pin that every entry is readable,
// in seq order and without gaps, while pending, while being stored, once stored, and after a
// crash that lost the writer's memory.

let dir: string;
let file: string;
const stores: Store[] = [];
const now = new Date().toISOString();

/** Entries are stored by user once they have waited this long (5 s in a server). */
const MOVE_AFTER_MS = 200;

async function open(): Promise<Store> {
  const store = openSqliteStoreHere({ path: file, logMoveAfterMs: MOVE_AFTER_MS });
  stores.push(store);
  return store;
}

/** Users 1 and 2, and their DM (channel 3): log entry 1 of each is channel.created. */
async function openWithDm(createdAt = now): Promise<Store> {
  const store = await open();
  await store.createUser({ id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt });
  await store.createUser({ id: '2', username: 'b', displayName: 'B', passwordHash: 'h', createdAt });
  await store.getOrCreateDm(...dmOf('3', '1', '2', createdAt));
  return store;
}

const message = (id: number, text = `m${id}`): NewMessage => ({
  id: String(id),
  channelId: '3',
  senderId: '1',
  text,
  createdAt: now,
  clientMsgId: `c${id}`,
});

/** Entries stored (in user_log rows and chunks) and pending, read beside the store. */
function entryCounts(): { stored: number; pending: number } {
  const db = new Database(file, { readonly: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const pending = (table: string) => count(`SELECT COALESCE(SUM(json_array_length(users)), 0) AS n FROM ${table}`);
    return {
      stored:
        count(`SELECT COUNT(*) AS n FROM user_log`) +
        count(`SELECT COALESCE(SUM(json_array_length(entries)), 0) AS n FROM user_log_chunks`),
      pending: pending('user_log_pending_a') + pending('user_log_pending_b'),
    };
  } finally {
    db.close();
  }
}

/** Seq and message text of each of a user's entries after `since`. */
async function logOf(store: Store, since = 0, userId = '2'): Promise<[number, string | undefined][]> {
  return (await store.readLog(userId, since, 1000)).map((entry) => [entry.seq, entry.message?.text]);
}

const waitForGenerationToClose = () => new Promise((resolve) => setTimeout(resolve, MOVE_AFTER_MS + 50));

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-log-'));
  file = path.join(dir, 'parley.db');
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

it('reads pending entries, with their messages, before any is stored', async () => {
  const store = await openWithDm();
  await store.appendMessages([message(100), message(101)]);
  expect(entryCounts()).toEqual({ stored: 0, pending: 6 });
  expect(await logOf(store)).toEqual([
    [1, undefined],
    [2, 'm100'],
    [3, 'm101'],
  ]);
  expect(await logOf(store, 2)).toEqual([[3, 'm101']]);
  expect(await store.logBounds('2')).toEqual({ head: 3, floor: 0 });
});

it('stores a closed generation by user and keeps reading the same log', async () => {
  const store = await openWithDm();
  await store.appendMessages([message(100)]);
  await store.appendLog([{ userIds: ['2'], type: 'friend.removed', data: { userId: '1' } }], now);
  await waitForGenerationToClose();
  // This commit closes the generation above and stores it (it is smaller than one slice).
  await store.appendMessages([message(101)]);
  expect(entryCounts()).toEqual({ stored: 5, pending: 2 });
  expect(await logOf(store)).toEqual([
    [1, undefined],
    [2, 'm100'],
    [3, undefined],
    [4, 'm101'],
  ]);
  expect((await store.readLog('2', 2, 1))[0]).toEqual({
    userId: '2',
    seq: 3,
    type: 'friend.removed',
    data: { userId: '1' },
    createdAt: now,
  });
  expect(await store.logBounds('2')).toEqual({ head: 4, floor: 0 });
  const [next] = await store.appendMessages([message(102)]);
  expect(next).toMatchObject({
    status: 'created',
    entries: expect.arrayContaining([
      expect.objectContaining({ userId: '1', seq: 4 }),
      expect.objectContaining({ userId: '2', seq: 5 }),
    ]),
  });
});

it('reads a log whose closed generation is only partly stored, without gaps or repeats', async () => {
  const store = await openWithDm();
  // 700 messages log 1,400 entries: more than one commit's slice (256 at least) of the generation.
  const batch = Array.from({ length: 700 }, (_, i) => message(1000 + i));
  await store.appendMessages(batch);
  await waitForGenerationToClose();
  await store.appendMessages([message(5000)]);
  // The first slice is user 1's 701 entries (in chunks of 256); user 2's wait for the next commit.
  expect(entryCounts()).toEqual({ stored: 701, pending: 1404 });
  for (const userId of ['1', '2']) {
    const log = await logOf(store, 0, userId);
    expect(log.map(([seq]) => seq)).toEqual(Array.from({ length: 702 }, (_, i) => i + 1));
    expect(log.at(-1)).toEqual([702, 'm5000']);
    expect(await store.logBounds(userId)).toEqual({ head: 702, floor: 0 });
  }
  // Pages inside a chunk, across chunks, and from the stored entries into the pending ones.
  const seqs = async (after: number, limit: number) => (await store.readLog('1', after, limit)).map((e) => e.seq);
  expect(await seqs(0, 3)).toEqual([1, 2, 3]);
  expect(await seqs(253, 6)).toEqual([254, 255, 256, 257, 258, 259]);
  expect(await seqs(699, 3)).toEqual([700, 701, 702]);
  expect((await store.readLog('1', 299, 1))[0]?.message?.text).toBe('m1298');
});

it("trims stored chunks whole once their newest entry is older, keeping each user's newest", async () => {
  const old = '2020-01-01T00:00:00.000Z';
  const store = await openWithDm(old);
  await store.appendMessages([
    { ...message(100), createdAt: old },
    { ...message(101), createdAt: old },
  ]);
  await waitForGenerationToClose();
  await store.appendMessages([message(102)]);
  await waitForGenerationToClose();
  await store.appendMessages([message(103)]);
  // Stored: channel.created and two old messages for each user (one chunk each), then m102.
  expect(entryCounts()).toEqual({ stored: 8, pending: 2 });
  expect(await store.trimLog('2021-01-01T00:00:00.000Z')).toBe(6);
  expect(await logOf(store)).toEqual([
    [4, 'm102'],
    [5, 'm103'],
  ]);
  expect(await store.logBounds('2')).toEqual({ head: 5, floor: 3 });
});

it('moves what a crashed writer left pending when the store opens again', async () => {
  const crashed = await openWithDm();
  await crashed.appendMessages([message(100), message(101)]);
  expect(entryCounts()).toEqual({ stored: 0, pending: 6 });
  // A second writer opening the same file is what a restart after kill -9 sees: the committed
  // rows, and none of the first one's memory.
  const restarted = await open();
  expect(entryCounts()).toEqual({ stored: 6, pending: 0 });
  expect(await logOf(restarted)).toEqual([
    [1, undefined],
    [2, 'm100'],
    [3, 'm101'],
  ]);
  const [next] = await restarted.appendMessages([message(102)]);
  expect(next).toMatchObject({ status: 'created', entries: [{ seq: 4 }, { seq: 4 }] });
  // One log now read from rows (recovered), a chunk (stored since) and memory (pending).
  await waitForGenerationToClose();
  await restarted.appendMessages([message(103)]);
  expect(await logOf(restarted, 1)).toEqual([
    [2, 'm100'],
    [3, 'm101'],
    [4, 'm102'],
    [5, 'm103'],
  ]);
  expect(await restarted.logBounds('2')).toEqual({ head: 5, floor: 0 });
});

it('stores each entry once when a writer crashed halfway through storing a generation', async () => {
  const crashed = await openWithDm();
  await crashed.appendMessages(Array.from({ length: 300 }, (_, i) => message(1000 + i)));
  await waitForGenerationToClose();
  await crashed.appendMessages([message(5000)]);
  // User 1's entries are in chunks, user 2's only in the closed pending table, which still holds both.
  expect(entryCounts()).toEqual({ stored: 301, pending: 604 });
  const restarted = await open();
  expect(entryCounts()).toEqual({ stored: 604, pending: 0 });
  for (const userId of ['1', '2']) {
    expect((await logOf(restarted, 0, userId)).map(([seq]) => seq)).toEqual(
      Array.from({ length: 302 }, (_, i) => i + 1),
    );
  }
});

it('forgets the entries of a batch that rolled back, so no seq is skipped or shown', async () => {
  const store = await openWithDm();
  await store.appendMessages([message(100)]);
  // The second message reuses a stored id: the batch fails after logging the first.
  await expect(store.appendMessages([message(101), { ...message(100), clientMsgId: 'new' }])).rejects.toThrow(/UNIQUE/);
  expect(await store.logBounds('2')).toEqual({ head: 2, floor: 0 });
  const [next] = await store.appendMessages([message(102)]);
  expect(next).toMatchObject({ status: 'created', entries: [{ seq: 3 }, { seq: 3 }] });
  expect(await logOf(store)).toEqual([
    [1, undefined],
    [2, 'm100'],
    [3, 'm102'],
  ]);
});
