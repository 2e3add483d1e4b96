import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import type { AuthResult } from '@parley/protocol';
import { http, signup, TestSocket } from './harness.js';

const fast = { PARLEY_HEARTBEAT_MS: '100', PARLEY_HEARTBEAT_TIMEOUT_MS: '400', PARLEY_PRESENCE_GRACE_MS: '300' };

let server: RunningServer;
let url: string;
beforeAll(async () => {
  server = await startServer({ env: fast });
  url = server.baseUrl;
});
afterAll(() => server.close());

async function friends(): Promise<[AuthResult, AuthResult]> {
  const a = await signup(url, 'pa');
  const b = await signup(url, 'pb');
  await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
  await http(url, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: a.user.id } });
  return [a, b];
}
const presenceOf = (userId: string, status: string) => (f: { op: string; userId?: string; status?: string }) =>
  f.op === 'presence' && f.userId === userId && f.status === status;

/** Pings like a well-behaved client until stopped. */
function keepAlive(socket: TestSocket): () => void {
  const timer = setInterval(() => socket.send({ op: 'ping' }), 100);
  return () => clearInterval(timer);
}

describe('online and offline', () => {
  it('tells a friend when the user comes online and, after the grace period, goes offline with lastSeenAt', async () => {
    const [a, b] = await friends();
    const watcher = await TestSocket.connect(server.wsUrl, b.token);
    const stopWatcher = keepAlive(watcher);
    await watcher.next(presenceOf(a.user.id, 'offline')); // the snapshot after ready
    const socket = await TestSocket.connect(server.wsUrl, a.token);
    await watcher.next(presenceOf(a.user.id, 'online'));
    await socket.close();
    const offline = await watcher.next(presenceOf(a.user.id, 'offline'), 3000);
    expect(Date.parse(offline.lastSeenAt)).toBeGreaterThan(Date.now() - 5000);
    const listed = await http(url, 'GET', '/v1/friends', { token: b.token });
    expect(listed.body.friends[0].presence).toEqual({ status: 'offline', lastSeenAt: offline.lastSeenAt });
    stopWatcher();
    await watcher.close();
  });

  it('works in both directions, and shows the current picture right after ready', async () => {
    const [a, b] = await friends();
    const sa = await TestSocket.connect(server.wsUrl, a.token);
    const stopA = keepAlive(sa);
    const sb = await TestSocket.connect(server.wsUrl, b.token);
    const stopB = keepAlive(sb);
    expect(await sb.next((f) => f.op === 'presence' && f.userId === a.user.id)).toMatchObject({ status: 'online' });
    await sa.next(presenceOf(b.user.id, 'online'));
    stopA();
    stopB();
    await sa.close();
    await sb.close();
  });

  /**
   * A control user, also the watcher's friend, who closes a socket after `a`'s closed: with the
   * same grace, its offline reaches the watcher after any offline of `a` would have. That order,
   * not a sleep, is the barrier for "nothing was announced".
   */
  async function controlFor(b: AuthResult, watcher: TestSocket) {
    const control = await signup(url, 'pc');
    await http(url, 'POST', '/v1/friends/requests', { token: control.token, body: { userId: b.user.id } });
    await http(url, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: control.user.id } });
    const socket = await TestSocket.connect(server.wsUrl, control.token);
    const stop = keepAlive(socket);
    await watcher.next(presenceOf(control.user.id, 'online'));
    return async () => {
      stop();
      await socket.close();
      await watcher.next(presenceOf(control.user.id, 'offline'), 3000);
      await watcher.roundTrip();
    };
  }

  it('stays online while another device is connected', async () => {
    const [a, b] = await friends();
    const watcher = await TestSocket.connect(server.wsUrl, b.token);
    const stopWatcher = keepAlive(watcher);
    const phone = await TestSocket.connect(server.wsUrl, a.token);
    const stopPhone = keepAlive(phone);
    await watcher.next(presenceOf(a.user.id, 'online'));
    const barrier = await controlFor(b, watcher);
    const laptop = await TestSocket.connect(server.wsUrl, a.token);
    await laptop.close();
    await barrier();
    const changes = watcher.frames.filter((f) => f.op === 'presence' && f.userId === a.user.id).map((f) => f.status);
    expect(changes).toEqual(['offline', 'online']); // the snapshot after ready, then one "online"
    expect(
      (await http(url, 'GET', '/v1/friends', { token: b.token })).body.friends.find((f: any) => f.user.id === a.user.id)
        .presence.status,
    ).toBe('online');
    stopPhone();
    stopWatcher();
    await phone.close();
    await watcher.close();
  });

  it('does not flap on a reconnect within the grace period', async () => {
    const [a, b] = await friends();
    const watcher = await TestSocket.connect(server.wsUrl, b.token);
    const stopWatcher = keepAlive(watcher);
    const first = await TestSocket.connect(server.wsUrl, a.token);
    await watcher.next(presenceOf(a.user.id, 'online'));
    const barrier = await controlFor(b, watcher);
    await first.close();
    const second = await TestSocket.connect(server.wsUrl, a.token);
    const stopSecond = keepAlive(second);
    await barrier();
    const changes = watcher.frames.filter((f) => f.op === 'presence' && f.userId === a.user.id).map((f) => f.status);
    expect(changes).toEqual(['offline', 'online']); // the snapshot after ready, then one "online"
    stopSecond();
    stopWatcher();
    await second.close();
    await watcher.close();
  });

  it('closes a socket that stops pinging (4000) and reports the user offline', async () => {
    const [a, b] = await friends();
    const watcher = await TestSocket.connect(server.wsUrl, b.token);
    const stopWatcher = keepAlive(watcher);
    const silent = await TestSocket.connect(server.wsUrl, a.token);
    await watcher.next(presenceOf(a.user.id, 'online'));
    expect(await silent.closed).toBe(4000);
    await watcher.next(presenceOf(a.user.id, 'offline'), 3000);
    stopWatcher();
    await watcher.close();
  });

  it('answers pings with pongs and keeps a pinging socket open past the timeout', async () => {
    const [a] = await friends();
    const socket = await TestSocket.connect(server.wsUrl, a.token);
    const stop = keepAlive(socket);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(socket.closeCode).toBeUndefined();
    expect(socket.frames.filter((f) => f.op === 'pong').length).toBeGreaterThan(3);
    stop();
    await socket.close();
  });

  it('fans out to members of small groups, and shows presence in member lists', async () => {
    const a = await signup(url, 'ga');
    const b = await signup(url, 'gb');
    const group = await http(url, 'POST', '/v1/groups', {
      token: a.token,
      body: { name: 'G', memberIds: [b.user.id] },
    });
    const watcher = await TestSocket.connect(server.wsUrl, b.token);
    const stop = keepAlive(watcher);
    const sa = await TestSocket.connect(server.wsUrl, a.token);
    await watcher.next(presenceOf(a.user.id, 'online'));
    const channel = await http(url, 'GET', `/v1/channels/${group.body.channel.id}`, { token: b.token });
    expect(channel.body.channel.members.find((m: { id: string }) => m.id === a.user.id).presence).toEqual({
      status: 'online',
    });
    stop();
    await sa.close();
    await watcher.close();
  });
});

