/**
 * The Store contract on PostgreSQL (PARLEY_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres
 * for the admin connection). One database per run, one schema per test; both dropped afterwards.
 */
import { afterAll } from 'vitest';
import { describePushOutboxContract } from '../../ports/contract/push-outbox.contract.js';
import { describePushSubscriptionStoreContract } from '../../ports/contract/push-subscriptions.contract.js';
import { describeStoreContract } from '../../ports/contract/store.contract.js';
import { PostgresStore } from './postgres-store.js';
import {
  createSchema,
  createTestDatabase,
  dropSchema,
  pgSkipReason,
  uniqueSchema,
  type TestDatabase,
} from './testing.js';

const skip = await pgSkipReason();
let database: Promise<TestDatabase> | undefined;
afterAll(async () => {
  if (database !== undefined) await (await database).drop();
});

/** A fresh schema in the run's database; cleanup drops it. */
async function harness() {
  database ??= createTestDatabase('contract');
  const { url } = await database;
  const schema = uniqueSchema();
  await createSchema(url, schema);
  const store = await PostgresStore.open({ url, schema, poolSize: 4 });
  return {
    store,
    async cleanup() {
      await store.close();
      await dropSchema(url, schema);
    },
  };
}

describeStoreContract('postgres', harness, skip);
describePushSubscriptionStoreContract('postgres', harness, skip);
describePushOutboxContract('postgres', harness, skip);
