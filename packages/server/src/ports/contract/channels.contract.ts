/**
 * The ChannelStore contract (ports/store.ts), on a store that also holds the users, messages and logs it needs.
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { channelUpdated, memberAdded, memberRemoved, readUpdated, userUpdated } from '../../domain/log-appends.js';
import type { AccountStore, ChannelStore, LogStore, MessageStore } from '../store.js';
import { dmOf } from './fixtures.js';
import { at, createGroup, createUser, expectStoreError, newMessage, nextId, type PortHarness } from './suite.js';

export function describeChannelStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<ChannelStore & AccountStore & MessageStore & LogStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`ChannelStore contract: ${name}`, () => {
    let harness: PortHarness<ChannelStore & AccountStore & MessageStore & LogStore>;
    let store: ChannelStore & AccountStore & MessageStore & LogStore;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const user = (username: string) => createUser(store, username);
    const group = (ownerId: string, memberIds: string[]) => createGroup(store, ownerId, memberIds);
    const message = newMessage;

    describe('channels', () => {
      it('gives a pair the same DM whichever side asks, appending its entries once', async () => {
        const [a, b] = [await user('a6'), await user('b6')];
        const first = await store.getOrCreateDm(...dmOf(nextId(), a, b, at()));
        const second = await store.getOrCreateDm(...dmOf(nextId(), b, a, at()));
        expect(second.channel.id).toBe(first.channel.id);
        expect(first.channel.kind).toBe('dm');
        expect(first.entries.map((e) => [e.userId, e.type, e.channelId])).toEqual([
          [a, 'channel.created', first.channel.id],
          [b, 'channel.created', first.channel.id],
        ]);
        expect(second.entries).toEqual([]);
      });

      it('creates a group with the members and roles it is given', async () => {
        const [a, b, c] = [await user('a7'), await user('b7'), await user('c7')];
        const id = await group(a, [b, c]);
        const channel = await store.getChannel(id);
        expect(channel?.members.map((m) => [m.userId, m.role, m.joinedAt])).toEqual([
          [a, 'owner', at()],
          [b, 'member', at()],
          [c, 'member', at()],
        ]);
        expect(await store.getRole(id, c)).toBe('member');
        expect(await store.getRole(id, nextId())).toBeUndefined();
      });

      it('changes members, roles and name in one change, with the entries it is given', async () => {
        const [a, b, c] = [await user('a9'), await user('b9'), await user('c9')];
        const id = await group(a, [b]);
        const added = await store.changeChannel({
          channelId: id,
          expected: [
            { userId: a, role: 'owner' },
            { userId: b, role: 'member' },
          ],
          add: [{ userId: c, role: 'member' }],
          at: at(1),
          events: [memberAdded(id, c, [a, b, c])],
        });
        expect(added.status === 'applied' && added.entries.map((e) => [e.userId, e.type, e.data])).toEqual([
          [a, 'member.added', { userId: c }],
          [b, 'member.added', { userId: c }],
          [c, 'member.added', { userId: c }],
        ]);
        const handedOver = await store.changeChannel({
          channelId: id,
          expected: [
            { userId: b, role: 'member' },
            { userId: c, role: 'member' },
            { userId: a, role: 'owner' },
          ],
          remove: [a],
          roles: [{ userId: c, role: 'owner' }],
          name: 'renamed',
          at: at(2),
          events: [memberRemoved(id, a, [a, b, c])],
        });
        expect(handedOver.status).toBe('applied');
        const channel = await store.getChannel(id);
        expect(channel?.name).toBe('renamed');
        expect(channel?.members.map((m) => [m.userId, m.role, m.joinedAt])).toEqual([
          [b, 'member', at()],
          [c, 'owner', at(1)],
        ]);
        expect(await store.memberIds(id)).toEqual([b, c]);
      });

      it('applies no channel change decided on other members, nor on a channel that does not exist', async () => {
        const [a, b] = [await user('a10'), await user('b10')];
        const id = await group(a, [b]);
        const asOwnerOnly = {
          expected: [{ userId: a, role: 'owner' as const }],
          name: 'x',
          at: at(),
          events: [channelUpdated(id, [a])],
        };
        expect(await store.changeChannel({ channelId: id, ...asOwnerOnly })).toEqual({ status: 'stale' });
        const asMember = [
          { userId: a, role: 'owner' as const },
          { userId: b, role: 'admin' as const },
        ];
        expect(await store.changeChannel({ channelId: id, ...asOwnerOnly, expected: asMember })).toEqual({
          status: 'stale',
        });
        expect(await store.changeChannel({ channelId: nextId(), ...asOwnerOnly })).toEqual({ status: 'stale' });
        expect((await store.getChannel(id))?.name).toBe('team');
        expect((await store.logBounds(a)).head).toBe(1);
      });

      it('lists channels by latest activity with last message and unread count', async () => {
        const [a, b] = [await user('a12'), await user('b12')];
        const older = await group(a, [b]);
        const { channel: dm } = await store.getOrCreateDm(...dmOf(nextId(), a, b, at()));
        await store.appendMessages([message(older, b, 'one'), message(older, b, 'two'), message(older, a, 'mine')]);
        const views = await store.listChannelViews(a, { limit: 100, textCodePoints: 1000 });
        expect(views.map((v) => v.id)).toEqual([older, dm.id]);
        expect(views[0]).toMatchObject({ unreadCount: 2, lastMessage: { text: 'mine' } });
        expect(views[1]).toMatchObject({ unreadCount: 0 });
        expect(views[1]?.lastMessage).toBeUndefined();
      });

      it('counts unread only up to the last message a view shows, while messages are being stored', async () => {
        const [a, b] = [await user('a49'), await user('b49')];
        const { channel: dm } = await store.getOrCreateDm(...dmOf(nextId(), a, b, at()));
        // b's messages are stored (on a store's writer thread, if it has one) while a's list is read.
        // The writes stop by themselves, so that a failing read cannot leave them running.
        const stored: bigint[] = [];
        let writing = true;
        const writes = (async () => {
          while (stored.length < 400) {
            const batch = [0, 1, 2, 3].map(() => message(dm.id, b, 'news'));
            await Promise.all(batch.map((m) => store.appendMessages([m])));
            stored.push(...batch.map((m) => BigInt(m.id)));
            // A store that answers without I/O would otherwise never let the list be read.
            await nextTurn();
          }
        })().finally(() => {
          writing = false;
        });
        const shown: { last: bigint; unread: number }[] = [];
        while (writing) {
          const [view] = await store.listChannelViews(a, { limit: 10, textCodePoints: 10 });
          if (view?.lastMessage) shown.push({ last: BigInt(view.lastMessage.id), unread: view.unreadCount });
          await nextTurn();
        }
        await writes;
        expect(shown.length).toBeGreaterThan(0);
        // Nothing is read, so a view's count is at most every message up to its last one (fewer where
        // a store commits concurrent sends out of id order). A count taken after the last message was
        // read took in newer ones too, which a client counts again as they arrive.
        const overCounted = shown.filter(({ last, unread }) => unread > stored.filter((id) => id <= last).length);
        expect(overCounted).toEqual([]);
      });

      it('pages channel views by activity: at most limit, and below `before`', async () => {
        const [a, b] = [await user('a47'), await user('b47')];
        const quiet = await group(a, [b]);
        const busy = await group(a, [b]);
        const newest = await group(a, [b]);
        const [last] = await store.appendMessages([message(busy, b, 'late')]);
        if (last?.status !== 'created') throw new Error('append failed');
        // busy's activity is its message, newer than every channel; then newest, then quiet.
        const first = await store.listChannelViews(a, { limit: 2, textCodePoints: 1000 });
        expect(first.map((v) => v.id)).toEqual([busy, newest]);
        expect(
          (await store.listChannelViews(a, { limit: 2, before: newest, textCodePoints: 1000 })).map((v) => v.id),
        ).toEqual([quiet]);
        expect(
          (await store.listChannelViews(a, { limit: 5, before: last.message.id, textCodePoints: 1000 })).map(
            (v) => v.id,
          ),
        ).toEqual([newest, quiet]);
      });

      it("reads only the first textCodePoints code points of each view's last message", async () => {
        const [a, b] = [await user('a48'), await user('b48')];
        const short = await group(a, [b]);
        const long = await group(a, [b]);
        // 4-byte code points: 3,000 of them make a 12,000-byte text, kept apart from its row by some stores.
        await store.appendMessages([message(short, b, 'héllo wörld'), message(long, b, '😀🙂'.repeat(1500))]);
        const views = await store.listChannelViews(a, { limit: 10, textCodePoints: 5 });
        expect(views.map((v) => [v.id, v.lastMessage?.text])).toEqual([
          [long, '😀🙂😀🙂😀'],
          [short, 'héllo'],
        ]);
      });

      it('moves a read cursor only forward, with the entries it is given', async () => {
        const [a, b] = [await user('a13'), await user('b13')];
        const id = await group(a, [b]);
        const [first, second] = await store.appendMessages([message(id, b), message(id, b)]);
        if (first?.status !== 'created' || second?.status !== 'created') throw new Error('append failed');
        const move = (userId: string, to: string) =>
          store.moveReadCursor({
            channelId: id,
            userId,
            to,
            at: at(),
            events: [readUpdated(id, userId, to, [userId])],
          });
        const moved = await move(a, second.message.id);
        expect(moved).toMatchObject({ status: 'applied', entries: [{ userId: a, type: 'read.updated' }] });
        expect(await move(a, first.message.id)).toEqual({ status: 'stale' });
        expect(await move(a, second.message.id)).toEqual({ status: 'stale' });
        const [view] = await store.listChannelViews(a, { limit: 100, textCodePoints: 1000 });
        expect(view).toMatchObject({ unreadCount: 0, lastReadMessageId: second.message.id });
        const members = (await store.getChannel(id))?.members ?? [];
        expect(members.find((m) => m.userId === a)?.lastReadMessageId).toBe(second.message.id);
        expect(members.find((m) => m.userId === b)?.lastReadMessageId).toBeUndefined();
        // A move decided while the cursor was unset still holds after a lower move landed first.
        expect((await move(b, first.message.id)).status).toBe('applied');
        expect((await move(b, second.message.id)).status).toBe('applied');
        const stranger = await user('c13');
        expect(await move(stranger, second.message.id)).toEqual({ status: 'stale' });
      });

      it('changes a profile with the entries it is given, or nothing for an unknown user', async () => {
        const [a, b] = [await user('a26'), await user('b26')];
        const { user: changed, entries } = await store.updateProfile(
          a,
          { statusText: 'away' },
          [userUpdated(a, [a, b])],
          at(),
        );
        expect(changed).toEqual({ id: a, username: 'a26', displayName: 'A26', statusText: 'away' });
        expect(entries.map((e) => [e.userId, e.type, e.data])).toEqual([
          [a, 'user.updated', { userId: a }],
          [b, 'user.updated', { userId: a }],
        ]);
        await expectStoreError(
          store.updateProfile(nextId(), { statusText: 'x' }, [userUpdated(b, [b])], at()),
          'not_found',
        );
        expect((await store.logBounds(b)).head).toBe(1);
      });
    });
  });
}
