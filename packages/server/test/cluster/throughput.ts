/**
 * Back-end throughput on this machine, for docs/scaling.md: group commits into PostgresStore
 * (DM messages, two log entries each) and RedisBus fan-out. Not a test; run with
 *   npx vite-node packages/server/test/cluster/throughput.ts [seconds]
 * against the same PostgreSQL and Redis the tests use. Creates and drops its own database/prefix.
 */
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { createTestDatabase } from '../../src/adapters/postgres/testing.js';
import { RedisBus } from '../../src/adapters/redis/redis-bus.js';
import { deleteRedisKeys, redisTestUrl, uniqueRedisPrefix } from '../../src/adapters/redis/testing.js';
import { dmOf } from '../../src/ports/contract/fixtures.js';
import type { NewMessage } from '../../src/ports/store.js';

const seconds = Number(process.argv[2] ?? 10);
const USERS = 2_000;
const COMMITTERS = 4;
const BATCH = 64;
const TEXT = 'x'.repeat(100); // a typical chat message is well under 100 bytes

let n = 0n;
const base = BigInt(Date.now() - Date.UTC(2026, 0, 1)) << 22n;
const id = () => (base + ++n).toString();
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function store(): Promise<void> {
  const db = await createTestDatabase('throughput');
  const s = await PostgresStore.open({ url: db.url, poolSize: COMMITTERS + 2 });
  try {
    const users: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const userId = id();
      users.push(userId);
      await s.createUser({
        id: userId,
        username: `u${i}`,
        displayName: `u${i}`,
        passwordHash: 'h',
        createdAt: new Date().toISOString(),
      });
    }
    const dms: { channelId: string; members: [string, string] }[] = [];
    for (let i = 0; i < USERS; i++) {
      const pair: [string, string] = [users[i]!, users[(i * 7 + 1) % USERS]!];
      const { channel } = await s.getOrCreateDm(...dmOf(id(), pair[0], pair[1], new Date().toISOString()));
      dms.push({ channelId: channel.id, members: pair });
    }
    const latencies: number[] = [];
    let messages = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: COMMITTERS }, async () => {
        while (Date.now() < end) {
          const batch: NewMessage[] = Array.from({ length: BATCH }, () => {
            const dm = dms[Math.floor(Math.random() * dms.length)]!;
            const messageId = id();
            return {
              id: messageId,
              channelId: dm.channelId,
              senderId: dm.members[0],
              text: TEXT,
              createdAt: new Date().toISOString(),
              clientMsgId: messageId,
            };
          });
          const started = performance.now();
          await s.appendMessages(batch);
          latencies.push(performance.now() - started);
          messages += batch.length;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    console.log(
      `postgres: ${Math.round(messages / seconds)} messages/s committed (${COMMITTERS} committers x batches of ${BATCH}, ` +
        `2 log entries each); commit p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
    );
  } finally {
    await s.close();
    await db.drop();
  }
}

async function bus(): Promise<void> {
  const prefix = uniqueRedisPrefix('throughput');
  const publisher = await RedisBus.open({ url: redisTestUrl, prefix });
  const subscriber = await RedisBus.open({ url: redisTestUrl, prefix });
  try {
    let received = 0;
    const topics = Array.from({ length: 1_000 }, (_, i) => `user.${i}`);
    for (const topic of topics) await subscriber.subscribe(topic, () => void received++);
    const payload = JSON.stringify({ op: 'event', seq: 1, type: 'message.created', message: { text: TEXT } });
    let published = 0;
    const end = Date.now() + (seconds / 2) * 1000;
    while (Date.now() < end) {
      await publisher.publish(
        Array.from({ length: 100 }, (_, i) => ({ topic: topics[(published + i) % topics.length]!, payload })),
      );
      published += 100;
    }
    await new Promise((r) => setTimeout(r, 500));
    console.log(
      `redis bus: ${Math.round(published / (seconds / 2))} events/s published in batches of 100 (${payload.length} B each), ` +
        `${Math.round(received / (seconds / 2))} events/s received by one subscriber node`,
    );
  } finally {
    await publisher.close();
    await subscriber.close();
    await deleteRedisKeys(prefix);
  }
}

await store();
await bus();
