import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { NewMessage, Store } from '../../ports/store.js';
import { openSqliteStoreHere } from './sqlite-store.js';
import { dmOf } from '../../ports/contract/fixtures.js';

// The idempotency index is written behind (client-msg-ids.ts); these pin that resends find their
// original whether the key is still in memory, already flushed, or lost with a crashed process.

let dir: string;
let file: string;
const stores: Store[] = [];
const now = new Date().toISOString();

async function open(): Promise<Store> {
  const store = openSqliteStoreHere({ path: file });
  stores.push(store);
  return store;
}

async function openWithDm(): Promise<Store> {
  const store = await open();
  await store.createUser({ id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt: now });
  await store.createUser({ id: '2', username: 'b', displayName: 'B', passwordHash: 'h', createdAt: now });
  await store.getOrCreateDm(...dmOf('3', '1', '2', now));
  return store;
}

const message = (id: number, clientMsgId: string, text = 'hi'): NewMessage => ({
  id: String(id),
  channelId: '3',
  senderId: '1',
  text,
  createdAt: now,
  clientMsgId,
});

/** The keys in the index table itself, read beside the store. */
function indexedKeys(): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare(`SELECT client_msg_id FROM client_msg_ids ORDER BY client_msg_id`).all() as {
        client_msg_id: string;
      }[]
    ).map((row) => row.client_msg_id);
  } finally {
    db.close();
  }
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-keys-'));
  file = path.join(dir, 'parley.db');
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

it('finds a resent key that is not yet in the index table', async () => {
  const store = await openWithDm();
  await store.appendMessages([message(100, 'k1', 'original')]);
  expect(indexedKeys()).toEqual([]);
  const [again] = await store.appendMessages([message(101, 'k1', 'resent')]);
  expect(again).toEqual({ status: 'duplicate', message: expect.objectContaining({ id: '100', text: 'original' }) });
});

it('writes the keys gathered so far into the index table once the oldest has waited a second', async () => {
  const store = await openWithDm();
  await store.appendMessages([message(100, 'k1')]);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await store.appendMessages([message(101, 'k2')]);
  // k2 joined the next generation: its commit wrote the keys that were waiting before it.
  expect(indexedKeys()).toEqual(['k1']);
  const [again] = await store.appendMessages([message(102, 'k1'), message(103, 'k2')]);
  expect(again).toEqual({ status: 'duplicate', message: expect.objectContaining({ id: '100' }) });
});

/** 2,000 keys (messages 1000-2999), closed into a generation of which one commit has written the first slice. */
const largeGeneration = Array.from({ length: 2000 }, (_, i) => `k${String(i).padStart(4, '0')}`);

async function writeFirstSliceOfLargeGeneration(store: Store): Promise<void> {
  await store.appendMessages(largeGeneration.map((key, i) => message(1000 + i, key)));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await store.appendMessages([message(5000, 'next-1')]);
}

it('writes a large generation a slice per commit, and finds every key meanwhile', async () => {
  const store = await openWithDm();
  const keys = largeGeneration;
  await writeFirstSliceOfLargeGeneration(store);
  const afterOne = indexedKeys().length;
  expect(afterOne).toBeGreaterThan(0);
  expect(afterOne).toBeLessThan(keys.length);
  // A resend of the generation's last key, not yet in the table, still finds its original.
  const [resent] = await store.appendMessages([message(5001, keys.at(-1)!)]);
  expect(resent).toEqual({ status: 'duplicate', message: expect.objectContaining({ id: String(1000 + 1999) }) });
  for (let i = 0; i < 10; i++) await store.appendMessages([message(6000 + i, `later-${i}`)]);
  expect(indexedKeys().filter((key) => key.startsWith('k'))).toEqual(keys);
});

it('re-indexes a generation that a crash left half written', async () => {
  await writeFirstSliceOfLargeGeneration(await openWithDm());
  expect(indexedKeys().length).toBeLessThan(largeGeneration.length);
  // A second writer opening the same file is what a restart after kill -9 sees.
  await open();
  expect(indexedKeys()).toEqual([...largeGeneration, 'next-1']);
});

it('finds the original of a resend after a crash that lost the keys not yet written', async () => {
  const crashed = await openWithDm();
  await crashed.appendMessages([message(100, 'k1', 'original')]);
  expect(indexedKeys()).toEqual([]);
  // A second writer opening the same file is what a restart after kill -9 sees: the committed
  // messages, and none of the first one's memory.
  const restarted = await open();
  expect(indexedKeys()).toEqual(['k1']);
  const [again] = await restarted.appendMessages([message(101, 'k1', 'resent')]);
  expect(again).toEqual({ status: 'duplicate', message: expect.objectContaining({ id: '100', text: 'original' }) });
});

it('forgets the keys of a batch that rolled back, so their resend is stored', async () => {
  const store = await openWithDm();
  // The second message reuses the first one's id: the batch fails and stores nothing.
  await expect(store.appendMessages([message(100, 'k1'), message(100, 'k2')])).rejects.toThrow(/UNIQUE/);
  const [resent] = await store.appendMessages([message(101, 'k1', 'stored now')]);
  expect(resent).toMatchObject({ status: 'created', message: { id: '101', text: 'stored now' } });
});
