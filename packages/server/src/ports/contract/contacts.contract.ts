/**
 * The ContactStore contract (ports/store.ts). Run against every backend; each test gets a fresh,
 * empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { friendsAdded, userBlocked } from '../../domain/log-appends.js';
import type { AccountStore, BlockStore, ChannelStore, ContactStore, FriendStore } from '../store.js';
import { dmOf } from './fixtures.js';
import { at, createGroup, createUser, nextId, type PortHarness } from './suite.js';

type Stores = ContactStore & AccountStore & ChannelStore & FriendStore & BlockStore;

export function describeContactStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<Stores>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`ContactStore contract: ${name}`, () => {
    let harness: PortHarness<Stores>;
    let store: Stores;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const sorted = (ids: string[]) => [...ids].sort();

    it('reads friends, DM partners, peers of groups up to a size and blocks either way, each once', async () => {
      const [a, b, c, d, e, f, g] = [
        await createUser(store, 'ca'),
        await createUser(store, 'cb'),
        await createUser(store, 'cc'),
        await createUser(store, 'cd'),
        await createUser(store, 'ce'),
        await createUser(store, 'cf'),
        await createUser(store, 'cg'),
      ];
      expect(await store.contactSources(a, 100)).toEqual({ friends: [], dmPartners: [], groupPeers: [], blocked: [] });
      await store.getOrCreateDm(...dmOf(nextId(), a, e, at()));
      await createGroup(store, a, [c]);
      await createGroup(store, b, [a, c, d]);
      await store.changeFriendPair({
        pair: [a, f],
        expected: { friends: false, requests: [] },
        friends: true,
        at: at(),
        events: friendsAdded(a, f),
      });
      // A block either way, and both ways (listed once).
      await block(store, g, a);
      await block(store, a, b);
      await block(store, b, a);
      const small = await store.contactSources(a, 2);
      expect({ ...small, groupPeers: sorted(small.groupPeers), blocked: sorted(small.blocked) }).toEqual({
        friends: [f],
        dmPartners: [e],
        groupPeers: [c],
        blocked: sorted([b, g]),
      });
      expect(sorted((await store.contactSources(a, 4)).groupPeers)).toEqual(sorted([b, c, d]));
      expect((await store.contactSources(e, 100)).dmPartners).toEqual([a]);
    });
  });
}

function block(store: BlockStore, blocker: string, blocked: string) {
  return store.changeBlock({
    blockerId: blocker,
    blockedId: blocked,
    blocked: true,
    at: at(),
    events: [userBlocked(blocker, blocked)],
  });
}
