/**
 * A notifier killed mid-group: it has sent to one device and hangs on the next when it dies
 * (it never completes nor releases its lease). Another notifier on the same database claims the
 * group once the lease runs out and delivers only what is missing. Two notifier instances in
 * this process on one store (SQLite, and PostgreSQL as a fleet shares it); the clock is the
 * test's, so "nothing before the lease ends" needs no sleep.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/adapters/postgres/postgres-store.js';
import {
  createSchema,
  createTestDatabase,
  dropSchema,
  pgSkipReason,
  uniqueSchema,
  type TestDatabase,
} from '../src/adapters/postgres/testing.js';
import { openSqliteStoreHere } from '../src/adapters/sqlite/sqlite-store.js';
import { defaultPushOptions, PushNotifier, PushService } from '../src/domain/push.js';
import { dmOf } from '../src/ports/contract/fixtures.js';
import type { PushNotification, PushOutcome, PushProvider, PushSubscriptionRecord } from '../src/ports/push.js';
import type { Store } from '../src/ports/store.js';

const pgSkip = await pgSkipReason();
const silent = { warn: () => undefined, error: () => undefined, info: () => undefined };

/** A provider that records what it sent; a device listed in `hang` never gets an answer. */
class RecordingProvider implements PushProvider {
  readonly kind = 'apns' as const;
  readonly sent: { endpoint: string; body: string }[] = [];
  readonly hang = new Set<string>();
  /** Resolves when a send to a hanging device has started. */
  hanging: Promise<void>;
  #hung: () => void = () => undefined;
  constructor() {
    this.hanging = new Promise((resolve) => (this.#hung = resolve));
  }
  async send(subscription: PushSubscriptionRecord, notification: PushNotification): Promise<PushOutcome> {
    if (this.hang.has(subscription.endpoint)) {
      this.#hung();
      return new Promise<never>(() => undefined);
    }
    this.sent.push({ endpoint: subscription.endpoint, body: notification.body });
    return { status: 'delivered' };
  }
}

async function failover(store: Store): Promise<void> {
  let now = Date.UTC(2026, 5, 1);
  const clock = { now: () => now };
  const options = { ...defaultPushOptions, coalesceMs: 1000, leaseMs: 10_000 };
  const nobodyOnline = { online: async () => new Set<string>() };
  const ids = { a: '7400000000000000201', b: '7400000000000000202', dm: '7400000000000000203' };
  for (const id of [ids.a, ids.b]) {
    await store.createUser({
      id,
      username: `f${id.slice(-4)}`,
      displayName: 'F',
      passwordHash: 'h',
      createdAt: '2026-06-01T00:00:00.000Z',
    });
  }
  await store.getOrCreateDm(...dmOf(ids.dm, ids.a, ids.b, new Date(now).toISOString()));
  for (const [n, endpoint] of ['phone', 'tablet'].entries()) {
    await store.savePushSubscription({
      provider: 'apns',
      endpoint,
      p256dh: '',
      auth: '',
      userId: ids.b,
      deviceId: String(900 + n),
      createdAt: `2026-06-01T00:00:0${n}.000Z`,
    });
  }
  const queuer = new PushService(
    store,
    { ...nobodyOnline, close: async () => undefined } as never,
    clock,
    options,
    silent,
  );
  for (const [i, text] of ['one', 'two'].entries()) {
    await queuer.messageCommitted(
      { id: `740000000000000030${i}`, channelId: ids.dm, senderId: ids.a, text, createdAt: '' },
      [ids.a, ids.b],
    );
  }
  now += options.coalesceMs;

  // Notifier A sends to the phone, then hangs on the tablet, and dies there (never completes).
  const providerA = new RecordingProvider();
  providerA.hang.add('tablet');
  const a = new PushNotifier(store, nobodyOnline, [providerA], clock, options, 'notifier-a', silent);
  void a.deliverDue();
  await providerA.hanging;
  expect(providerA.sent).toEqual([{ endpoint: 'phone', body: '2 new messages' }]);
  // A recorded the phone's send before it died (the mark follows the provider's answer).
  while (!(await store.pushSentTo(['phone'], '7400000000000000301')).has('phone')) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  // Notifier B finds the group leased until A's lease runs out, then delivers what A did not.
  const providerB = new RecordingProvider();
  const b = new PushNotifier(store, nobodyOnline, [providerB], clock, options, 'notifier-b', silent);
  expect(await b.deliverDue()).toBe(0);
  now += options.leaseMs;
  expect(await b.deliverDue()).toBe(1);
  expect(providerB.sent).toEqual([{ endpoint: 'tablet', body: '2 new messages' }]);
  // Completed: nothing is left to claim.
  now += options.leaseMs;
  expect(await b.deliverDue()).toBe(0);
}

describe('a notifier that dies mid-group', () => {
  it('loses nothing and sends nothing twice (SQLite)', async () => {
    const store = openSqliteStoreHere({ path: ':memory:' });
    try {
      await failover(store);
    } finally {
      await store.close();
    }
  });

  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });
  it.skipIf(pgSkip !== false)(
    'loses nothing and sends nothing twice (two notifiers on one PostgreSQL database)',
    async () => {
      database = await createTestDatabase('push-failover');
      const schema = uniqueSchema();
      await createSchema(database.url, schema);
      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 4 });
      try {
        await failover(store);
      } finally {
        await store.close();
        await dropSchema(database.url, schema);
      }
    },
  );
});
