import { afterEach, expect, it, vi } from 'vitest';
import type { PresenceStore } from '../ports/presence.js';
import type { Store } from '../ports/store.js';
import type { EventRouter } from './events.js';
import { PresenceService } from './presence.js';

afterEach(() => vi.useRealTimers());

/**
 * A presence service on fake timers, whose store records each lastSeen write and whose users all
 * share one friend.
 */
function service() {
  vi.useFakeTimers();
  const writes: string[][] = [];
  const store = {
    setLastSeen: async (userIds: readonly string[]) => void writes.push([...userIds]),
    listFriendIds: async () => ['friend'],
    channelPeers: async () => [],
    dmPartners: async () => [],
  } as Partial<Store> as Store;
  const announced: string[] = [];
  const events = {
    publishEphemeral: async (_to: Iterable<string>, frame: { userId: string; status: string }) =>
      void announced.push(`${frame.userId} ${frame.status}`),
  } as Partial<EventRouter> as EventRouter;
  // One connection per user here: a user is online while their lease is held.
  const online = new Set<string>();
  const presenceStore: PresenceStore = {
    touch: async ({ userId }) => void online.add(userId),
    remove: async ({ userId }) => void online.delete(userId),
    online: async (userIds) => new Set(userIds.filter((u) => online.has(u))),
    expired: async () => [],
    close: async () => undefined,
  };
  const presence = new PresenceService(
    store,
    presenceStore,
    events,
    { now: () => Date.now() },
    { graceMs: 1000, fanoutMaxGroupSize: 10, leaseTtlMs: 60_000 },
    { warn: () => undefined, error: () => undefined },
  );
  const lease = (userId: string) => ({ userId, connId: `c-${userId}`, nodeId: 'n1' });
  return { presence, lease, writes, announced };
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
