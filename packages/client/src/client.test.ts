/**
 * ParleyClient against a scripted fake server (fake sockets, fake fetch, fake timers): the
 * connection lifecycle, sync and outbox logic without a network.
 */
import type { Channel, ClientFrame, ErrorCode, Message, ServerFrame, SyncEvent } from '@parley/protocol';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { FetchLike } from './api.js';
import { ParleyClient } from './client.js';
import type { ChannelEvent, ConnectionState, PresenceUpdate } from './client.js';
import type { OutboxMessage } from './outbox.js';
import { MemoryStorage } from './storage.js';
import type { WebSocketLike } from './transport.js';

class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: ClientFrame[] = [];
  terminated = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as ClientFrame);
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  // server side
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  frames<Op extends ClientFrame['op']>(op: Op): Extract<ClientFrame, { op: Op }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { op: Op }> => f.op === op);
  }
}

type Route = (url: URL, init: { method: string; body?: string }) => { status: number; body?: unknown };

function harness(options: { storage?: MemoryStorage; syncLog?: SyncEvent[]; network?: EventTarget } = {}) {
  const sockets: FakeSocket[] = [];
  const requests: string[] = [];
  const log: SyncEvent[] = options.syncLog ?? [];
  const routes: Record<string, Route> = {
    'GET /v1/gateway': () => ({ status: 200, body: { url: 'ws://fake/v1/ws', nodeId: 'n1' } }),
    'GET /v1/sync': (url) => {
      const since = Number(url.searchParams.get('since'));
      const limit = Number(url.searchParams.get('limit') ?? 200);
      const after = log.filter((e) => e.seq > since);
      const events = after.slice(0, limit);
      return { status: 200, body: { events, seq: events.at(-1)?.seq ?? since, hasMore: after.length > limit } };
    },
  };
  const fetch: FetchLike = async (href, init) => {
    const url = new URL(href);
    const key = `${init.method} ${url.pathname}`;
    requests.push(`${key}${url.search}`);
    const route = routes[key];
    const res = route ? route(url, init) : { status: 404, body: { error: { code: 'not_found', message: key } } };
    return { status: res.status, ok: res.status < 300, text: async () => JSON.stringify(res.body ?? '') };
  };
  const storage = options.storage ?? new MemoryStorage();
  const client = new ParleyClient({
    baseUrl: 'http://fake',
    storage,
    fetch,
    webSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
    network: options.network ?? new EventTarget(),
    onInternalError: (error) => {
      throw error;
    },
  });
  const states: ConnectionState[] = [];
  client.connection.subscribe((s) => states.push(s));
  const stateEvents: ConnectionState[] = [];
  client.on('state', (s) => stateEvents.push(s));
  const messages: Message[] = [];
  client.on('message', (m) => messages.push(m));
  const last = () => {
    const s = sockets.at(-1);
    if (!s) throw new Error('no socket yet');
    return s;
  };
  return { client, sockets, last, requests, routes, log, storage, states, stateEvents, messages };
}

