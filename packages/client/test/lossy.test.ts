/**
 * The bus between server nodes is at-most-once, so a device may miss live events. The SDK
 * must notice the seq gap and fetch the missing events over GET /v1/sync. Here a filtering
 * transport drops event frames on their way in, against the real server.
 */
import { startServer } from '@parley/server';
import type { RunningServer } from '@parley/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wsFactory } from '../src/node.js';
import type { FetchLike, WebSocketLike } from '../src/node.js';
import { Device, deliveryProblem, uniqueName, waitFor } from './helpers.js';

/** A socket that hides incoming frames for which `drop` says so. */
class FilteringSocket implements WebSocketLike {
  readonly #ws: WebSocketLike;
  readonly #drop: (frame: { op: string; seq?: number }) => boolean;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(url: string, drop: (frame: { op: string; seq?: number }) => boolean) {
    this.#ws = wsFactory(url);
    this.#drop = drop;
    this.#ws.onopen = (e) => this.onopen?.(e);
    this.#ws.onclose = (e) => this.onclose?.(e);
    this.#ws.onerror = (e) => this.onerror?.(e);
    this.#ws.onmessage = (e) => {
      if (!this.#drop(JSON.parse(String(e.data)) as { op: string; seq?: number })) this.onmessage?.(e);
    };
  }
  get readyState(): number {
    return this.#ws.readyState;
  }
  send(data: string): void {
    this.#ws.send(data);
  }
  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }
  terminate(): void {
    this.#ws.terminate?.();
  }
}

let server: RunningServer;
const devices: Device[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.client.close()));
  await server?.close();
});

it('fills seq gaps in live traffic over /v1/sync, delivering each message once and in order', async () => {
  let lossy = true;
  let dropped = 0;
  const syncCalls: string[] = [];
  const countingFetch: FetchLike = (url, init) => {
    if (url.includes('/v1/sync')) syncCalls.push(url);
    return fetch(url, init);
  };
  const alice = new Device(server.baseUrl, {
    fetch: countingFetch,
    webSocket: (url) =>
      new FilteringSocket(url, (frame) => {
        const drop = lossy && frame.op === 'event' && frame.seq !== undefined && frame.seq % 4 === 0;
        if (drop) dropped++;
        return drop;
      }),
  });
  const bob = new Device(server.baseUrl);
  devices.push(alice, bob);
  const a = (await alice.client.signup({ username: uniqueName('a'), password: 'correct horse' })).user;
  await bob.client.signup({ username: uniqueName('b'), password: 'correct horse' });
  const dm = await bob.client.api.openDm(a.id);
  await Promise.all([alice.client.connect(), bob.client.connect()]);

  const queued = Array.from({ length: 100 }, (_, i) => bob.client.send(dm.id, `lossy ${i}`).clientMsgId);
  const sent = await Promise.all(queued.map((id) => bob.client.settled(id)));
  await waitFor(
    () => alice.received.length === 100,
    () => `alice has ${alice.received.length}/100`,
  );
  expect(dropped).toBeGreaterThanOrEqual(20);
  expect(syncCalls.length).toBeGreaterThan(0);

  lossy = false;
  const last = await bob.client.settled(bob.client.send(dm.id, 'the end').clientMsgId);
  await waitFor(() => alice.received.length === 101, 'the last message');
  const expected = new Map([[dm.id, new Set([...sent, last].map((m) => m!.messageId!))]]);
  expect(deliveryProblem(alice, expected)).toBeUndefined();
});

it('notices a lost last event from the log head in pong, and fetches it over /v1/sync', async () => {
  let dropNext = false;
  const dropped: number[] = [];
  const syncCalls: string[] = [];
  const countingFetch: FetchLike = (url, init) => {
    if (url.includes('/v1/sync')) syncCalls.push(url);
    return fetch(url, init);
  };
  const alice = new Device(server.baseUrl, {
    fetch: countingFetch,
    heartbeatMs: 100,
    webSocket: (url) =>
      new FilteringSocket(url, (frame) => {
        if (!dropNext || frame.op !== 'event' || frame.seq === undefined) return false;
        dropNext = false;
        dropped.push(frame.seq);
        return true;
      }),
  });
  const bob = new Device(server.baseUrl);
  devices.push(alice, bob);
  const a = (await alice.client.signup({ username: uniqueName('a'), password: 'correct horse' })).user;
  await bob.client.signup({ username: uniqueName('b'), password: 'correct horse' });
  const dm = await bob.client.api.openDm(a.id);
  await Promise.all([alice.client.connect(), bob.client.connect()]);
  await waitFor(() => alice.client.seq !== undefined && alice.client.seq >= 1, 'alice saw the DM');

  // The last event before silence is lost: no later event can reveal the gap, only the head.
  dropNext = true;
  const sent = await bob.client.settled(bob.client.send(dm.id, 'lost on the way').clientMsgId);
  await waitFor(() => dropped.length === 1, 'the event frame dropped');
  expect(syncCalls).toEqual([]);
  await waitFor(() => alice.received.some((m) => m.id === sent?.messageId), 'the lost message, fetched after a pong');
  expect(syncCalls.length).toBeGreaterThan(0);
  expect(alice.client.seq).toBe(dropped[0]);
});
