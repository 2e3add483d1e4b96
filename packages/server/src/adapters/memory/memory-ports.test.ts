/** The Bus, PresenceStore and NodeRegistry contracts on the in-memory backends. */
import type { Bus, Unsubscribe } from '../../ports/bus.js';
import { describeBusContract } from '../../ports/contract/bus.contract.js';
import { describePresenceContract } from '../../ports/contract/presence.contract.js';
import { describeRegistryContract } from '../../ports/contract/registry.contract.js';
import type { NodeRegistry } from '../../ports/cluster.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryPresenceStore } from './memory-presence.js';
import { MemoryNodeRegistry, MemoryRegistryState } from './memory-registry.js';

/** One node's view of a MemoryBus shared in process: closing it drops only its subscriptions. */
function nodeView(shared: MemoryBus): Bus {
  const mine = new Set<Unsubscribe>();
  return {
    publish: (messages) => shared.publish(messages),
    async subscribe(topic, onMessage) {
      const off = await shared.subscribe(topic, onMessage);
      mine.add(off);
      return async () => {
        mine.delete(off);
        await off();
      };
    },
    onReconnect: (listener) => shared.onReconnect(listener),
    async close() {
      await Promise.all([...mine].map((off) => off()));
      mine.clear();
    },
  };
}

describeBusContract('memory', async () => {
  const shared = new MemoryBus();
  const views: Bus[] = [];
  return {
    async open() {
      const view = nodeView(shared);
      views.push(view);
      return view;
    },
    async cleanup() {
      await Promise.all(views.map((v) => v.close()));
      await shared.close();
    },
    // In process there is nothing to lose the connection to.
    outage: async () => ({ lossy: false }),
  };
});

describePresenceContract('memory', async () => {
  const shared = new MemoryPresenceStore();
  return {
    // Every node of an in-process fleet shares the one store.
    open: async () => ({
      touch: (l, ttl) => shared.touch(l, ttl),
      remove: (l, grace) => shared.remove(l, grace),
      online: (u) => shared.online(u),
      shownOnline: (u) => shared.shownOnline(u),
      expired: (now) => shared.expired(now),
      close: async () => {},
    }),
    cleanup: () => shared.close(),
  };
});

describeRegistryContract('memory', async () => {
  const state = new MemoryRegistryState();
  const opened: NodeRegistry[] = [];
  return {
    async open() {
      const registry = new MemoryNodeRegistry({ state });
      opened.push(registry);
      return registry;
    },
    async cleanup() {
      await Promise.all(opened.map((r) => r.close()));
    },
  };
});
