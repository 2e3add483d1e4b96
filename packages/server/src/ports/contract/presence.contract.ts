/**
 * The PresenceStore contract (../presence.ts), run against every backend. The harness opens
 * stores that share one backend, each standing for one node of a fleet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionLease, PresenceStore } from '../presence.js';
import { sleep } from './wait.js';

export interface PresenceHarness {
  /** A store on the shared backend; each call is another node. */
  open(): Promise<PresenceStore>;
  /** Closes every store it opened and removes backend state. */
  cleanup(): Promise<void>;
}

const lease = (userId: string, connId = 'c1', nodeId = 'n1'): ConnectionLease => ({ userId, connId, nodeId });
const LONG = 60_000;

export function describePresenceContract(
  name: string,
  make: () => Promise<PresenceHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`PresenceStore contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let harness: PresenceHarness | undefined;
    const setup = async () => {
      harness = await make();
      return harness;
    };
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it('reports a touched user online on every node, and nobody else', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      await a.touch(lease('u1'), LONG);
      expect(await b.online(['u1', 'u2'])).toEqual(new Set(['u1']));
      expect(await b.shownOnline(['u1', 'u2'])).toEqual(new Set(['u1']));
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      expect(await b.online([])).toEqual(new Set());
    });

    it('with no grace, takes a user offline at once on remove; expired then hands them out once', async () => {
      const h = await setup();
      const a = await h.open();
      await a.touch(lease('u1'), LONG);
      await a.remove(lease('u1'), 0);
      expect(await a.online(['u1'])).toEqual(new Set());
      expect(await a.shownOnline(['u1'])).toEqual(new Set());
      expect(await a.expired(Date.now())).toEqual(['u1']);
      expect(await a.expired(Date.now())).toEqual([]);
    });

    it('shows a user online on every node for the grace after their last connection closed', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      await a.touch(lease('u1', 'c1', 'n1'), LONG);
      await a.remove(lease('u1', 'c1', 'n1'), 300);
      // Another node, asked for a snapshot during the grace, shows the user online, not offline ...
      expect(await b.shownOnline(['u1'])).toEqual(new Set(['u1']));
      // ... though no socket of theirs is live (a message now gets a push notification).
      expect(await b.online(['u1'])).toEqual(new Set());
      expect(await b.expired(Date.now())).toEqual([]);
      await sleep(400);
      expect(await b.shownOnline(['u1'])).toEqual(new Set());
      expect(await b.expired(Date.now())).toEqual(['u1']);
      expect(await a.expired(Date.now())).toEqual([]);
    });

    it('a reconnect through another node during the grace finds the user present and cancels the offline', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      expect(await a.touch(lease('u1', 'c1', 'n1'), LONG)).toEqual({ wasPresent: false });
      await a.remove(lease('u1', 'c1', 'n1'), 200);
      // Present: nobody was told the user left, so nobody needs telling they are back.
      expect(await b.touch(lease('u1', 'c2', 'n2'), LONG)).toEqual({ wasPresent: true });
      await sleep(300);
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      expect(await a.shownOnline(['u1'])).toEqual(new Set(['u1']));
      expect(await a.expired(Date.now())).toEqual([]);
    });

    it('reports a user present from their first touch until expired hands them out', async () => {
      const h = await setup();
      const a = await h.open();
      expect(await a.touch(lease('u1', 'c1'), LONG)).toEqual({ wasPresent: false });
      expect(await a.touch(lease('u1', 'c1'), LONG)).toEqual({ wasPresent: true }); // a heartbeat
      expect(await a.touch(lease('u1', 'c2'), LONG)).toEqual({ wasPresent: true }); // a second device
      // Lease ran out (its node died) but no node announced the offline yet: still present.
      await a.touch(lease('u2'), 50);
      await sleep(100);
      expect(await a.touch(lease('u2'), LONG)).toEqual({ wasPresent: true });
      expect(await a.expired(Date.now())).toEqual([]);
      // Handed out (announced offline): coming back is news.
      await a.remove(lease('u2'), 0);
      expect(await a.expired(Date.now())).toEqual(['u2']);
      expect(await a.touch(lease('u2'), LONG)).toEqual({ wasPresent: false });
    });

    it('starts no grace while another connection lives, and starts it when the last one goes', async () => {
      const h = await setup();
      const a = await h.open();
      await a.touch(lease('u1', 'c1'), LONG);
      await a.touch(lease('u1', 'c2'), LONG);
      await a.remove(lease('u1', 'c1'), 0);
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      // The grace starts at the last close, whatever grace an earlier close asked for.
      await a.remove(lease('u1', 'c2'), 10_000);
      expect(await a.shownOnline(['u1'])).toEqual(new Set(['u1']));
      expect(await a.online(['u1'])).toEqual(new Set());
      expect(await a.expired(Date.now() + 5_000)).toEqual([]);
      expect(await a.expired(Date.now() + 20_000)).toEqual(['u1']);
    });

    it('a close for a user who is not present (already handed out) starts no grace', async () => {
      const h = await setup();
      const a = await h.open();
      await a.remove(lease('nobody'), LONG);
      expect(await a.shownOnline(['nobody'])).toEqual(new Set());
      await a.touch(lease('u1'), 50);
      await sleep(100);
      expect(await a.expired(Date.now())).toEqual(['u1']);
      await a.remove(lease('u1'), LONG); // the dead node's socket closes late
      expect(await a.shownOnline(['u1'])).toEqual(new Set());
      expect(await a.expired(Date.now() + 2 * LONG)).toEqual([]);
    });

    it('keeps a user online while any connection, on any node, holds a lease', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      await a.touch(lease('u1', 'c1', 'n1'), LONG);
      await b.touch(lease('u1', 'c1', 'n2'), LONG); // same connId on another node: another connection
      await a.remove(lease('u1', 'c1', 'n1'), 0);
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      await b.remove(lease('u1', 'c1', 'n2'), 0);
      expect(await a.online(['u1'])).toEqual(new Set());
    });

    it('removing an unknown connection is harmless', async () => {
      const h = await setup();
      const a = await h.open();
      await a.remove(lease('nobody'), 0);
      await a.touch(lease('u1', 'c1'), LONG);
      await a.remove(lease('u1', 'c2'), 0);
      expect(await a.online(['u1', 'nobody'])).toEqual(new Set(['u1']));
    });

    it('lets a lease run out after its ttl; expired returns the user exactly once', async () => {
      const h = await setup();
      const a = await h.open();
      await a.touch(lease('u1'), 300);
      await a.touch(lease('u2'), LONG);
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      expect(await a.expired(Date.now())).toEqual([]);
      await sleep(400);
      expect(await a.online(['u1', 'u2'])).toEqual(new Set(['u2']));
      expect(await a.expired(Date.now())).toEqual(['u1']);
      expect(await a.expired(Date.now())).toEqual([]);
    });

    it('judges expiry by the `now` it is given', async () => {
      const h = await setup();
      const a = await h.open();
      await a.touch(lease('u1'), 10_000);
      expect(await a.expired(Date.now() + 5_000)).toEqual([]);
      expect(await a.expired(Date.now() + 20_000)).toEqual(['u1']);
    });

    it('heartbeats keep a lease alive past its ttl', async () => {
      const h = await setup();
      const a = await h.open();
      for (let i = 0; i < 6; i++) {
        await a.touch(lease('u1'), 400);
        await sleep(100);
      }
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      expect(await a.expired(Date.now())).toEqual([]);
    });

    it('does not report a user expired while another of their connections lives', async () => {
      const h = await setup();
      const a = await h.open();
      await a.touch(lease('u1', 'short'), 50);
      await a.touch(lease('u1', 'long'), LONG);
      await sleep(100);
      expect(await a.expired(Date.now())).toEqual([]);
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      // The long one is refreshed with a short ttl and then dies too: now the user expires.
      await a.touch(lease('u1', 'long'), 50);
      await sleep(100);
      expect(await a.expired(Date.now())).toEqual(['u1']);
    });

    it('a user who comes back after expiring is online again and can expire again', async () => {
      const h = await setup();
      const a = await h.open();
      await a.touch(lease('u1'), 50);
      await sleep(100);
      expect(await a.expired(Date.now())).toEqual(['u1']);
      await a.touch(lease('u1', 'c2'), 300);
      expect(await a.online(['u1'])).toEqual(new Set(['u1']));
      await sleep(400);
      expect(await a.expired(Date.now())).toEqual(['u1']);
    });

    it('hands each expired user to exactly one of several nodes calling at once', async () => {
      const h = await setup();
      const nodes = [await h.open(), await h.open(), await h.open()];
      const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
      await Promise.all(users.map((u, i) => nodes[i % 3]!.touch(lease(u, 'c', `n${i % 3}`), 50)));
      await sleep(100);
      const now = Date.now();
      const results = await Promise.all([...nodes, ...nodes].map((n) => n.expired(now)));
      const all = results.flat();
      expect(all.length).toBe(users.length);
      expect(new Set(all)).toEqual(new Set(users));
    });
  });
}
