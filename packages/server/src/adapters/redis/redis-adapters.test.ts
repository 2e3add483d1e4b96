/** Redis-specific behaviour beyond the shared contracts: reconnects, outages, id leases. */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../../ports/contract/wait.js';
import { StoreError } from '../../ports/store.js';
import { RedisBus } from './redis-bus.js';
import { RedisPresenceStore } from './redis-presence.js';
import { RedisNodeRegistry } from './redis-registry.js';
import { deleteRedisKeys, redisSkipReason, redisTestUrl, uniqueRedisPrefix } from './testing.js';

const skip = await redisSkipReason();
const DEAD_URL = 'redis://127.0.0.1:1';

describe.skipIf(skip !== false)(`Redis adapters${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const admin = () => {
    const r = new Redis(redisTestUrl);
    cleanups.push(async () => r.disconnect());
    return r;
  };
  const prefix = (label: string) => {
    const p = uniqueRedisPrefix(label);
    cleanups.push(() => deleteRedisKeys(p));
    return p;
  };
  /** Kills this fleet's connections server-side, as a Redis restart or a network blip would. */
  const killConnections = async (r: Redis, p: string) => {
    const list = (await r.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(`name=`) && line.includes(`@${p}`))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await r.client('KILL', 'ID', id);
  };

  it('bus: subscriptions come back after the connections drop', async () => {
    const p = prefix('bus-reconnect');
    const a = await RedisBus.open({ url: redisTestUrl, prefix: p });
    const b = await RedisBus.open({ url: redisTestUrl, prefix: p });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const got: string[] = [];
    let reconnects = 0;
    b.onReconnect(() => reconnects++);
    await b.subscribe('t', (payload) => void got.push(payload));
    await killConnections(admin(), p);
    // At-most-once: keep publishing until the resubscribed node hears one.
    let n = 0;
    await eventually(
      async () => {
        await a.publish([{ topic: 't', payload: String(n++) }]);
        return got.length > 0;
      },
      5_000,
      'delivery after reconnect',
    );
    // Steady state again: a message published now arrives (after any still in flight).
    await a.publish([{ topic: 't', payload: 'steady' }]);
    await eventually(() => got.includes('steady'), 2_000, 'steady delivery');
    expect(reconnects).toBe(1);
  });

  it('bus: publish and subscribe do not hang while Redis is unreachable; what exceeds the hold bounds is dropped and counted', async () => {
    const bus = new RedisBus({ url: DEAD_URL, prefix: 'x:', holdMessages: 2 });
    cleanups.push(() => bus.close());
    const started = Date.now();
    const off = await bus.subscribe('t', () => {});
    await bus.publish([
      { topic: 't', payload: '1' },
      { topic: 't', payload: '2' },
      { topic: 't', payload: '3' },
    ]);
    await off();
    expect(Date.now() - started).toBeLessThan(500);
    expect(bus.stats.dropped).toBe(1);
    await expect(RedisBus.open({ url: DEAD_URL }, 300)).rejects.toThrow(/not ready/);
  });

  it('bus: messages published while the connection is down are published in order once it is back', async () => {
    // A network blip between one node and Redis: the publisher's path is cut, the subscriber's is not.
    const p = prefix('bus-hold');
    const proxy = await TcpProxy.start(new URL(redisTestUrl));
    cleanups.push(() => proxy.close());
    const publisher = await RedisBus.open({ url: proxy.url, prefix: p, holdMs: 60_000 });
    const subscriber = await RedisBus.open({ url: redisTestUrl, prefix: p });
    cleanups.push(
      () => publisher.close(),
      () => subscriber.close(),
    );
    const got: string[] = [];
    await subscriber.subscribe('t', (payload) => void got.push(payload));
    await proxy.cut();
    // What is in flight when the connection drops may be lost (at-most-once); from the moment the
    // bus knows it is cut, it holds.
    await eventually(
      async () => {
        await publisher.publish([{ topic: 'probe', payload: '' }]);
        return publisher.stats.held > 0;
      },
      5_000,
      'the publisher to notice the cut',
    );
    const droppedInFlight = publisher.stats.dropped;
    for (let i = 0; i < 5; i++) await publisher.publish([{ topic: 't', payload: `while down ${i}` }]);
    expect(got).toEqual([]);
    await proxy.restore();
    await publisher.publish([{ topic: 't', payload: 'after' }]);
    await eventually(() => got.includes('after'), 10_000, 'delivery once the publisher is back');
    expect(got).toEqual([...Array.from({ length: 5 }, (_, i) => `while down ${i}`), 'after']);
    expect(publisher.stats.dropped).toBe(droppedInFlight);
  });

  it('presence: an unreachable Redis fails fast with StoreError unavailable', async () => {
    const store = new RedisPresenceStore({ url: DEAD_URL });
    cleanups.push(() => store.close());
    const lease = { userId: 'u', connId: 'c', nodeId: 'n' };
    await expect(store.touch(lease, 1_000)).rejects.toBeInstanceOf(StoreError);
    await expect(store.online(['u'])).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(store.expired(Date.now())).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('registry: renewal keeps the id lease alive past leaseMs, and close frees it', async () => {
    const p = prefix('lease-renew');
    const r = admin();
    const registry = await RedisNodeRegistry.open({ url: redisTestUrl, prefix: p, leaseMs: 300 });
    cleanups.push(() => registry.close());
    const id = await registry.leaseNodeId();
    await sleep(800);
    expect(await r.pttl(`${p}node-id:${id}`)).toBeGreaterThan(0);
    await registry.close();
    expect(await r.exists(`${p}node-id:${id}`)).toBe(0);
  });

  it('registry: takes its id back after Redis lost the key (restart without persistence)', async () => {
    const p = prefix('lease-back');
    const r = admin();
    const registry = await RedisNodeRegistry.open({ url: redisTestUrl, prefix: p, leaseMs: 300 });
    cleanups.push(() => registry.close());
    const id = await registry.leaseNodeId();
    const token = await r.get(`${p}node-id:${id}`);
    await r.del(`${p}node-id:${id}`);
    await eventually(async () => (await r.get(`${p}node-id:${id}`)) === token, 2_000, 'lease taken back');
  });

  it('registry: reports a lease taken by another process', async () => {
    const p = prefix('lease-lost');
    const r = admin();
    const lost: number[] = [];
    const registry = await RedisNodeRegistry.open({
      url: redisTestUrl,
      prefix: p,
      leaseMs: 300,
      onLeaseLost: (id) => lost.push(id),
    });
    cleanups.push(() => registry.close());
    const id = await registry.leaseNodeId();
    await r.set(`${p}node-id:${id}`, 'someone-else');
    await eventually(() => lost.length === 1, 2_000, 'onLeaseLost');
    expect(lost).toEqual([id]);
    await registry.close();
    expect(await r.get(`${p}node-id:${id}`)).toBe('someone-else'); // close frees only its own lease
  });

  it('registry: hands out the last free id, then refuses with StoreError unavailable', async () => {
    const p = prefix('lease-full');
    const r = admin();
    const pipeline = r.pipeline();
    for (let id = 0; id < 1024; id++) if (id !== 777) pipeline.set(`${p}node-id:${id}`, 'held', 'PX', 60_000);
    await pipeline.exec();
    const first = await RedisNodeRegistry.open({ url: redisTestUrl, prefix: p });
    const second = await RedisNodeRegistry.open({ url: redisTestUrl, prefix: p });
    cleanups.push(
      () => first.close(),
      () => second.close(),
    );
    expect(await first.leaseNodeId()).toBe(777);
    await expect(second.leaseNodeId()).rejects.toMatchObject({ kind: 'unavailable' });
  });
});

/** A TCP proxy in front of a server, whose path the test can cut and restore (on the same port). */
class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly target: URL,
    public port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(target: URL): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.restore();
    return proxy;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  async restore(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(Number(this.target.port || 6379), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  close(): Promise<void> {
    return this.cut();
  }
}