const tick = () => vi.advanceTimersByTimeAsync(0);
const msg = (id: string, channelId = 'c1', senderId = 'u2', clientMsgId?: string): Message => ({
  id,
  channelId,
  senderId,
  text: `m${id}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...(clientMsgId ? { clientMsgId } : {}),
});
const created = (seq: number, message: Message): SyncEvent => ({ seq, type: 'message.created', message });
const ready = (seq: number, heartbeatMs = 1000): ServerFrame => ({
  op: 'ready',
  userId: 'u1',
  deviceId: 'd1',
  seq,
  heartbeatMs,
  nodeId: 'n1',
});

async function online(h: ReturnType<typeof harness>, seq = 0) {
  const connected = h.client.connect();
  await tick();
  h.last().open();
  h.last().push(ready(seq));
  await connected;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ParleyClient connection', () => {
  it('discovers the gateway, says hello with the stored seq, and goes online', async () => {
    const storage = new MemoryStorage();
    await storage.set('seq.u1', '41');
    const h = harness({ storage });
    await h.client.useSession({ token: 't1', userId: 'u1', deviceId: 'd1' });
    await online(h, 41);
    expect(h.requests[0]).toBe('GET /v1/gateway');
    expect(h.last().url).toBe('ws://fake/v1/ws');
    expect(h.last().sent[0]).toEqual({ op: 'hello', token: 't1', since: 41 });
    expect(h.states).toEqual(['offline', 'connecting', 'online']);
    expect(h.stateEvents).toEqual(['connecting', 'online']);
  });

  it('a fresh device says hello without since, starts at the ready seq, and says so with resync', async () => {
    const h = harness();
    const resyncs: unknown[] = [];
    h.client.on('resync', (r) => resyncs.push(r));
    await h.client.useSession({ token: 't1', userId: 'u1', deviceId: 'd1' });
    await online(h, 7);
    expect(h.last().sent[0]).toEqual({ op: 'hello', token: 't1' });
    expect(h.client.seq).toBe(7);
    expect(await h.storage.get('seq.u1')).toBe('7');
    // What the app read over REST before this ready may lack messages up to seq 7.
    expect(resyncs).toEqual([{ seq: 7, reason: 'new' }]);
  });

  it('pings every heartbeatMs and reconnects when no pong comes', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const first = h.last();
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.frames('ping')).toHaveLength(1);
    first.push({ op: 'pong', seq: 0 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.frames('ping')).toHaveLength(2);
    // silence from now on: dead after 2 x heartbeat
    await vi.advanceTimersByTimeAsync(2000);
    expect(first.terminated).toBe(true);
    expect(h.client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(100); // first backoff step
    expect(h.sockets).toHaveLength(2);
    h.last().open();
    expect(h.last().sent[0]).toEqual({ op: 'hello', token: 't', since: 0 });
    h.last().push(ready(0));
    expect(h.client.state).toBe('online');
    expect(h.states).toEqual(['offline', 'connecting', 'online', 'reconnecting', 'online']);
  });

  it('backs off exponentially while the server is down, and resets after success', async () => {
    const h = harness();
    const gateway = h.routes['GET /v1/gateway']!;
    h.routes['GET /v1/gateway'] = () => ({ status: 503, body: { error: { code: 'unavailable', message: 'down' } } });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const errors: string[] = [];
    h.client.on('error', (e) => errors.push(e.code));
    void h.client.connect();
    await tick();
    const discoveries = () => h.requests.filter((r) => r === 'GET /v1/gateway').length;
    const gaps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = discoveries();
      let waited = 0;
      while (discoveries() === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      gaps.push(waited);
    }
    expect(gaps).toEqual([100, 200, 400, 800, 1000]);
    expect(errors).toEqual([]);
    expect(h.client.state).toBe('connecting');
    h.routes['GET /v1/gateway'] = gateway;
    await vi.advanceTimersByTimeAsync(1000);
    h.last().open();
    h.last().push(ready(0));
    expect(h.client.state).toBe('online');
    h.last().serverClose(1001);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets).toHaveLength(2);
  });

  it('keeps the session through unavailable at hello (4100) and comes back later', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const errors: string[] = [];
    h.client.on('error', (e) => errors.push(e.code));
    const connected = h.client.connect();
    await tick();
    h.last().open();
    h.last().push({ op: 'error', code: 'unavailable', message: 'storage is unavailable, try again' });
    h.last().serverClose(4100, 'unavailable');
    expect(h.client.state).toBe('connecting');
    // "Later": not at the first backoff step (100 ms) but after at least a second.
    await vi.advanceTimersByTimeAsync(990);
    expect(h.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(h.sockets).toHaveLength(2);
    h.last().open();
    expect(h.last().sent[0]).toEqual({ op: 'hello', token: 't' });
    h.last().push(ready(0));
    await expect(connected).resolves.toBeUndefined();
    expect(errors).toEqual([]);
    expect(h.client.session?.token).toBe('t');
  });

  it.each([
    [1000, 'stop'],
    [1001, 'reconnect'],
    [1006, 'backoff'],
    [1007, 'backoff'],
    [1011, 'backoff'],
    [4000, 'reconnect'],
    [4001, 'stop'],
    [4002, 'stop'],
    [4008, 'reconnect'],
    [4050, 'reconnect'],
    [4100, 'backoff'],
    [4150, 'backoff'],
    [4450, 'stop'],
  ])('after a good session closed with %i it does what the close-code table says (%s)', async (code, behaviour) => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    h.last().serverClose(code);
    expect(h.client.state).toBe(behaviour === 'stop' ? 'offline' : 'reconnecting');
    // reconnect: the first backoff step (100 ms); backoff: at least a second later; stop: never.
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets.length).toBe(behaviour === 'reconnect' ? 2 : 1);
    await vi.advanceTimersByTimeAsync(900);
    expect(h.sockets.length).toBe(behaviour === 'stop' ? 1 : 2);
    await vi.advanceTimersByTimeAsync(60_000);
    if (behaviour === 'stop') expect(h.sockets.length).toBe(1);
  });

  it('starts again on reconnect() after a stop code, but not after unauthorized or close()', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    h.last().serverClose(4002);
    expect(h.client.state).toBe('offline');
    h.client.reconnect(); // the user pressed "Retry now"
    await tick();
    expect(h.sockets).toHaveLength(2);
    h.last().open();
    h.last().push(ready(0));
    expect(h.client.state).toBe('online');

    h.last().serverClose(4001);
    h.client.reconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.sockets).toHaveLength(2);

    const other = harness();
    await other.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(other);
    await other.client.close();
    other.client.reconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(other.sockets).toHaveLength(1);
  });

  it('retries at once when the network comes back, and leaves a healthy socket alone', async () => {
    const network = new EventTarget();
    const h = harness({ network });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    network.dispatchEvent(new Event('online'));
    await tick();
    expect(h.sockets).toHaveLength(1);
    expect(h.client.state).toBe('online');
    h.last().serverClose(4100);
    await tick();
    expect(h.sockets).toHaveLength(1);
    network.dispatchEvent(new Event('online'));
    await tick();
    expect(h.sockets).toHaveLength(2);
    await h.client.close();
    network.dispatchEvent(new Event('online'));
    await tick();
    expect(h.sockets).toHaveLength(2);
  });

  it('ends the session only on unauthorized, also when /v1/sync answers 401', async () => {
    const h = harness();
    h.routes['GET /v1/sync'] = () => ({ status: 401, body: { error: { code: 'unauthorized', message: 'revoked' } } });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const errors: string[] = [];
    h.client.on('error', (e) => errors.push(e.code));
    await online(h);
    h.last().push({ op: 'event', ...created(2, msg('10')) }); // seq 1 missing: fill
    await tick();
    expect(errors).toEqual(['unauthorized']);
    expect(h.client.state).toBe('offline');
  });

  it('keeps filling a gap through 503 from /v1/sync, without an error', async () => {
    const h = harness();
    h.log.push(created(1, msg('10')), created(2, msg('11')));
    const sync = h.routes['GET /v1/sync']!;
    h.routes['GET /v1/sync'] = () => ({ status: 503, body: { error: { code: 'unavailable', message: 'down' } } });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const errors: string[] = [];
    h.client.on('error', (e) => errors.push(e.code));
    await online(h);
    h.last().push({ op: 'event', ...created(2, msg('11')) });
    await tick();
    expect(h.client.seq).toBe(0);
    h.routes['GET /v1/sync'] = sync;
    // The next fill waits twice the catch-up timeout; pongs keep the socket alive meanwhile.
    await vi.advanceTimersByTimeAsync(1000);
    h.last().push({ op: 'pong', seq: 2 });
    await vi.advanceTimersByTimeAsync(1100);
    expect(h.messages.map((m) => m.id)).toEqual(['10', '11']);
    expect(errors).toEqual([]);
  });

  it('stops on 4001 unauthorized and reports it', async () => {
    const h = harness();
    await h.client.useSession({ token: 'bad', userId: 'u1', deviceId: 'd1' });
    const errors: string[] = [];
    h.client.on('error', (e) => errors.push(e.code));
    const connected = h.client.connect();
    await tick();
    h.last().open();
    h.last().push({ op: 'error', code: 'unauthorized', message: 'bad token' });
    h.last().serverClose(4001);
    await expect(connected).rejects.toMatchObject({ code: 'unauthorized' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.sockets).toHaveLength(1);
    expect(h.client.state).toBe('offline');
    expect(errors).toEqual(['unauthorized']);
  });

  it('times out a connection that never becomes ready', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    void h.client.connect();
    await tick();
    h.last().open(); // but no ready
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.sockets[0]?.terminated).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.sockets).toHaveLength(2);
  });
});

describe('ParleyClient sync', () => {
  it('applies live events once and in order, dropping duplicates and duplicate message ids', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const ws = h.last();
    ws.push({ op: 'event', ...created(1, msg('10')) });
    ws.push({ op: 'event', ...created(2, msg('11')) });
    ws.push({ op: 'event', ...created(2, msg('11')) });
    ws.push({ op: 'event', ...created(3, msg('11')) }); // same message under another seq
    expect(h.messages.map((m) => m.id)).toEqual(['10', '11']);
    expect(h.client.seq).toBe(3);
    await h.client.flush();
    expect(await h.storage.get('seq.u1')).toBe('3');
  });

  it('fills a live gap over /v1/sync and then releases buffered events in order', async () => {
    const h = harness();
    h.log.push(created(1, msg('10')), created(2, msg('11')), created(3, msg('12')), created(4, msg('13')));
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    h.last().push({ op: 'event', ...created(1, msg('10')) });
    h.last().push({ op: 'event', ...created(4, msg('13')) }); // 2 and 3 lost on the bus
    await tick();
    expect(h.requests).toContain('GET /v1/sync?since=1&limit=1000');
    expect(h.messages.map((m) => m.id)).toEqual(['10', '11', '12', '13']);
    expect(h.client.seq).toBe(4);
  });

  it('fills a gap larger than one /v1/sync page, page by page', async () => {
    const h = harness();
    for (let seq = 1; seq <= 2500; seq++) h.log.push(created(seq, msg(String(1000 + seq))));
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    h.last().push({ op: 'event', ...created(2501, msg('9999')) });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.requests.filter((r) => r.startsWith('GET /v1/sync'))).toEqual([
      'GET /v1/sync?since=0&limit=1000',
      'GET /v1/sync?since=1000&limit=1000',
      'GET /v1/sync?since=2000&limit=1000',
    ]);
    expect(h.client.seq).toBe(2501);
    expect(h.messages).toHaveLength(2501);
    expect(new Set(h.messages.map((m) => m.id)).size).toBe(2501);
  });

  it('notices a lost last event when a pong reports a higher head, and fills it from /v1/sync', async () => {
    const h = harness();
    h.log.push(created(1, msg('10')));
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    h.last().push({ op: 'pong', seq: 0 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.requests.filter((r) => r.startsWith('GET /v1/sync'))).toEqual([]);
    h.last().push({ op: 'pong', seq: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.requests.filter((r) => r.startsWith('GET /v1/sync'))).toEqual(['GET /v1/sync?since=0&limit=1000']);
    expect(h.messages.map((m) => m.id)).toEqual(['10']);
    expect(h.client.seq).toBe(1);
  });

  it("emits a group member's read position (ephemeral read frame) as a read event", async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h, 3);
    const reads: unknown[] = [];
    h.client.on('read', (r) => reads.push(r));
    h.last().push({ op: 'read', channelId: 'g1', userId: 'u3', messageId: '42' });
    expect(reads).toEqual([{ channelId: 'g1', userId: 'u3', messageId: '42' }]);
    expect(h.client.seq).toBe(3);
  });

  it('emits user.updated as a typed user event, then as event', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const seen: string[] = [];
    h.client.on('user', (u) => seen.push(`user:${u.displayName}`));
    h.client.on('event', (e) => seen.push(`event:${e.type}`));
    const user = { id: 'u2', username: 'bob', displayName: 'Bobby' };
    h.last().push({ op: 'event', seq: 1, type: 'user.updated', user });
    expect(seen).toEqual(['user:Bobby', 'event:user.updated']);
  });

  it('catches up over /v1/sync when the replay after ready stalls', async () => {
    const h = harness();
    h.log.push(created(1, msg('10')), created(2, msg('11')));
    const storage = h.storage;
    await storage.set('seq.u1', '0');
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h, 2);
    expect(h.requests.filter((r) => r.startsWith('GET /v1/sync'))).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.messages.map((m) => m.id)).toEqual(['10', '11']);
  });

  it('on resync_required right after ready continues from ready.seq and emits resync', async () => {
    const storage = new MemoryStorage();
    await storage.set('seq.u1', '3');
    const h = harness({ storage });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const resyncs: string[] = [];
    h.client.on('resync', (r) => resyncs.push(`${r.seq} ${r.reason}`));
    await online(h, 500);
    h.last().push({ op: 'error', code: 'resync_required', message: 'too old' });
    h.last().push({ op: 'event', ...created(501, msg('10')) });
    await vi.advanceTimersByTimeAsync(1500); // past the catch-up timeout, within the pong timeout
    expect(resyncs).toEqual(['500 lost']);
    expect(h.client.seq).toBe(501);
    expect(h.messages.map((m) => m.id)).toEqual(['10']);
    expect(h.requests.filter((r) => r.startsWith('GET /v1/sync'))).toEqual([]);
    expect(h.sockets).toHaveLength(1);
  });

  it('starts over once when the server is behind the stored seq (data restored from a backup)', async () => {
    const storage = new MemoryStorage();
    await storage.set('seq.u1', '80');
    const h = harness({ storage });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const resyncs: string[] = [];
    h.client.on('resync', (r) => resyncs.push(`${r.seq} ${r.reason}`));
    await online(h, 50);
    h.last().push({ op: 'error', code: 'resync_required', message: 'since > head' });
    h.last().push({ op: 'event', ...created(51, msg('10')) });
    expect(resyncs).toEqual(['50 lost']);
    expect(h.client.seq).toBe(51);
    expect(h.messages.map((m) => m.id)).toEqual(['10']);
  });

  it('on resync_required before ready reconnects without since and emits resync at the new ready', async () => {
    const storage = new MemoryStorage();
    await storage.set('seq.u1', '3');
    const h = harness({ storage });
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const resyncs: string[] = [];
    h.client.on('resync', (r) => resyncs.push(`${r.seq} ${r.reason}`));
    void h.client.connect();
    await tick();
    h.last().open();
    h.last().push({ op: 'error', code: 'resync_required', message: 'too old' });
    await tick();
    expect(h.sockets).toHaveLength(2);
    h.last().open();
    expect(h.last().sent[0]).toEqual({ op: 'hello', token: 't' });
    h.last().push(ready(900));
    expect(resyncs).toEqual(['900 lost']);
    expect(h.client.seq).toBe(900);
  });
});

describe('ParleyClient outbox', () => {
  it('returns a pending message at once, sends it when online, and marks it sent on ack', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const m = h.client.send('c1', 'hello');
    expect(m.state).toBe('pending');
    await online(h);
    const [frame] = h.last().frames('send');
    expect(frame).toEqual({ op: 'send', channelId: 'c1', text: 'hello', clientMsgId: m.clientMsgId });
    const settled = h.client.settled(m.clientMsgId);
    h.last().push({ op: 'ack', clientMsgId: m.clientMsgId, messageId: '99', createdAt: 'now' });
    await expect(settled).resolves.toMatchObject({ state: 'sent', messageId: '99' });
    expect(h.client.outbox).toEqual([]);
  });

  it('resends unacked messages with the same clientMsgId after a reconnect', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const m = h.client.send('c1', 'hello');
    expect(h.last().frames('send')).toHaveLength(1);
    h.last().serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.sockets).toHaveLength(2);
    h.last().open();
    h.last().push(ready(0));
    expect(
      h
        .last()
        .frames('send')
        .map((f) => f.clientMsgId),
    ).toEqual([m.clientMsgId]);
  });

  it('takes the ack from the log when the ack frame was lost', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const m = h.client.send('c1', 'hello');
    h.last().push({ op: 'event', ...created(1, msg('77', 'c1', 'u1', m.clientMsgId)) });
    expect(h.client.outbox).toEqual([]);
    expect(h.messages.map((x) => x.id)).toEqual(['77']);
  });

  it('fails permanently with the server code and retries retryable errors', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const states: string[] = [];
    h.client.on('outbox', (m) => states.push(`${m.state}:${m.error?.code ?? ''}`));
    const a = h.client.send('c1', 'a');
    const b = h.client.send('c1', 'b');
    h.last().push({ op: 'error', code: 'forbidden', message: 'no', clientMsgId: a.clientMsgId });
    h.last().push({ op: 'error', code: 'rate_limited', message: 'slow', clientMsgId: b.clientMsgId });
    expect(h.client.outbox.map((m) => m.state)).toEqual(['failed', 'pending']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(
      h
        .last()
        .frames('send')
        .map((f) => f.clientMsgId),
    ).toEqual([a.clientMsgId, b.clientMsgId, b.clientMsgId]);
    expect(states).toEqual(['pending:', 'pending:', 'failed:forbidden']);
  });

  it('keeps unsent messages across a restart through the storage', async () => {
    const storage = new MemoryStorage();
    const first = harness({ storage });
    await first.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    const m = first.client.send('c1', 'survive me');
    await first.client.close();

    const second = harness({ storage });
    expect(await second.client.resume()).toMatchObject({ userId: 'u1', token: 't' });
    expect(second.client.outbox.map((x) => x.clientMsgId)).toEqual([m.clientMsgId]);
    await online(second);
    expect(
      second
        .last()
        .frames('send')
        .map((f) => f.clientMsgId),
    ).toEqual([m.clientMsgId]);
  });
});

describe('ParleyClient changes to sent messages', () => {
  it('sends a reply with replyToId through the outbox', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const m = h.client.reply('c1', '42', 'yes');
    expect(h.last().frames('send')).toEqual([
      { op: 'send', channelId: 'c1', text: 'yes', clientMsgId: m.clientMsgId, replyToId: '42' },
    ]);
  });

  it('queues edits, deletes and reactions offline and across a restart, then sends them once, in order', async () => {
    const storage = new MemoryStorage();
    const first = harness({ storage });
    await first.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    first.client.edit('c1', '10', 'fixed');
    first.client.react('c1', '10', '👍');
    await first.client.close();

    const second = harness({ storage });
    await second.client.resume();
    second.client.delete('c1', '11');
    second.client.unreact('c1', '10', '👍');
    expect(second.client.pendingChanges.map((c) => c.kind)).toEqual(['edit', 'react', 'delete', 'unreact']);
    let unavailableOnce = true;
    const message = { status: 200, body: { message: msg('10') } };
    second.routes['PATCH /v1/channels/c1/messages/10'] = () => {
      if (!unavailableOnce) return message;
      unavailableOnce = false;
      return { status: 503, body: { error: { code: 'unavailable', message: 'down' } } };
    };
    second.routes['PUT /v1/channels/c1/messages/10/reactions/%F0%9F%91%8D'] = () => message;
    second.routes['DELETE /v1/channels/c1/messages/10/reactions/%F0%9F%91%8D'] = () => message;
    second.routes['DELETE /v1/channels/c1/messages/11'] = () => ({
      status: 403,
      body: { error: { code: 'forbidden', message: 'not yours' } },
    });
    const settled: string[] = [];
    second.client.on('change', (c) => settled.push(`${c.kind}:${c.state}:${c.error?.code ?? ''}`));
    await online(second);
    await vi.advanceTimersByTimeAsync(2000);
    expect(second.requests.filter((r) => !r.startsWith('GET'))).toEqual([
      'PATCH /v1/channels/c1/messages/10',
      'PATCH /v1/channels/c1/messages/10',
      'PUT /v1/channels/c1/messages/10/reactions/%F0%9F%91%8D',
      'DELETE /v1/channels/c1/messages/11',
      'DELETE /v1/channels/c1/messages/10/reactions/%F0%9F%91%8D',
    ]);
    expect(settled).toEqual(['edit:done:', 'react:done:', 'delete:failed:forbidden', 'unreact:done:']);
    expect(second.client.pendingChanges).toEqual([]);
  });

  it('emits edits, deletes and reactions from the log as typed events', async () => {
    const h = harness();
    await h.client.useSession({ token: 't', userId: 'u1', deviceId: 'd1' });
    await online(h);
    const changed: Message[] = [];
    const reactions: string[] = [];
    h.client.on('messageChanged', (m) => changed.push(m));
    h.client.on('reaction', (r) => reactions.push(`${r.type}:${r.emoji}:${r.userId}`));
    const edited = { ...msg('5'), text: 'new', editedAt: 'later' };
    h.last().push({ op: 'event', seq: 1, type: 'message.updated', message: edited });
    h.last().push({
      op: 'event',
      seq: 2,
      type: 'reaction.added',
      channelId: 'c1',
      messageId: '5',
      emoji: '👍',
      userId: 'u2',
    });
    const tombstone = { ...msg('5'), text: '', deletedAt: 'later' };
    h.last().push({ op: 'event', seq: 3, type: 'message.deleted', message: tombstone });
    expect(changed).toEqual([edited, tombstone]);
    expect(reactions).toEqual(['reaction.added:👍:u2']);
  });
});

describe('ParleyClient types', () => {
  it('types events and results for callers', () => {
    const { client } = harness();
    client.on('message', (m) => expectTypeOf(m).toEqualTypeOf<Message>());
    client.on('presence', (p) => expectTypeOf(p).toEqualTypeOf<PresenceUpdate>());
    client.on('channel', (e) => expectTypeOf(e.type).toEqualTypeOf<ChannelEvent['type']>());
    client.on('error', (e) => expectTypeOf(e.code).toEqualTypeOf<ErrorCode>());
    expectTypeOf(client.send).returns.toEqualTypeOf<OutboxMessage>();
    expectTypeOf(client.state).toEqualTypeOf<ConnectionState>();
    expectTypeOf(client.api.channels).returns.resolves.toEqualTypeOf<Channel[]>();
    // @ts-expect-error unknown event names do not compile
    client.on('messages', () => {});
  });
});
