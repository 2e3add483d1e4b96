/**
 * The BlockStore contract (ports/store.ts). Run against every backend; each test gets a fresh,
 * empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userBlocked, userUnblocked } from '../../domain/log-appends.js';
import type { AccountStore, BlockStore, ChannelStore, MessageStore } from '../store.js';
import { dmOf } from './fixtures.js';
import { at, createGroup, createUser, newMessage, nextId, type PortHarness } from './suite.js';

export function describeBlockStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<BlockStore & AccountStore & ChannelStore & MessageStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`BlockStore contract: ${name}`, () => {
    let harness: PortHarness<BlockStore & AccountStore & ChannelStore & MessageStore>;
    let store: BlockStore & AccountStore & ChannelStore & MessageStore;
    let a: string;
    let b: string;
    let c: string;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
      [a, b, c] = [await createUser(store, 'ann'), await createUser(store, 'ben'), await createUser(store, 'cat')];
    });
    afterEach(() => harness.cleanup());

    const block = (blocker: string, blocked: string, offset = 0) =>
      store.changeBlock({
        blockerId: blocker,
        blockedId: blocked,
        blocked: true,
        at: at(offset),
        events: [userBlocked(blocker, blocked)],
      });
    const unblock = (blocker: string, blocked: string) =>
      store.changeBlock({
        blockerId: blocker,
        blockedId: blocked,
        blocked: false,
        at: at(),
        events: [userUnblocked(blocker, blocked)],
      });

    it("refuses a blocked DM's messages inside the commit, either way, until the block is lifted; groups still carry them", async () => {
      const { channel: dm } = await store.getOrCreateDm(...dmOf(nextId(), a, b, at()));
      const team = await createGroup(store, a, [b]);
      await block(b, a);
      const refused = await store.appendMessages([newMessage(dm.id, a), newMessage(dm.id, b), newMessage(team, a)]);
      expect(refused.map((r) => r.status)).toEqual(['blocked', 'blocked', 'created']);
      expect(await store.listMessages(dm.id, { limit: 10 })).toEqual([]);
      // A third user's DM is not touched by someone else's block.
      const { channel: other } = await store.getOrCreateDm(...dmOf(nextId(), a, c, at()));
      expect((await store.appendMessages([newMessage(other.id, a)])).map((r) => r.status)).toEqual(['created']);
      await unblock(b, a);
      expect((await store.appendMessages([newMessage(dm.id, a)])).map((r) => r.status)).toEqual(['created']);
    });

    it('blocks once: a repeat changes nothing and logs nothing', async () => {
      const first = await block(a, b);
      expect(first.changed).toBe(true);
      expect(first.entries.map((e) => [e.userId, e.type, e.data])).toEqual([[a, 'user.blocked', { userId: b }]]);
      expect(await block(a, b)).toEqual({ changed: false, entries: [] });
    });

    it('is one-way in the list, both ways in blockedEitherWay and blockedPeers', async () => {
      await block(a, b, 1);
      await block(c, a, 2);
      expect(await store.listBlocks(a)).toEqual([{ userId: b, createdAt: at(1) }]);
      expect(await store.listBlocks(b)).toEqual([]);
      expect(await store.blockedEitherWay(b, a)).toBe(true);
      expect(await store.blockedEitherWay(b, c)).toBe(false);
      expect((await store.blockedPeers(a)).sort()).toEqual([b, c].sort());
      expect(await store.blockedPeers(b)).toEqual([a]);
    });

    it('unblocks once', async () => {
      await block(a, b);
      expect((await unblock(a, b)).changed).toBe(true);
      expect(await unblock(a, b)).toEqual({ changed: false, entries: [] });
      expect(await store.blockedEitherWay(a, b)).toBe(false);
    });

    it("removes a deleted account's blocks, both ways", async () => {
      await block(a, b);
      await block(b, c);
      await store.deleteAccount({ userId: b, eraseMessages: false, at: at(), events: [] });
      expect(await store.blockedPeers(b)).toEqual([]);
      expect(await store.listBlocks(a)).toEqual([]);
    });
  });
}
