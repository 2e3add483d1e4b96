import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describePushSubscriptionStoreContract } from '../../ports/contract/push-subscriptions.contract.js';
import { describeStoreContract } from '../../ports/contract/store.contract.js';
import { expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

async function inMemory() {
  const store = new SqliteStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
}

/** A file database with message batches committed by the writer thread, as in production. */
async function onDiskWithWriterThread() {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const store = new SqliteStore({ path: path.join(dir, 'parley.db'), writerThread: true });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('sqlite', inMemory);
describeStoreContract('sqlite, writer thread', onDiskWithWriterThread);
describePushSubscriptionStoreContract('sqlite', inMemory);

it('commits message batches on the writer thread when the database is a file', async () => {
  const { store, cleanup } = await onDiskWithWriterThread();
  expect(store.usesWriterThread).toBe(true);
  await cleanup();
});
