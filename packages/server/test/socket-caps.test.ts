/**
 * Aggregate bounds on a gateway's sockets: per account, per client address, bytes before
 * ready, and unsent bytes of the whole process. Each cap is set low through its setting, and
 * each test checks the documented behaviour at the cap and that a socket under it is served.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { CloseCode } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryBus } from '../src/adapters/memory/memory-bus.js';
import { MemoryNodeRegistry } from '../src/adapters/memory/memory-registry.js';
import { MemoryPresenceStore } from '../src/adapters/memory/memory-presence.js';
import { openSqliteStore } from '../src/adapters/sqlite/threaded-store.js';
import { createServer } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { startServer } from '../src/testing.js';
import { eventually, http, signup, TestSocket } from './harness.js';

/** Opens a socket, or the status of the HTTP answer that refused the upgrade. */
function tryOpen(url: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

describe('socket caps', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('refuses an account more sockets than PARLEY_MAX_SOCKETS_PER_USER with rate_limited and 4101', async () => {
    const server = await startServer({ env: { PARLEY_MAX_SOCKETS_PER_USER: '2' } });
    cleanups.push(() => server.close());
    const alice = await signup(server.baseUrl, 'alice');
    const bob = await signup(server.baseUrl, 'bob');
    const first = await TestSocket.connect(server.wsUrl, alice.token);
    await TestSocket.connect(server.wsUrl, alice.token);
    const third = await TestSocket.open(server.wsUrl);
    third.send({ op: 'hello', token: alice.token });
    expect(await third.closed).toBe(CloseCode.TooManySockets);
    expect(third.frames).toMatchObject([{ op: 'error', code: 'rate_limited' }]);
    // Another account is not affected; a socket freed is a socket available.
    await TestSocket.connect(server.wsUrl, bob.token);
    await first.close();
    await eventually(async () => {
      const again = await TestSocket.open(server.wsUrl);
      again.send({ op: 'hello', token: alice.token });
      const frame = await again.next((f) => f.op === 'ready' || f.op === 'error');
      return frame.op === 'ready';
    });
  });

  it('leaves no session behind for a socket that goes away at any point of its hello', async () => {
    const server = await startServer({ env: { PARLEY_MAX_SOCKETS_PER_USER: '1' } });
    cleanups.push(() => server.close());
    const alice = await signup(server.baseUrl, 'alice');
    // Cut at different points: before the token is read, while the session registers, after ready.
    for (const delayMs of [0, 0, 1, 1, 2, 3, 5, 8, 13, 21]) {
      const sock = await TestSocket.open(server.wsUrl);
      sock.send({ op: 'hello', token: alice.token });
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      sock.terminate();
    }
    // With one socket allowed, a session left registered by any of them would refuse this one.
    let kept: TestSocket | undefined;
    await eventually(async () => {
      const again = await TestSocket.open(server.wsUrl);
      again.send({ op: 'hello', token: alice.token });
      const frame = await again.next((f) => f.op === 'ready' || f.op === 'error');
      if (frame.op === 'ready') kept = again;
      else await again.close();
      return frame.op === 'ready';
    });
    // And the cap still holds beside it.
    const second = await TestSocket.open(server.wsUrl);
    second.send({ op: 'hello', token: alice.token });
    expect(await second.closed).toBe(CloseCode.TooManySockets);
    await kept!.close();
  });

  it('refuses an address more sockets than PARLEY_MAX_SOCKETS_PER_ADDRESS with HTTP 429, hello or not', async () => {
    const server = await startServer({ env: { PARLEY_MAX_SOCKETS_PER_ADDRESS: '3' } });
    cleanups.push(() => server.close());
    const open: WebSocket[] = [];
    cleanups.push(async () => open.forEach((ws) => ws.terminate()));
    for (let i = 0; i < 3; i++) {
      const result = await tryOpen(server.wsUrl);
      expect('ws' in result).toBe(true);
      if ('ws' in result) open.push(result.ws);
    }
    const refused = await tryOpen(server.wsUrl);
    expect(refused).toMatchObject({ status: 429 });
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({ error: { code: 'rate_limited' } });
    open.shift()!.close();
    await eventually(async () => {
      const result = await tryOpen(server.wsUrl);
      if ('ws' in result) open.push(result.ws);
      return 'ws' in result;
    });
  });

  it('closes a socket that sends more than PARLEY_MAX_EARLY_BYTES before ready with 4102', async () => {
    // A store whose log-head read waits until released: hello stays between hello and ready.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-caps-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const store = await openSqliteStore({ path: path.join(dataDir, 'parley.db') });
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const config = loadConfig({
      PARLEY_PORT: '0',
      PARLEY_NODE_ID: '1',
      PARLEY_LOG_LEVEL: 'silent',
      PARLEY_PASSWORD_HASH_COST: '10',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_MAX_EARLY_BYTES: '100000',
    });
    const server = await createServer(config, {
      store: { ...store, logBounds: async (userId: string) => (await gate, store.logBounds(userId)) },
      bus: new MemoryBus(),
      presence: new MemoryPresenceStore(),
      registry: new MemoryNodeRegistry(),
    });
    cleanups.push(() => server.close());
    const alice = await signup(server.baseUrl, 'alice');
    const ping = (padding: number) => JSON.stringify({ op: 'ping', padding: 'x'.repeat(padding) });

    // Under the cap: held until ready, then handled.
    gate = new Promise((resolve) => (release = resolve));
    const within = await TestSocket.open(server.wsUrl);
    within.send({ op: 'hello', token: alice.token });
    within.send(ping(40_000));
    within.send(ping(40_000));
    release();
    await within.next((f) => f.op === 'ready');
    await within.next((f) => f.op === 'pong');
    await within.next((f) => f.op === 'pong');

    // Over it: closed, nothing handled.
    gate = new Promise((resolve) => (release = resolve));
    const over = await TestSocket.open(server.wsUrl);
    over.send({ op: 'hello', token: alice.token });
    for (let i = 0; i < 3; i++) over.send(ping(40_000));
    expect(await over.closed).toBe(CloseCode.TooMuchBeforeReady);
    release();
    expect(over.frames.filter((f) => f.op === 'pong')).toEqual([]);
  });

  it('past PARLEY_MAX_PROCESS_BUFFERED_BYTES, closes the sockets that hold a large share with 4008, not those that read', async () => {
    const server = await startServer({
      env: {
        PARLEY_MAX_PROCESS_BUFFERED_BYTES: String(256 * 1024),
        // Far above what the test sends: only the process budget can close a socket.
        PARLEY_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024),
      },
    });
    cleanups.push(() => server.close());
    const alice = await signup(server.baseUrl, 'alice');
    const bob = await signup(server.baseUrl, 'bob');
    const carol = await signup(server.baseUrl, 'carol');
    const group = await http(server.baseUrl, 'POST', '/v1/groups', {
      token: alice.token,
      body: { name: 'busy', memberIds: [bob.user.id, carol.user.id] },
    });
    const channelId = group.body.channel.id as string;
    const reader = await TestSocket.connect(server.wsUrl, carol.token);
    cleanups.push(() => reader.close());
    const stalled = await TestSocket.connect(server.wsUrl, bob.token);
    // Bob's device stops reading: what the server sends him piles up in its buffer.
    const bobSocket = (stalled.ws as unknown as { _socket: Socket })._socket;
    bobSocket.pause();

    const SENDS = 200;
    const text = 'x'.repeat(100_000);
    for (let i = 0; i < SENDS; i++) {
      const sent = await http(server.baseUrl, 'POST', `/v1/channels/${channelId}/messages`, {
        token: alice.token,
        body: { text, clientMsgId: `m${i}` },
      });
      expect(sent.status).toBe(201);
    }
    await eventually(() => reader.events('message.created').length === SENDS, 20_000, 'carol gets every message');
    bobSocket.resume();
    expect(await stalled.closed).toBe(CloseCode.SlowConsumer);
    expect(stalled.events('message.created').length).toBeLessThan(SENDS);
    expect(reader.closeCode).toBeUndefined();
  }, 60_000);
});
