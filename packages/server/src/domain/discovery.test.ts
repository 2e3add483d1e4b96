import { expect, it } from 'vitest';
import type { NodeRegistry, NodeStatus } from '../ports/cluster.js';
import { Discovery } from './discovery.js';

function registryOf(nodes: NodeStatus[]): NodeRegistry {
  return {
    leaseNodeId: async () => 0,
    announce: async () => undefined,
    liveNodes: async () => nodes,
    withdraw: async () => undefined,
    close: async () => undefined,
  };
}
const gateway = (nodeId: string, connections: number, capacity = 10): NodeStatus => ({
  nodeId,
  role: 'gateway',
  wsUrl: `ws://${nodeId}/v1/ws`,
  connections,
  capacity,
});

it('picks the gateway with the most spare capacity, ignoring other roles', async () => {
  const discovery = new Discovery(
    registryOf([gateway('a', 5), gateway('b', 2), { nodeId: 'api', role: 'api', connections: 0, capacity: 99 }]),
    { now: () => 0 },
    1000,
  );
  expect((await discovery.pick())?.nodeId).toBe('b');
});

it('spreads a burst between announcements by counting its own hand-outs', async () => {
  let now = 0;
  const discovery = new Discovery(registryOf([gateway('a', 0), gateway('b', 0)]), { now: () => now }, 1000);
  const picks = [];
  for (let i = 0; i < 6; i++) picks.push((await discovery.pick())?.nodeId);
  expect(picks.filter((p) => p === 'a')).toHaveLength(3);
  expect(picks.filter((p) => p === 'b')).toHaveLength(3);
  now = 5000; // the announced counts are trusted again once the window has passed
  expect((await discovery.pick())?.nodeId).toBe('a');
});

it('returns nothing when every gateway is full', async () => {
  const discovery = new Discovery(registryOf([gateway('a', 10), gateway('b', 12)]), { now: () => 0 }, 1000);
  expect(await discovery.pick()).toBeUndefined();
});
