/**
 * The NodeRegistry contract (../cluster.ts), run against every backend. The harness opens
 * registries that share one backend, each standing for one process of a fleet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeRegistry, NodeStatus } from '../cluster.js';
import { sleep } from './wait.js';

export interface RegistryHarness {
  /** A registry on the shared backend; each call is another process. */
  open(): Promise<NodeRegistry>;
  /** Closes every registry it opened and removes backend state. */
  cleanup(): Promise<void>;
}

const gateway = (nodeId: string, connections = 0): NodeStatus => ({
  nodeId,
  role: 'gateway',
  wsUrl: `ws://10.0.0.${nodeId}:8080/v1/ws`,
  connections,
  capacity: 10_000,
});

const byId = (nodes: NodeStatus[]) => [...nodes].sort((x, y) => x.nodeId.localeCompare(y.nodeId));

export function describeRegistryContract(
  name: string,
  make: () => Promise<RegistryHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`NodeRegistry contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let harness: RegistryHarness | undefined;
    const setup = async () => {
      harness = await make();
      return harness;
    };
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it('leases a Snowflake node id in 0..1023, the same one on every call', async () => {
      const h = await setup();
      const r = await h.open();
      const id = await r.leaseNodeId();
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThanOrEqual(1023);
      expect(await r.leaseNodeId()).toBe(id);
    });

    it('never hands one id to two live processes, even when they start together', async () => {
      const h = await setup();
      const registries = await Promise.all(Array.from({ length: 32 }, () => h.open()));
      const ids = await Promise.all(registries.map((r) => r.leaseNodeId()));
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('starts with no live nodes', async () => {
      const h = await setup();
      const r = await h.open();
      expect(await r.liveNodes()).toEqual([]);
    });

    it('shows an announced status to every process, latest announce wins', async () => {
      const h = await setup();
      const [a, b, c] = [await h.open(), await h.open(), await h.open()];
      await a.announce(gateway('1', 5), 10_000);
      await b.announce({ nodeId: '2', role: 'api', connections: 0, capacity: 0 }, 10_000);
      await a.announce(gateway('1', 7), 10_000);
      expect(byId(await c.liveNodes())).toEqual([
        gateway('1', 7),
        { nodeId: '2', role: 'api', connections: 0, capacity: 0 },
      ]);
    });

    it('drops a node that stops announcing once its ttl runs out', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      await a.announce(gateway('1'), 300);
      await b.announce(gateway('2'), 10_000);
      expect((await b.liveNodes()).length).toBe(2);
      await sleep(400);
      expect(await b.liveNodes()).toEqual([gateway('2')]);
    });

    it('renewing the announce keeps a node listed past its ttl', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      for (let i = 0; i < 5; i++) {
        await a.announce(gateway('1', i), 400);
        await sleep(100);
      }
      expect(await b.liveNodes()).toEqual([gateway('1', 4)]);
    });

    it('close withdraws the node at once', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      await a.leaseNodeId();
      await a.announce(gateway('1'), 10_000);
      await b.announce(gateway('2'), 10_000);
      await a.close();
      expect(await b.liveNodes()).toEqual([gateway('2')]);
    });

    it('withdraw takes the node out at once and for good, keeping its id', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const id = await a.leaseNodeId();
      await a.announce(gateway('1'), 10_000);
      await b.announce(gateway('2'), 10_000);
      await a.withdraw();
      expect(await b.liveNodes()).toEqual([gateway('2')]);
      await a.announce(gateway('1'), 10_000); // a renewal that was already under way
      expect(await b.liveNodes()).toEqual([gateway('2')]);
      expect(await a.leaseNodeId()).toBe(id);
      expect(await b.leaseNodeId()).not.toBe(id);
    });
  });
}
