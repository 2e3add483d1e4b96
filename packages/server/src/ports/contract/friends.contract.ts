/**
 * The FriendStore contract (ports/store.ts), on a store that also holds the users and logs it writes to.
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { friendRequested, friendsAdded, friendsRemoved } from '../../domain/log-appends.js';
import type { AccountStore, FriendPair, FriendRequestRecord, FriendStore, LogStore } from '../store.js';
import { at, createUser, expectStoreError, nextId, type PortHarness } from './suite.js';

export function describeFriendStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<FriendStore & AccountStore & LogStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`FriendStore contract: ${name}`, () => {
    let harness: PortHarness<FriendStore & AccountStore & LogStore>;
    let store: FriendStore & AccountStore & LogStore;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const user = (username: string) => createUser(store, username);

    describe('friends', () => {
      const none: FriendPair = { friends: false, requests: [] };
      const request = (fromUserId: string, toUserId: string): FriendRequestRecord => ({
        id: nextId(),
        fromUserId,
        toUserId,
        createdAt: at(),
      });

      it('records a request with the entries it is given, and shows it from both sides', async () => {
        const [a, b] = [await user('a1'), await user('b1')];
        const asked = request(a, b);
        const write = await store.changeFriendPair({
          pair: [a, b],
          expected: none,
          addRequest: asked,
          at: at(),
          events: [friendRequested(asked)],
        });
        expect(write.status).toBe('applied');
        if (write.status !== 'applied') return;
        expect(write.entries.map((e) => [e.userId, e.type, e.seq, e.data])).toEqual([
          [b, 'friend.requested', 1, { requestId: asked.id, fromUserId: a, toUserId: b }],
          [a, 'friend.requested', 1, { requestId: asked.id, fromUserId: a, toUserId: b }],
        ]);
        expect(await store.listFriendRequests(b)).toEqual({ incoming: [asked], outgoing: [] });
        expect(await store.listFriendRequests(a)).toEqual({ incoming: [], outgoing: [asked] });
        expect(await store.getFriendRequest(asked.id)).toEqual(asked);
        expect(await store.friendPair(b, a)).toEqual({ friends: false, requests: [asked] });
      });

      it('applies nothing, and appends nothing, when the pair changed since it was read', async () => {
        const [a, b] = [await user('a2'), await user('b2')];
        const first = request(a, b);
        await store.changeFriendPair({ pair: [a, b], expected: none, addRequest: first, at: at(), events: [] });
        const reverse = request(b, a);
        const stale = await store.changeFriendPair({
          pair: [b, a],
          expected: none,
          addRequest: reverse,
          at: at(),
          events: [friendRequested(reverse)],
        });
        expect(stale).toEqual({ status: 'stale' });
        expect(await store.friendPair(a, b)).toEqual({ friends: false, requests: [first] });
        expect((await store.logBounds(a)).head).toBe(0);
      });

      it('refuses a second pending request in the same direction as a conflict, writing nothing', async () => {
        const [a, b] = [await user('a4'), await user('b4')];
        const first = request(a, b);
        await store.changeFriendPair({ pair: [a, b], expected: none, addRequest: first, at: at(), events: [] });
        const again = request(a, b);
        await expectStoreError(
          store.changeFriendPair({
            pair: [a, b],
            expected: { friends: false, requests: [first] },
            addRequest: again,
            at: at(),
            events: [friendRequested(again)],
          }),
          'conflict',
        );
        expect(await store.friendPair(a, b)).toEqual({ friends: false, requests: [first] });
        expect((await store.logBounds(b)).head).toBe(0);
      });

      it('turns a request into a friendship in one change, and ends it', async () => {
        const [a, b] = [await user('a3'), await user('b3')];
        const asked = request(a, b);
        await store.changeFriendPair({ pair: [a, b], expected: none, addRequest: asked, at: at(), events: [] });
        const befriended = await store.changeFriendPair({
          pair: [b, a],
          expected: { friends: false, requests: [asked] },
          removeRequestIds: [asked.id],
          friends: true,
          at: at(),
          events: friendsAdded(a, b),
        });
        expect(befriended.status === 'applied' && befriended.entries.map((e) => [e.userId, e.type, e.data])).toEqual([
          [a, 'friend.added', { userId: b }],
          [b, 'friend.added', { userId: a }],
        ]);
        expect(await store.areFriends(a, b)).toBe(true);
        expect(await store.areFriends(b, a)).toBe(true);
        expect(await store.listFriendIds(a)).toEqual([b]);
        expect(await store.friendPair(a, b)).toEqual({ friends: true, requests: [] });
        expect(await store.getFriendRequest(asked.id)).toBeUndefined();
        const ended = await store.changeFriendPair({
          pair: [a, b],
          expected: { friends: true, requests: [] },
          friends: false,
          at: at(),
          events: friendsRemoved(a, b),
        });
        expect(ended.status).toBe('applied');
        expect(await store.areFriends(a, b)).toBe(false);
        expect(await store.listFriendIds(b)).toEqual([]);
      });
    });
  });
}
