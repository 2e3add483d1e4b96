import { describeStoreContract } from '../../ports/contract/store.contract.js';
import { describePushSubscriptionStoreContract } from '../../ports/contract/push-subscriptions.contract.js';
import { SqliteStore } from './sqlite-store.js';

describeStoreContract('sqlite', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

describePushSubscriptionStoreContract('sqlite', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});
