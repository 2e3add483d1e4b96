import { afterEach, expect, it, vi } from 'vitest';
// eslint-disable-next-line no-restricted-imports -- the test wires the real in-process store as app.ts does; the service sees only the port
import { MemoryPresenceStore } from '../adapters/memory/memory-presence.js';
import type { Store } from '../ports/store.js';
import type { EventRouter } from './events.js';
import { PresenceService } from './presence.js';

afterEach(() => vi.useRealTimers());

/**
 * Presence services on fake timers, one per node of a fleet, sharing one presence store that
 * reads the same (fake) clock; the store records each lastSeen write and all users share one friend.
 */
function fleet() {
  vi.useFakeTimers();
  const writes: string[][] = [];
  const lastSeenReads: string[][] = [];
  /** Contact-source reads under way, and the most there were at once. */
  const audienceReads = { now: 0, most: 0 };
  const store = {
    setLastSeen: async (userIds: readonly string[]) => void writes.push([...userIds]),
    getLastSeen: async (userIds: readonly string[]) => {
      lastSeenReads.push([...userIds]);
      return new Map(userIds.map((id) => [id, '2026-01-01T00:00:00.000Z']));
    },
    contactSources: async () => {
      audienceReads.now++;
      audienceReads.most = Math.max(audienceReads.most, audienceReads.now);
      await Promise.resolve();
      audienceReads.now--;
      return { friends: ['friend'], dmPartners: [], groupPeers: [], blocked: [] };
    },
    blockedPeers: async () => [],
  } as Partial<Store> as Store;
  const announced: string[] = [];
  const events = {
    publishEphemeral: async (_to: Iterable<string>, frame: { userId: string; status: string }) =>
      void announced.push(`${frame.userId} ${frame.status}`),
  } as Partial<EventRouter> as EventRouter;
  const clock = { now: () => Date.now() };
  const presenceStore = new MemoryPresenceStore({ now: clock.now });
  const node = (nodeId: string) => {
    const presence = new PresenceService(
      store,
      presenceStore,
      events,
      clock,
      { graceMs: 1000, fanoutMaxGroupSize: 10, leaseTtlMs: 60_000 },
      { warn: () => undefined, error: () => undefined },
    );
    const lease = (userId: string) => ({ userId, connId: `c-${userId}`, nodeId });
    return { presence, lease };
  };
  return { node, writes, announced, lastSeenReads, audienceReads };
}

function service() {
  const { node, ...recorded } = fleet();
  return { ...node('n1'), ...recorded };
}

it('takes users whose graces run out together offline in one write', async () => {
  const { presence, lease, writes, announced } = service();
  const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
  for (const u of users) await presence.connected(lease(u));
  for (const u of users) await presence.disconnected(lease(u));
  await vi.advanceTimersByTimeAsync(2000);
  expect(writes).toEqual([users]);
  expect(announced.filter((a) => a.endsWith('offline'))).toEqual(users.map((u) => `${u} offline`));
});

it('reads the audiences of users going offline together a bounded slice at a time', async () => {
  const { presence, lease, announced, audienceReads } = service();
  const users = Array.from({ length: 150 }, (_, i) => `u${i}`);
  for (const u of users) await presence.connected(lease(u));
  for (const u of users) await presence.disconnected(lease(u));
  audienceReads.most = 0;
  await vi.advanceTimersByTimeAsync(2000);
  expect(announced.filter((a) => a.endsWith('offline'))).toEqual(users.map((u) => `${u} offline`));
  expect(audienceReads.most).toBe(64);
});

it('reads last seen from the store only for the users shown offline', async () => {
  const { presence, lease, lastSeenReads } = service();
  await presence.connected(lease('a'));
  expect(await presence.presenceOf(['a', 'b'])).toEqual(
    new Map([
      ['a', { status: 'online' }],
      ['b', { status: 'offline', lastSeenAt: '2026-01-01T00:00:00.000Z' }],
    ]),
  );
  await presence.presenceOf(['a']);
  expect(lastSeenReads).toEqual([['b']]);
});

it('leaves out of that write a user who came back after the grace ran out', async () => {
  const { presence, lease, writes } = service();
  await presence.connected(lease('a'));
  await presence.connected(lease('b'));
  await presence.disconnected(lease('a'));
  await presence.disconnected(lease('b'));
  await vi.advanceTimersByTimeAsync(1000); // both graces over, the batch not yet written
  await presence.connected(lease('b'));
  await vi.advanceTimersByTimeAsync(1000);
  expect(writes).toEqual([['a']]);
});

it('announces nothing when a user comes back after the grace ran out but before the offline write', async () => {
  const { presence, lease, announced } = service();
  await presence.connected(lease('a'));
  await presence.disconnected(lease('a'));
  await vi.advanceTimersByTimeAsync(1000); // the grace is over, the batch not yet written
  await presence.connected(lease('a'));
  await vi.advanceTimersByTimeAsync(1000);
  expect(announced).toEqual(['a online']);
});

it('announces a user online again after the offline write', async () => {
  const { presence, lease, announced } = service();
  await presence.connected(lease('a'));
  await presence.disconnected(lease('a'));
  await vi.advanceTimersByTimeAsync(2000);
  await presence.connected(lease('a'));
  expect(announced).toEqual(['a online', 'a offline', 'a online']);
});

it('writes graces that run out at different times separately', async () => {
  const { presence, lease, writes } = service();
  await presence.connected(lease('a'));
  await presence.connected(lease('b'));
  await presence.disconnected(lease('a'));
  await vi.advanceTimersByTimeAsync(5000);
  await presence.disconnected(lease('b'));
  await vi.advanceTimersByTimeAsync(5000);
  expect(writes).toEqual([['a'], ['b']]);
});

it('shows a user who left one node online on another during the grace, and a reconnect there is no news', async () => {
  const { node, announced, writes } = fleet();
  const [one, two] = [node('n1'), node('n2')];
  await one.presence.connected(one.lease('a'));
  await one.presence.disconnected(one.lease('a'));
  await vi.advanceTimersByTimeAsync(500);
  // A contact connecting to the other node gets this snapshot: online, as on the node she left.
  expect((await two.presence.presenceOf(['a'])).get('a')).toEqual({ status: 'online' });
  await two.presence.connected(two.lease('a'));
  await vi.advanceTimersByTimeAsync(5000);
  // One online (no second one from the other node), and no offline: she never left.
  expect(announced).toEqual(['a online']);
  expect(writes).toEqual([]);
  // Her last socket closes on the other node: one offline after the grace, from one node.
  await two.presence.disconnected(two.lease('a'));
  await vi.advanceTimersByTimeAsync(999);
  expect((await one.presence.presenceOf(['a'])).get('a')).toEqual({ status: 'online' });
  await vi.advanceTimersByTimeAsync(1000);
  expect(announced).toEqual(['a online', 'a offline']);
  expect(writes).toEqual([['a']]);
});

it('a graceful stop records lastSeen for users in their grace and leaves the grace to the fleet', async () => {
  const { node, announced, writes } = fleet();
  const [one, two] = [node('n1'), node('n2')];
  await one.presence.connected(one.lease('a'));
  await one.presence.disconnected(one.lease('a'));
  await one.presence.shutdown();
  expect(writes).toEqual([['a']]);
  expect(announced).toEqual(['a online']);
  // The stopped node's planned sweep is gone; the other node's periodic sweep finds her offline.
  await vi.advanceTimersByTimeAsync(5000);
  expect(announced).toEqual(['a online']);
  await two.presence.sweepExpired();
  expect(announced).toEqual(['a online', 'a offline']);
});
