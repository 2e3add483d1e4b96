/**
 * PostgreSQL beyond the shared contract: several processes (here: several stores, each with its
 * own pool, as separate processes would have) on one database at once.
 */
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StoreError, type NewMessage } from '../../ports/store.js';
import { PostgresStore } from './postgres-store.js';
import { migrations } from './schema.js';
import {
  createSchema,
  createTestDatabase,
  dropSchema,
  pgSkipReason,
  uniqueSchema,
  type TestDatabase,
} from './testing.js';
import { dmOf, groupOf } from '../../ports/contract/fixtures.js';

const skip = await pgSkipReason();
let database: Promise<TestDatabase> | undefined;
afterAll(async () => {
  if (database !== undefined) await (await database).drop();
});

let n = 0;
const id = () => (8_100_000_000_000_000_000n + BigInt(process.pid) * 1_000_000n + BigInt(++n)).toString();
const at = (ms = 0) => new Date(Date.UTC(2026, 5, 1) + ms).toISOString();

describe.skipIf(skip !== false)(`PostgresStore under concurrency${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** `count` stores ("processes") on one fresh schema. */
  async function fleet(count: number): Promise<{ stores: PostgresStore[]; url: string; schema: string }> {
    database ??= createTestDatabase('concurrency');
    const { url } = await database;
    const schema = uniqueSchema();
    await createSchema(url, schema);
    cleanups.push(() => dropSchema(url, schema));
    const stores = await Promise.all(
      Array.from({ length: count }, () => PostgresStore.open({ url, schema, poolSize: 4 })),
    );
    cleanups.push(async () => void (await Promise.all(stores.map((s) => s.close()))));
    return { stores, url, schema };
  }

  async function newUser(store: PostgresStore, name: string): Promise<string> {
    const userId = id();
    await store.createUser({
      id: userId,
      username: `${name}${n}`,
      displayName: name,
      passwordHash: 'h',
      createdAt: at(),
    });
    return userId;
  }

  it('applies each migration once when several processes start at once', async () => {
    const { url, schema } = await fleet(6);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM ${schema}.parley_migrations ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    } finally {
      await client.end();
    }
  });

  it('keeps every user seq gap-free when several processes write to the same users at once', async () => {
    const { stores } = await fleet(3);
    const [s0] = stores as [PostgresStore];
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await newUser(s0, `u${i}`));
    // Overlapping channels, so concurrent batches lock overlapping sets of users.
    const channels: { id: string; members: string[] }[] = [];
    for (let i = 0; i < 6; i++) {
      const members = [users[i]!, users[(i + 1) % 6]!, users[(i + 3) % 6]!];
      const { channel } = await s0.createGroup(...groupOf(id(), `g${i}`, members[0]!, members, at()));
      channels.push({ id: channel.id, members });
    }
    const sends: Promise<unknown>[] = [];
    let sent = 0;
    for (let round = 0; round < 30; round++) {
      stores.forEach((store, s) => {
        // A batch spans several channels in an order that differs per process and round.
        const batch: NewMessage[] = [];
        for (let k = 0; k < 3; k++) {
          const channel = channels[(round * 7 + s * 5 + k * (s + 1)) % channels.length]!;
          batch.push({
            id: id(),
            channelId: channel.id,
            senderId: channel.members[k % channel.members.length]!,
            text: `r${round} s${s} k${k}`,
            createdAt: at(round),
            clientMsgId: `c-${round}-${s}-${k}`,
          });
        }
        sent += batch.length;
        sends.push(store.appendMessages(batch));
      });
    }
    await Promise.all(sends);
    let entries = 0;
    for (const userId of users) {
      const log = await s0.readLog(userId, 0, 10_000);
      expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
      expect((await s0.logBounds(userId)).head).toBe(log.length);
      entries += log.filter((e) => e.type === 'message.created').length;
    }
    expect(entries).toBe(sent * 3); // every message reached its three members exactly once
  });

  it('stores a message once when two processes get the same (sender, clientMsgId) at once', async () => {
    const { stores } = await fleet(2);
    const [a, b] = stores as [PostgresStore, PostgresStore];
    const alice = await newUser(a, 'alice');
    const bob = await newUser(a, 'bob');
    const { channel } = await a.getOrCreateDm(...dmOf(id(), alice, bob, at()));
    for (let round = 0; round < 10; round++) {
      const send = (store: PostgresStore) =>
        store.appendMessages([
          { id: id(), channelId: channel.id, senderId: alice, text: 'once', createdAt: at(), clientMsgId: `k${round}` },
        ]);
      const [[r1], [r2]] = await Promise.all([send(a), send(b)]);
      expect([r1!.status, r2!.status].sort()).toEqual(['created', 'duplicate']);
      if (!('message' in r1!) || !('message' in r2!)) throw new Error('unexpected');
      expect(r1!.message.id).toBe(r2!.message.id);
    }
    expect(await a.listMessages(channel.id, { limit: 100 })).toHaveLength(10);
    expect((await a.logBounds(bob)).head).toBe(11);
  });

  it('gives two processes racing to open the same DM one channel', async () => {
    const { stores } = await fleet(2);
    const [a, b] = stores as [PostgresStore, PostgresStore];
    const x = await newUser(a, 'x');
    const y = await newUser(a, 'y');
    const [r1, r2] = await Promise.all([
      a.getOrCreateDm(...dmOf(id(), x, y, at())),
      b.getOrCreateDm(...dmOf(id(), y, x, at())),
    ]);
    expect(r1.channel.id).toBe(r2.channel.id);
    expect(r1.entries.length + r2.entries.length).toBe(2);
  });

  it('turns driver failures into StoreError kinds', async () => {
    await expect(PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toMatchObject({
      kind: 'unavailable',
    });
    const { stores } = await fleet(1);
    const store = stores[0]!;
    const userId = await newUser(store, 'dup');
    const error = await store
      .createUser({ id: userId, username: `other${n}`, displayName: 'x', passwordHash: 'h', createdAt: at() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ kind: 'conflict' });
  });
});