describe('typing', () => {
  it('relays typing to the other members only, throttled per sender', async () => {
    const a = await signup(url, 'ta');
    const b = await signup(url, 'tb');
    const outsider = await signup(url, 'tc');
    const channelId = (await http(url, 'POST', '/v1/dms', { token: a.token, body: { userId: b.user.id } })).body.channel
      .id;
    const sa = await TestSocket.connect(server.wsUrl, a.token);
    const sb = await TestSocket.connect(server.wsUrl, b.token);
    const so = await TestSocket.connect(server.wsUrl, outsider.token);
    sa.send({ op: 'typing', channelId });
    sa.send({ op: 'typing', channelId });
    expect(await sb.next((f) => f.op === 'typing')).toEqual({ op: 'typing', channelId, userId: a.user.id });
    // A marker message proves later frames have been routed.
    await sa.sendMessage(channelId, 'marker');
    await sb.next((f) => f.op === 'event' && f.message?.text === 'marker');
    expect(sb.frames.filter((f) => f.op === 'typing')).toHaveLength(1);
    expect(sa.frames.filter((f) => f.op === 'typing')).toEqual([]);
    expect(so.frames.filter((f) => f.op === 'typing')).toEqual([]);
    await Promise.all([sa.close(), sb.close(), so.close()]);
  });
});

it('keeps lastSeenAt across a restart', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-presence-'));
  try {
    let own = await startServer({ env: fast, dataDir });
    const a = await signup(own.baseUrl, 'ra');
    const b = await signup(own.baseUrl, 'rb');
    await http(own.baseUrl, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
    await http(own.baseUrl, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: a.user.id } });
    const socket = await TestSocket.connect(own.wsUrl, a.token);
    await socket.close();
    await own.close(); // shutdown settles pending offline transitions
    own = await startServer({ env: fast, dataDir });
    const friendsOfB = await http(own.baseUrl, 'GET', '/v1/friends', { token: b.token });
    expect(friendsOfB.body.friends[0].presence).toEqual({ status: 'offline', lastSeenAt: expect.any(String) });
    await own.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
