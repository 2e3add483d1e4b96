/**
 * A gateway whose bus loses its Redis (restart, failover, network blip) brings every connected
 * device up to date from the log once the bus is back, without the device doing anything. The
 * server runs in process on a redis-server of this test's own, which the test kills and starts
 * again; the store is the embedded one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, http, signup, TestSocket } from './harness.js';
import { MemoryNodeRegistry } from '../src/adapters/memory/memory-registry.js';
import { MemoryPresenceStore } from '../src/adapters/memory/memory-presence.js';
import { MemoryPushQueue } from '../src/adapters/memory/memory-push-queue.js';
import { RedisBus } from '../src/adapters/redis/redis-bus.js';
import { PrivateRedis } from '../src/adapters/redis/testing.js';
import { openSqliteStore } from '../src/adapters/sqlite/threaded-store.js';
import { createServer, type ParleyServer } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';

const skip = PrivateRedis.skipReason();

describe.skipIf(skip !== false)(`gateway after a bus outage${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('sends every socket what the bus lost, from the log, once Redis answers again', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-outage-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const config = loadConfig({
      PARLEY_PORT: '0',
      PARLEY_NODE_ID: '1',
      PARLEY_LOG_LEVEL: 'silent',
      PARLEY_PASSWORD_HASH_COST: '10',
      PARLEY_DATA_DIR: dataDir,
    });
    // Nothing is held for the reconnect: everything published during the outage is lost on the
    // bus, as when the publishing node is another one that reconnects later than this gateway.
    const bus = await RedisBus.open({ url: redis.url, holdMessages: 0 });
    const server: ParleyServer = await createServer(config, {
      store: await openSqliteStore({ path: path.join(dataDir, 'parley.db') }),
      bus,
      presence: new MemoryPresenceStore(),
      registry: new MemoryNodeRegistry(),
      pushQueue: new MemoryPushQueue(),
    });
    cleanups.push(() => server.close());

    const alice = await signup(server.baseUrl, 'alice');
    const bob = await signup(server.baseUrl, 'bob');
    const dm = await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } });
    const channelId = dm.body.channel.id as string;
    const socket = await TestSocket.connect(server.wsUrl, bob.token);
    cleanups.push(() => socket.close());
    const sendOverHttp = async (text: string) => {
      const sent = await http(server.baseUrl, 'POST', `/v1/channels/${channelId}/messages`, {
        token: alice.token,
        body: { text, clientMsgId: text },
      });
      expect(sent.status).toBe(201);
      return sent.body.message.id as string;
    };
    const live = await sendOverHttp('before');
    await socket.next((f) => f.type === 'message.created' && f.message.id === live);

    await redis.stop();
    const lost = [await sendOverHttp('during 1'), await sendOverHttp('during 2')];
    await eventually(() => bus.stats.dropped >= 2, 5_000, 'the bus to drop what it could not publish');
    const answeredAt = await redis.restart(0);

    // No frame from the device, no new event: the gateway reads the log by itself.
    await socket.next((f) => f.type === 'message.created' && f.message.id === lost[1], 10_000);
    const caughtUpMs = Date.now() - answeredAt;
    const received = socket.events('message.created').map((f) => f.message.id as string);
    expect(received).toEqual([live, ...lost]);
    const seqs = socket.events().map((f) => f.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(socket.closeCode).toBeUndefined();
    console.info(`bus outage: the socket had what the bus lost ${caughtUpMs} ms after Redis answered again`);
  }, 30_000);
});
