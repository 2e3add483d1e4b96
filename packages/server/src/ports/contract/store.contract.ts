/**
 * The Store contract: one suite, run against every backend (sqlite, postgres). A backend is
 * done when this suite passes on it. Each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, type NewMessage, type Store } from '../store.js';

export interface StoreHarness {
  store: Store;
  /** Closes the store and removes everything it created. */
  cleanup(): Promise<void>;
}

/** Snowflake-sized ids (above 2^53) so that precision loss anywhere shows up. */
let counter = 0;
function nextId(): string {
  counter++;
  return (7_400_000_000_000_000_000n + BigInt(Date.now() % 1_000_000) * 1_000_000n + BigInt(counter)).toString();
}
const at = (offsetMs = 0) => new Date(Date.UTC(2026, 5, 1) + offsetMs).toISOString();

export function describeStoreContract(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`Store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    async function user(username: string): Promise<string> {
      const id = nextId();
      await store.createUser({ id, username, displayName: username.toUpperCase(), passwordHash: 'h', createdAt: at() });
      return id;
    }
    function message(channelId: string, senderId: string, text = 'hi', clientMsgId = nextId()): NewMessage {
      return { id: nextId(), channelId, senderId, text, createdAt: at(), clientMsgId };
    }
    async function group(ownerId: string, memberIds: string[], maxMembers = 100): Promise<string> {
      const { channel } = await store.createGroup({
        id: nextId(),
        name: 'team',
        ownerId,
        memberIds,
        maxMembers,
        createdAt: at(),
      });
      return channel.id;
    }
    async function expectStoreError(promise: Promise<unknown>, kind: StoreError['kind']): Promise<void> {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).kind).toBe(kind);
    }

    describe('accounts', () => {
      it('finds a user by username case-insensitively, with the exact 64-bit id', async () => {
        const id = await user('Alice');
        const found = await store.findUserByUsername('ALICE');
        expect(found).toMatchObject({ id, username: 'alice', displayName: 'ALICE', passwordHash: 'h' });
      });

      it('rejects a taken username as a conflict', async () => {
        await user('alice');
        await expectStoreError(user('ALICE'), 'conflict');
      });

      it('searches users by username prefix, in username order', async () => {
        await user('bob');
        await user('bobby');
        await user('alice');
        const found = await store.searchUsers('bo', 10);
        expect(found.map((u) => u.username)).toEqual(['bob', 'bobby']);
      });

      it('updates a profile and clears the status text with an empty string', async () => {
        const id = await user('carol');
        expect(await store.updateProfile(id, { statusText: 'busy' })).toMatchObject({ statusText: 'busy' });
        const updated = await store.updateProfile(id, { displayName: 'Carol C', statusText: '' });
        expect(updated).toEqual({ id, username: 'carol', displayName: 'Carol C' });
      });

      it('finds a device by token hash until it is revoked', async () => {
        const userId = await user('dave');
        const deviceId = nextId();
        await store.createDevice({ id: deviceId, userId, name: 'phone', tokenHash: 'th', createdAt: at() });
        expect(await store.findDeviceByTokenHash('th')).toEqual({ deviceId, userId, lastUsedAt: at() });
        await store.revokeDevice(deviceId);
        expect(await store.findDeviceByTokenHash('th')).toBeUndefined();
      });

      it("records a device's last use, which its token lookup reports", async () => {
        const userId = await user('dora');
        const deviceId = nextId();
        await store.createDevice({ id: deviceId, userId, name: 'phone', tokenHash: 'tu', createdAt: at() });
        await store.touchDevice(deviceId, at(90_000));
        expect(await store.findDeviceByTokenHash('tu')).toEqual({ deviceId, userId, lastUsedAt: at(90_000) });
      });

      it('keeps last-seen times', async () => {
        const a = await user('erin');
        const b = await user('frank');
        const c = await user('grace');
        await store.setLastSeen([a, c], at(5));
        const seen = await store.getLastSeen([a, b, c]);
        expect([...seen].sort()).toEqual(
          [
            [a, at(5)],
            [c, at(5)],
          ].sort(),
        );
      });
    });

    describe('friends', () => {
      it('records a request and logs it to both users', async () => {
        const [a, b] = [await user('a1'), await user('b1')];
        const { request, accepted, entries } = await store.requestFriend({
          id: nextId(),
          fromUserId: a,
          toUserId: b,
          createdAt: at(),
        });
        expect(accepted).toBe(false);
        expect(entries.map((e) => [e.userId, e.type, e.seq])).toEqual([
          [b, 'friend.requested', 1],
          [a, 'friend.requested', 1],
        ]);
        expect(await store.listFriendRequests(b)).toEqual({ incoming: [request], outgoing: [] });
      });

      it('makes friends when the other side had already asked', async () => {
        const [a, b] = [await user('a2'), await user('b2')];
        await store.requestFriend({ id: nextId(), fromUserId: a, toUserId: b, createdAt: at() });
        const second = await store.requestFriend({ id: nextId(), fromUserId: b, toUserId: a, createdAt: at() });
        expect(second.accepted).toBe(true);
        expect(await store.areFriends(a, b)).toBe(true);
        expect(await store.listFriendIds(a)).toEqual([b]);
        expect((await store.listFriendRequests(a)).outgoing).toEqual([]);
      });

      it('accepts a request addressed to the user, and only that user', async () => {
        const [a, b, c] = [await user('a3'), await user('b3'), await user('c3')];
        const { request } = await store.requestFriend({ id: nextId(), fromUserId: a, toUserId: b, createdAt: at() });
        await expectStoreError(store.acceptFriendRequest(request.id, c, at()), 'not_found');
        const { friendId, entries } = await store.acceptFriendRequest(request.id, b, at());
        expect(friendId).toBe(a);
        expect(entries.map((e) => [e.userId, e.type, e.data])).toEqual([
          [a, 'friend.added', { userId: b }],
          [b, 'friend.added', { userId: a }],
        ]);
        await expectStoreError(
          store.requestFriend({ id: nextId(), fromUserId: a, toUserId: b, createdAt: at() }),
          'conflict',
        );
      });

      it('returns the first request when asked twice', async () => {
        const [a, b] = [await user('a4'), await user('b4')];
        const first = await store.requestFriend({ id: nextId(), fromUserId: a, toUserId: b, createdAt: at() });
        const again = await store.requestFriend({ id: nextId(), fromUserId: a, toUserId: b, createdAt: at() });
        expect(again.request).toEqual(first.request);
        expect(again.entries).toEqual([]);
      });

      it('removes a friend, and declines a request', async () => {
        const [a, b, c] = [await user('a5'), await user('b5'), await user('c5')];
        const { request } = await store.requestFriend({ id: nextId(), fromUserId: a, toUserId: b, createdAt: at() });
        await store.acceptFriendRequest(request.id, b, at());
        const entries = await store.removeFriend(b, a, at());
        expect(entries.map((e) => e.type)).toEqual(['friend.removed', 'friend.removed']);
        expect(await store.areFriends(a, b)).toBe(false);
        await expectStoreError(store.removeFriend(b, a, at()), 'not_found');
        const pending = await store.requestFriend({ id: nextId(), fromUserId: c, toUserId: a, createdAt: at() });
        await store.deleteFriendRequest(pending.request.id, a);
        expect(await store.getFriendRequest(pending.request.id)).toBeUndefined();
      });
    });

    describe('channels', () => {
      it('gives a pair the same DM whichever side asks, logging channel.created once', async () => {
        const [a, b] = [await user('a6'), await user('b6')];
        const first = await store.getOrCreateDm({ id: nextId(), userIds: [a, b], createdAt: at() });
        const second = await store.getOrCreateDm({ id: nextId(), userIds: [b, a], createdAt: at() });
        expect(second.channel.id).toBe(first.channel.id);
        expect(first.channel.kind).toBe('dm');
        expect(first.entries.map((e) => e.userId).sort()).toEqual([a, b].sort());
        expect(second.entries).toEqual([]);
      });

      it('creates a group with its owner and deduplicated members', async () => {
        const [a, b, c] = [await user('a7'), await user('b7'), await user('c7')];
        const id = await group(a, [b, c, b, a]);
        const channel = await store.getChannel(id);
        expect(channel?.members.map((m) => [m.userId, m.role]).sort()).toEqual(
          [
            [a, 'owner'],
            [b, 'member'],
            [c, 'member'],
          ].sort(),
        );
        expect(await store.getRole(id, c)).toBe('member');
        expect(await store.getRole(id, nextId())).toBeUndefined();
      });

      it('refuses a group larger than the limit, owner included', async () => {
        const [a, b, c] = [await user('a8'), await user('b8'), await user('c8')];
        await expectStoreError(group(a, [b, c], 2), 'group_full');
        const id = await group(a, [b], 2);
        await expectStoreError(store.addMember(id, c, 'member', 2, at()), 'group_full');
      });

      it('adds and removes members, logging to everyone involved', async () => {
        const [a, b, c] = [await user('a9'), await user('b9'), await user('c9')];
        const id = await group(a, [b]);
        const added = await store.addMember(id, c, 'member', 100, at());
        expect(added.map((e) => e.userId).sort()).toEqual([a, b, c].sort());
        expect(added[0]).toMatchObject({ type: 'member.added', channelId: id, data: { userId: c } });
        await expectStoreError(store.addMember(id, c, 'member', 100, at()), 'conflict');
        const removed = await store.removeMember(id, c, at());
        expect(removed.map((e) => e.userId).sort()).toEqual([a, b, c].sort());
        expect(await store.memberIds(id)).not.toContain(c);
        await expectStoreError(store.removeMember(id, c, at()), 'not_found');
      });

      it('hands the group to an admin when the owner leaves', async () => {
        const [a, b, c] = [await user('a10'), await user('b10'), await user('c10')];
        const id = await group(a, [b, c]);
        await store.setRole(id, c, 'admin', at());
        await store.removeMember(id, a, at());
        expect(await store.getRole(id, c)).toBe('owner');
        expect(await store.getRole(id, b)).toBe('member');
      });

      it('lists the peers of a user in groups up to a size, not in DMs', async () => {
        const [a, b, c, d, e] = [
          await user('a23'),
          await user('b23'),
          await user('c23'),
          await user('d23'),
          await user('e23'),
        ];
        await store.getOrCreateDm({ id: nextId(), userIds: [a, e], createdAt: at() });
        await group(a, [c]);
        await group(b, [a, c, d]);
        expect((await store.channelPeers(a, 2)).sort()).toEqual([c].sort());
        expect((await store.channelPeers(a, 4)).sort()).toEqual([b, c, d].sort());
      });

      it('renames a group', async () => {
        const a = await user('a11');
        const id = await group(a, []);
        const entries = await store.renameGroup(id, 'renamed', at());
        expect(entries.map((e) => e.type)).toEqual(['channel.updated']);
        expect((await store.getChannel(id))?.name).toBe('renamed');
      });

      it('lists channels by latest activity with last message and unread count', async () => {
        const [a, b] = [await user('a12'), await user('b12')];
        const older = await group(a, [b]);
        const { channel: dm } = await store.getOrCreateDm({ id: nextId(), userIds: [a, b], createdAt: at() });
        await store.appendMessages([message(older, b, 'one'), message(older, b, 'two'), message(older, a, 'mine')]);
        const views = await store.listChannelViews(a);
        expect(views.map((v) => v.id)).toEqual([older, dm.id]);
        expect(views[0]).toMatchObject({ unreadCount: 2, lastMessage: { text: 'mine' } });
        expect(views[1]).toMatchObject({ unreadCount: 0 });
        expect(views[1]?.lastMessage).toBeUndefined();
      });

      it('moves the read cursor forward only, logging read.updated when it moves', async () => {
        const [a, b] = [await user('a13'), await user('b13')];
        const id = await group(a, [b]);
        const [first, second] = await store.appendMessages([message(id, b), message(id, b)]);
        if (first?.status !== 'created' || second?.status !== 'created') throw new Error('append failed');
        const moved = await store.markRead(id, a, second.message.id, [a], at());
        expect(moved).toMatchObject([{ userId: a, type: 'read.updated', messageId: second.message.id }]);
        expect(await store.markRead(id, a, first.message.id, [a], at())).toEqual([]);
        const [view] = await store.listChannelViews(a);
        expect(view).toMatchObject({ unreadCount: 0, lastReadMessageId: second.message.id });
        const members = (await store.getChannel(id))?.members ?? [];
        expect(members.find((m) => m.userId === a)?.lastReadMessageId).toBe(second.message.id);
        expect(members.find((m) => m.userId === b)?.lastReadMessageId).toBeUndefined();
      });
    });

    describe('messages', () => {
      it('commits a message with one log entry per member, each with the next seq', async () => {
        const [a, b] = [await user('a14'), await user('b14')];
        const id = await group(a, [b]); // seq 1 for both: channel.created
        const [result] = await store.appendMessages([message(id, a, 'hello')]);
        expect(result?.status).toBe('created');
        if (result?.status !== 'created') return;
        expect(result.message).toMatchObject({ channelId: id, senderId: a, text: 'hello' });
        expect(result.entries.map((e) => [e.userId, e.seq, e.type]).sort()).toEqual(
          [
            [a, 2, 'message.created'],
            [b, 2, 'message.created'],
          ].sort(),
        );
        expect(await store.getMessage(id, result.message.id)).toEqual(result.message);
      });

      it('returns the original message for a repeated (sender, clientMsgId), even within one batch', async () => {
        const [a, b] = [await user('a15'), await user('b15')];
        const id = await group(a, [b]);
        const first = message(id, a, 'once', 'same-key');
        const results = await store.appendMessages([first, { ...message(id, a, 'twice'), clientMsgId: 'same-key' }]);
        expect(results.map((r) => r.status)).toEqual(['created', 'duplicate']);
        const [again] = await store.appendMessages([{ ...message(id, a), clientMsgId: 'same-key' }]);
        expect(again).toEqual({
          status: 'duplicate',
          message: expect.objectContaining({ id: first.id, text: 'once' }),
        });
        expect(await store.listMessages(id, { limit: 10 })).toHaveLength(1);
      });

      it('stores nothing for a sender who is not a member', async () => {
        const [a, b] = [await user('a16'), await user('b16')];
        const id = await group(a, []);
        const results = await store.appendMessages([message(id, b), message(nextId(), a)]);
        expect(results).toEqual([{ status: 'not_member' }, { status: 'not_member' }]);
        expect(await store.listMessages(id, { limit: 10 })).toEqual([]);
        expect((await store.logBounds(b)).head).toBe(0);
      });

      it('logs each message to the members of that moment, as members join and leave', async () => {
        const [a, b, c] = [await user('a30'), await user('b30'), await user('c30')];
        const id = await group(a, [b]);
        const recipients = async (sender: string) => {
          const [result] = await store.appendMessages([message(id, sender)]);
          return result?.status === 'created' ? result.entries.map((e) => e.userId).sort() : result?.status;
        };
        expect(await recipients(a)).toEqual([a, b].sort());
        expect(await recipients(c)).toBe('not_member');
        await store.addMember(id, c, 'member', 100, at());
        expect(await recipients(c)).toEqual([a, b, c].sort());
        await store.removeMember(id, b, at());
        expect(await recipients(a)).toEqual([a, c].sort());
        expect(await recipients(b)).toBe('not_member');
        const heads = await Promise.all([a, b, c].map(async (u) => (await store.logBounds(u)).head));
        // a: created, added, removed and 3 messages (its own are logged too); b: created, added,
        // removed and the 2 messages sent while it was a member; c: added, removed and 2 messages.
        expect(heads).toEqual([6, 5, 4]);
      });

      it('keeps 100,000-character texts intact', async () => {
        const a = await user('a17');
        const id = await group(a, []);
        const text = '😀'.repeat(50_000) + 'x'.repeat(50_000);
        const [result] = await store.appendMessages([message(id, a, text)]);
        expect(result?.status).toBe('created');
        const [stored] = await store.listMessages(id, { limit: 1 });
        expect(stored?.text).toBe(text);
      });

      it('orders ids numerically, also when they differ in length', async () => {
        const a = await user('a24');
        const id = await group(a, []);
        const ids = ['999999999999999999', '1000000000000000000', '1000000000000000001'];
        await store.appendMessages(ids.map((messageId) => ({ ...message(id, a), id: messageId })));
        expect((await store.listMessages(id, { limit: 10 })).map((m) => m.id)).toEqual(ids);
        expect((await store.listMessages(id, { before: ids[2]!, limit: 1 })).map((m) => m.id)).toEqual([ids[1]]);
        expect((await store.listMessages(id, { after: ids[0]!, limit: 1 })).map((m) => m.id)).toEqual([ids[1]]);
      });

      it('pages history in ascending order: latest, before, after and around', async () => {
        const a = await user('a18');
        const id = await group(a, []);
        const batch = Array.from({ length: 10 }, (_, i) => message(id, a, `m${i}`));
        await store.appendMessages(batch);
        const texts = (list: { text: string }[]) => list.map((m) => m.text);
        expect(texts(await store.listMessages(id, { limit: 3 }))).toEqual(['m7', 'm8', 'm9']);
        expect(texts(await store.listMessages(id, { before: batch[7]!.id, limit: 3 }))).toEqual(['m4', 'm5', 'm6']);
        expect(texts(await store.listMessages(id, { after: batch[7]!.id, limit: 3 }))).toEqual(['m8', 'm9']);
        expect(texts(await store.listMessages(id, { around: batch[5]!.id, limit: 4 }))).toEqual([
          'm3',
          'm4',
          'm5',
          'm6',
        ]);
        expect(texts(await store.listMessages(id, { around: batch[0]!.id, limit: 4 }))).toEqual([
          'm0',
          'm1',
          'm2',
          'm3',
        ]);
      });

      it('ends a history page at the message whose text reaches the byte budget, counted from the anchor', async () => {
        const a = await user('a26');
        const id = await group(a, []);
        // 10 texts of 10,000 UTF-8 bytes (2,500 four-byte emoji), long enough to live outside a row.
        const batch = Array.from({ length: 10 }, (_, i) => message(id, a, `${i}`.repeat(4) + '😀'.repeat(2_499)));
        await store.appendMessages(batch);
        const ids = (list: { id: string }[]) => list.map((m) => batch.findIndex((b) => b.id === m.id));
        expect(ids(await store.listMessages(id, { limit: 10 }, 25_000))).toEqual([7, 8, 9]);
        expect(ids(await store.listMessages(id, { before: batch[7]!.id, limit: 10 }, 20_000))).toEqual([5, 6]);
        expect(ids(await store.listMessages(id, { after: batch[2]!.id, limit: 10 }, 30_000))).toEqual([3, 4, 5]);
        // The older side first (the target included), the newer side gets what is left.
        expect(ids(await store.listMessages(id, { around: batch[5]!.id, limit: 6 }, 30_000))).toEqual([3, 4, 5]);
        expect(ids(await store.listMessages(id, { around: batch[5]!.id, limit: 6 }, 45_000))).toEqual([2, 3, 4, 5, 6]);
        // At least one message, however small the budget; the count limit still holds.
        expect(ids(await store.listMessages(id, { limit: 10 }, 1))).toEqual([9]);
        expect(ids(await store.listMessages(id, { limit: 2 }, 1_000_000))).toEqual([8, 9]);
      });
    });

    describe('update log', () => {
      it('reads entries after a seq, with messages joined in', async () => {
        const [a, b] = [await user('a19'), await user('b19')];
        const id = await group(a, [b]);
        await store.appendMessages([message(id, a, 'first'), message(id, b, 'second')]);
        const entries = await store.readLog(b, 1, 10);
        expect(entries.map((e) => [e.seq, e.type, e.message?.text])).toEqual([
          [2, 'message.created', 'first'],
          [3, 'message.created', 'second'],
        ]);
        expect(await store.readLog(b, 0, 1)).toMatchObject([{ seq: 1, type: 'channel.created', channelId: id }]);
        expect(await store.logBounds(b)).toEqual({ head: 3, floor: 0 });
      });

      it('ends a log page at the entry whose message text reaches the byte budget', async () => {
        const [a, b] = [await user('a27'), await user('b27')];
        const id = await group(a, [b]); // b's seq 1: channel.created (no text)
        const text = (i: number) => `${i}`.repeat(4) + '😀'.repeat(2_499); // 10,000 bytes
        await store.appendMessages([message(id, a, text(1)), message(id, a, text(2))]);
        await store.appendLog([{ userIds: [b], type: 'friend.removed', data: { userId: 'x' } }], at());
        await store.appendMessages([message(id, a, text(3)), message(id, a, 'short')]);
        const seqs = async (after: number, budget: number) =>
          (await store.readLog(b, after, 100, budget)).map((e) => [e.seq, e.message?.text.length ?? 0]);
        expect(await seqs(0, 15_000)).toEqual([
          [1, 0],
          [2, 5_002],
          [3, 5_002],
        ]);
        expect(await seqs(2, 10_000)).toEqual([[3, 5_002]]);
        expect(await seqs(3, 10_001)).toEqual([
          [4, 0],
          [5, 5_002],
          [6, 5],
        ]);
        expect((await store.readLog(b, 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      });

      it('appends arbitrary events to several users in one call', async () => {
        const [a, b] = [await user('a20'), await user('b20')];
        const entries = await store.appendLog(
          [
            { userIds: [a, b], type: 'friend.removed', data: { userId: 'x' } },
            { userIds: [a], type: 'friend.removed', data: { userId: 'y' } },
          ],
          at(),
        );
        expect(entries.map((e) => [e.userId, e.seq])).toEqual([
          [a, 1],
          [b, 1],
          [a, 2],
        ]);
      });

      it('trims entries older than a time and reports the new floor', async () => {
        const a = await user('a21');
        await store.appendLog([{ userIds: [a], type: 'friend.removed', data: { userId: 'x' } }], at(0));
        await store.appendLog([{ userIds: [a], type: 'friend.removed', data: { userId: 'y' } }], at(10_000));
        expect(await store.trimLog(at(5_000))).toBe(1);
        expect(await store.logBounds(a)).toEqual({ head: 2, floor: 1 });
        expect((await store.readLog(a, 0, 10)).map((e) => e.seq)).toEqual([2]);
      });

      it('never reuses a seq after trimming everything', async () => {
        const a = await user('a25');
        await store.appendLog([{ userIds: [a], type: 'friend.removed', data: { userId: 'x' } }], at(0));
        await store.appendLog([{ userIds: [a], type: 'friend.removed', data: { userId: 'y' } }], at(1));
        await store.trimLog(at(10_000));
        expect((await store.logBounds(a)).head).toBe(2);
        const [next] = await store.appendLog([{ userIds: [a], type: 'friend.removed', data: { userId: 'z' } }], at(2));
        expect(next?.seq).toBe(3);
      });

      it('keeps each user seq gap-free under concurrent appends', async () => {
        const [a, b, c] = [await user('a22'), await user('b22'), await user('c22')];
        const id = await group(a, [b, c]);
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.appendMessages([message(id, [a, b, c][i % 3]!), message(id, [a, b, c][(i + 1) % 3]!)]),
          ),
        );
        for (const userId of [a, b, c]) {
          const seqs = (await store.readLog(userId, 0, 100)).map((e) => e.seq);
          expect(seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
        }
      });
    });
  });
}
