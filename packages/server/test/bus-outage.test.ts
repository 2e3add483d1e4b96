/**
 * Events the bus loses still reach the devices. A gateway whose bus loses its Redis (restart,
 * failover, network blip) brings every connected device up to date from the log once the bus
 * is back, without the device doing anything; an event lost on its way (a publishing node that
 * could not reach Redis) shows in `pong.seq` and is sent by the gateway once it reads the head.
 * The server runs in process on the embedded store; the Redis case on a redis-server of this
 * test's own, which the test kills and starts again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, http, signup, TestSocket } from './harness.js';
import { MemoryBus } from '../src/adapters/memory/memory-bus.js';
import { MemoryNodeRegistry } from '../src/adapters/memory/memory-registry.js';
import { MemoryPresenceStore } from '../src/adapters/memory/memory-presence.js';
import { RedisBus } from '../src/adapters/redis/redis-bus.js';
import { PrivateRedis } from '../src/adapters/redis/testing.js';
import { openSqliteStore } from '../src/adapters/sqlite/threaded-store.js';
import { createServer, type ParleyServer } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import type { Bus, BusMessage } from '../src/ports/bus.js';

/** The in-process bus, except that it loses what is published while `losing` is set. */
class LosingBus implements Bus {
  losing = false;
  readonly #inner = new MemoryBus();
  publish(messages: readonly BusMessage[]): Promise<void> {
    return this.losing ? Promise.resolve() : this.#inner.publish(messages);
  }
  subscribe(topic: string, onMessage: (payload: string, topic: string) => void) {
    return this.#inner.subscribe(topic, onMessage);
  }
  onReconnect(listener: () => void) {
    return this.#inner.onReconnect(listener);
  }
  close() {
    return this.#inner.close();
  }
}

async function serverOn(bus: Bus, env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-outage-'));
  const config = loadConfig({
    PARLEY_PORT: '0',
    PARLEY_NODE_ID: '1',
    PARLEY_LOG_LEVEL: 'silent',
    PARLEY_PASSWORD_HASH_COST: '10',
    ...env,
    PARLEY_DATA_DIR: dataDir,
  });
  const server: ParleyServer = await createServer(config, {
    store: await openSqliteStore({ path: path.join(dataDir, 'parley.db') }),
    bus,
    presence: new MemoryPresenceStore(),
    registry: new MemoryNodeRegistry(),
  });
  return {
    server,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Alice and Bob with a DM, Bob connected; `send` posts as Alice over HTTP. */
async function dmScene(server: ParleyServer) {
  const alice = await signup(server.baseUrl, 'alice');
  const bob = await signup(server.baseUrl, 'bob');
  const dm = await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } });
  const channelId = dm.body.channel.id as string;
  const socket = await TestSocket.connect(server.wsUrl, bob.token);
  const send = async (text: string) => {
    const sent = await http(server.baseUrl, 'POST', `/v1/channels/${channelId}/messages`, {
      token: alice.token,
      body: { text, clientMsgId: text },
    });
    expect(sent.status).toBe(201);
    return sent.body.message.id as string;
  };
  return { socket, send };
}

const skip = PrivateRedis.skipReason();

describe.skipIf(skip !== false)(`gateway after a bus outage${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('sends every socket what the bus lost, from the log, once Redis answers again', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    // Nothing is held for the reconnect: everything published during the outage is lost on the
    // bus, as when the publishing node is another one that reconnects later than this gateway.
    const bus = await RedisBus.open({ url: redis.url, holdMessages: 0 });
    const { server, close } = await serverOn(bus);
    cleanups.push(close);
    const { socket, send } = await dmScene(server);
    cleanups.push(() => socket.close());
    const live = await send('before');
    await socket.next((f) => f.type === 'message.created' && f.message.id === live);

    await redis.stop();
    const lost = [await send('during 1'), await send('during 2')];
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

describe('pong', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('carries the log head: the one of ready, then the newest event', async () => {
    const { server, close } = await serverOn(new MemoryBus());
    cleanups.push(close);
    const { socket, send } = await dmScene(server);
    cleanups.push(() => socket.close());
    const ready = socket.frames.find((f) => f.op === 'ready')!;
    socket.send({ op: 'ping' });
    expect(await socket.next((f) => f.op === 'pong')).toEqual({ op: 'pong', seq: ready.seq });
    const id = await send('hello');
    const event = await socket.next((f) => f.type === 'message.created' && f.message.id === id);
    socket.send({ op: 'ping' });
    expect(await socket.next((f) => f.op === 'pong')).toEqual({ op: 'pong', seq: event.seq });
    expect(event.seq).toBe(ready.seq + 1);
  });

  it('shows an event the bus lost within a heartbeat timeout, and the gateway sends it', async () => {
    const bus = new LosingBus();
    const { server, close } = await serverOn(bus, { PARLEY_HEARTBEAT_MS: '50', PARLEY_HEARTBEAT_TIMEOUT_MS: '300' });
    cleanups.push(close);
    const { socket, send } = await dmScene(server);
    cleanups.push(() => socket.close());
    const ready = socket.frames.find((f) => f.op === 'ready')!;
    bus.losing = true;
    const lost = await send('lost on the bus');
    // The device only pings, as every 50 ms; the gateway reads the head again after 300 ms.
    const pinger = setInterval(() => socket.send({ op: 'ping' }), 50);
    cleanups.push(async () => clearInterval(pinger));
    const event = await socket.next((f) => f.type === 'message.created' && f.message.id === lost, 5_000);
    expect(event.seq).toBe(ready.seq + 1);
    await eventually(
      () => socket.frames.some((f) => f.op === 'pong' && f.seq === event.seq),
      5_000,
      'pong with the head',
    );
    expect(socket.frames.filter((f) => f.op === 'pong').every((f) => f.seq <= event.seq)).toBe(true);
  });
});
