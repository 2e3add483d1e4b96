/**
 * A connection that goes silent without closing (a dead NAT mapping, a laptop lid) is found by
 * the missing pong and replaced; what was sent meanwhile arrives by replay, once.
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { startServer } from '@parley/server';
import type { RunningServer } from '@parley/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wsFactory } from '../src/node.js';
import { Device, uniqueName, waitFor } from './helpers.js';

/** A TCP proxy whose existing connections can be frozen: bytes stop flowing, nothing closes. */
class FreezableProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  port = 0;

  constructor(targetPort: number) {
    this.#server = createServer((client) => {
      const upstream = createConnection(targetPort, '127.0.0.1');
      const pair = { client, upstream, frozen: false };
      this.#pairs.add(pair);
      client.on('data', (chunk) => pair.frozen || upstream.write(chunk));
      upstream.on('data', (chunk) => pair.frozen || client.write(chunk));
      const end = () => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (typeof address === 'object' && address) this.port = address.port;
  }

  freezeAll(): number {
    for (const pair of this.#pairs) pair.frozen = true;
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) pair.client.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

let server: RunningServer;
let proxy: FreezableProxy;
const devices: Device[] = [];

beforeAll(async () => {
  // The server's own heartbeat timeout is long, so only the client can notice the silence.
  server = await startServer({ env: { PARLEY_HEARTBEAT_MS: '100', PARLEY_HEARTBEAT_TIMEOUT_MS: '60000' } });
  proxy = new FreezableProxy(Number(new URL(server.baseUrl).port));
  await proxy.listen();
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.client.close()));
  await proxy?.close();
  await server?.close();
});

it('detects a silent connection by the missing pong, reconnects and replays what it missed', async () => {
  const viaProxy = new Device(server.baseUrl, {
    pongTimeoutMs: 300,
    webSocket: (url) => {
      const u = new URL(url);
      u.port = String(proxy.port);
      return wsFactory(u.toString());
    },
  });
  const bob = new Device(server.baseUrl);
  devices.push(viaProxy, bob);
  const p = (await viaProxy.client.signup({ username: uniqueName('p'), password: 'correct horse' })).user;
  await bob.client.signup({ username: uniqueName('b'), password: 'correct horse' });
  const dm = await bob.client.api.openDm(p.id);
  await Promise.all([viaProxy.client.connect(), bob.client.connect()]);

  const states: string[] = [];
  viaProxy.client.connection.subscribe((s) => states.push(s));
  expect(proxy.freezeAll()).toBe(1);
  const sent = await bob.client.settled(bob.client.send(dm.id, 'while you were frozen').clientMsgId);

  await waitFor(() => states.includes('reconnecting') && viaProxy.client.state === 'online', 'a new connection');
  await waitFor(() => viaProxy.received.length === 1, 'the replay');
  expect(viaProxy.received.map((m) => m.id)).toEqual([sent?.messageId]);
  expect(states).toEqual(['online', 'reconnecting', 'online']);
});
