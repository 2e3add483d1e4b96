/**
 * The whole Store: every port's own contract suite, and every event type written through the
 * domain's builders and read back through readLog and hydration, exactly. A backend is done when
 * this passes on it. Each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventType, MemberRole, SyncEvent, User } from '@parley/protocol';
import { EventRouter } from '../../domain/events.js';
import type { LivePublisher } from '../../domain/live.js';
import {
  channelSettingsUpdated,
  channelUpdated,
  friendRequested,
  friendsAdded,
  friendsRemoved,
  memberAdded,
  memberRemoved,
  messageChanged,
  reactionChanged,
  readUpdated,
  userBlocked,
  userUnblocked,
  userUpdated,
} from '../../domain/log-appends.js';
import type { FriendRequestRecord, Store } from '../store.js';
import { describeAccountStoreContract } from './accounts.contract.js';
import { describeBlockStoreContract } from './blocks.contract.js';
import { describeInviteStoreContract } from './invites.contract.js';
import { describeChannelStoreContract } from './channels.contract.js';
import { describeContactStoreContract } from './contacts.contract.js';
import { dmOf, groupOf } from './fixtures.js';
import { describeFriendStoreContract } from './friends.contract.js';
import { describeMessageChangeStoreContract } from './message-changes.contract.js';
import { describeMessageStoreContract } from './messages.contract.js';
import { describeSearchStoreContract } from './search.contract.js';
import { at, createUser, indexedText, newMessage, nextId, type PortHarness } from './suite.js';
import { describeLogStoreContract } from './update-log.contract.js';

/** Every event type of the protocol; the compiler checks the list is complete. */
const EVENT_TYPE_SET: Record<EventType, true> = {
  'message.created': true,
  'read.updated': true,
  'channel.created': true,
  'channel.updated': true,
  'member.added': true,
  'member.removed': true,
  'friend.requested': true,
  'friend.added': true,
  'friend.removed': true,
  'user.updated': true,
  'message.updated': true,
  'message.deleted': true,
  'reaction.added': true,
  'reaction.removed': true,
  'user.blocked': true,
  'user.unblocked': true,
  'channel.settings.updated': true,
};
const EVENT_TYPES = Object.keys(EVENT_TYPE_SET);

export type StoreHarness = PortHarness<Store>;

export function describeStoreContract(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
  skip: string | false = false,
): void {
  describeAccountStoreContract(name, makeHarness, skip);
  describeInviteStoreContract(name, makeHarness, skip);
  describeBlockStoreContract(name, makeHarness, skip);
  describeFriendStoreContract(name, makeHarness, skip);
  describeChannelStoreContract(name, makeHarness, skip);
  describeContactStoreContract(name, makeHarness, skip);
  describeMessageStoreContract(name, makeHarness, skip);
  describeMessageChangeStoreContract(name, makeHarness, skip);
  describeLogStoreContract(name, makeHarness, skip);
  describeSearchStoreContract(name, makeHarness, skip);
  describe.skipIf(skip !== false)(`Store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const user = (username: string) => createUser(store, username);
    const message = newMessage;

    describe('every event type, written by the domain and read back', () => {
      /** Hydration as GET /v1/sync and replays do it; nothing is published by hydrate. */
      const notUsed = () => Promise.reject(new Error('not used'));
      const unusedLive: LivePublisher = {
        events: notUsed,
        messages: notUsed,
        ephemeral: notUsed,
        deviceRevoked: notUsed,
      };
      const silent = { warn: () => undefined, error: () => undefined };
      const profile = (id: string, username: string): User => ({ id, username, displayName: username.toUpperCase() });

      it('gives each user exactly the payload the protocol names, through readLog and hydration', async () => {
        const router = new EventRouter(store, unusedLive, silent);
        const read = new Map<string, number>();
        /** The user's events since the last call, hydrated as a client receives them. */
        const next = async (userId: string): Promise<SyncEvent[]> => {
          const entries = await store.readLog(userId, read.get(userId) ?? 0, 100);
          read.set(userId, entries.at(-1)?.seq ?? read.get(userId) ?? 0);
          return router.hydrate(entries);
        };
        const [a, b, c] = [await user('ann'), await user('ben'), await user('cat')];
        const [ann, ben, cat] = [profile(a, 'ann'), profile(b, 'ben'), profile(c, 'cat')];

        // friend.requested
        const asked: FriendRequestRecord = { id: nextId(), fromUserId: a, toUserId: b, createdAt: at(1) };
        await store.changeFriendPair({
          pair: [a, b],
          expected: { friends: false, requests: [] },
          addRequest: asked,
          at: at(1),
          events: [friendRequested(asked)],
        });
        const requested = {
          type: 'friend.requested',
          request: { ...asked, fromUser: ann, toUser: ben },
        };
        expect(await next(b)).toEqual([{ seq: 1, ...requested }]);
        expect(await next(a)).toEqual([{ seq: 1, ...requested }]);

        // friend.added
        await store.changeFriendPair({
          pair: [b, a],
          expected: { friends: false, requests: [asked] },
          removeRequestIds: [asked.id],
          friends: true,
          at: at(2),
          events: friendsAdded(a, b),
        });
        expect(await next(a)).toEqual([{ seq: 2, type: 'friend.added', friend: ben }]);
        expect(await next(b)).toEqual([{ seq: 2, type: 'friend.added', friend: ann }]);

        // user.updated
        await store.updateProfile(a, { statusText: 'here' }, [userUpdated(a, [a, b])], at(3));
        const annNow = { ...ann, statusText: 'here' };
        expect(await next(a)).toEqual([{ seq: 3, type: 'user.updated', user: annNow }]);
        expect(await next(b)).toEqual([{ seq: 3, type: 'user.updated', user: annNow }]);

        // channel.created (a DM), message.created, read.updated
        const { channel: dm } = await store.getOrCreateDm(...dmOf(nextId(), a, b, at(4)));
        const sent = message(dm.id, a, 'hello');
        const [appended] = await store.appendMessages([sent]);
        expect(appended?.status).toBe('created');
        await store.moveReadCursor({
          channelId: dm.id,
          userId: b,
          to: sent.id,
          at: at(5),
          events: [readUpdated(dm.id, b, sent.id, [a, b])],
        });
        const dmInfo = {
          id: dm.id,
          kind: 'dm',
          members: [
            { ...annNow, role: 'member' },
            { ...ben, role: 'member', lastReadMessageId: sent.id },
          ],
          createdAt: at(4),
        };
        const stored = { ...sent };
        expect(await next(a)).toEqual([
          { seq: 4, type: 'channel.created', channel: dmInfo },
          { seq: 5, type: 'message.created', message: stored },
          { seq: 6, type: 'read.updated', channelId: dm.id, userId: b, messageId: sent.id },
        ]);

        // channel.created (a group), member.added, channel.updated, member.removed
        const { channel: team } = await store.createGroup(...groupOf(nextId(), 'team', a, [b], at(6)));
        await store.changeChannel({
          channelId: team.id,
          expected: [
            { userId: a, role: 'owner' },
            { userId: b, role: 'member' },
          ],
          add: [{ userId: c, role: 'member' }],
          at: at(7),
          events: [memberAdded(team.id, c, [a, b, c])],
        });
        const withCat = {
          id: team.id,
          kind: 'group',
          name: 'team',
          members: [
            { ...annNow, role: 'owner' },
            { ...ben, role: 'member' },
            { ...cat, role: 'member' },
          ],
          createdAt: at(6),
        };
        expect(await next(c)).toEqual([{ seq: 1, type: 'member.added', channel: withCat, userId: c }]);
        await store.changeChannel({
          channelId: team.id,
          expected: withCat.members.map((m) => ({ userId: m.id, role: m.role as MemberRole })),
          roles: [{ userId: b, role: 'admin' }],
          name: 'crew',
          at: at(8),
          events: [channelUpdated(team.id, [a, b, c])],
        });
        const crew = {
          ...withCat,
          name: 'crew',
          members: [{ ...annNow, role: 'owner' }, { ...ben, role: 'admin' }, withCat.members[2]],
        };
        expect(await next(c)).toEqual([{ seq: 2, type: 'channel.updated', channel: crew }]);
        await store.changeChannel({
          channelId: team.id,
          expected: crew.members.map((m) => ({ userId: m!.id, role: m!.role as MemberRole })),
          remove: [c],
          at: at(9),
          events: [memberRemoved(team.id, c, [a, b, c])],
        });
        // Someone who has left sees only which channel it was.
        expect(await next(c)).toEqual([
          {
            seq: 3,
            type: 'member.removed',
            channel: { id: team.id, kind: 'group', members: [], createdAt: at(6) },
            userId: c,
          },
        ]);
        const afterCat = { ...crew, members: crew.members.slice(0, 2) };
        expect(await next(b)).toEqual([
          { seq: 4, type: 'channel.created', channel: dmInfo },
          { seq: 5, type: 'message.created', message: stored },
          { seq: 6, type: 'read.updated', channelId: dm.id, userId: b, messageId: sent.id },
          { seq: 7, type: 'channel.created', channel: afterCat },
          { seq: 8, type: 'member.added', channel: afterCat, userId: c },
          { seq: 9, type: 'channel.updated', channel: afterCat },
          { seq: 10, type: 'member.removed', channel: afterCat, userId: c },
        ]);

        // friend.removed
        await store.changeFriendPair({
          pair: [b, a],
          expected: { friends: true, requests: [] },
          friends: false,
          at: at(10),
          events: friendsRemoved(b, a),
        });
        expect(await next(b)).toEqual([{ seq: 11, type: 'friend.removed', userId: a }]);

        // channel.settings.updated (the user's own devices only)
        await store.setChannelMuted({
          channelId: team.id,
          userId: b,
          muted: true,
          at: at(11),
          events: [channelSettingsUpdated(team.id, b, true)],
        });
        expect(await next(b)).toEqual([{ seq: 12, type: 'channel.settings.updated', channelId: team.id, muted: true }]);
        const annEvents = await next(a);
        expect(annEvents.at(-1)).toEqual({ seq: 11, type: 'friend.removed', userId: b });

        // reaction.added, reaction.removed, message.updated, message.deleted: a message event
        // carries the message as it is when read (so a replayed update shows a later delete).
        const ref = { channelId: dm.id, messageId: sent.id };
        const reacted = (type: 'reaction.added' | 'reaction.removed') => ({
          ...ref,
          userId: b,
          emoji: '👍',
          at: at(11),
          events: [reactionChanged(type, dm.id, sent.id, b, '👍', [a, b])],
        });
        await store.addReaction(reacted('reaction.added'));
        await store.removeReaction(reacted('reaction.removed'));
        await store.editMessage({
          ...ref,
          senderId: a,
          ...indexedText('hello!'),
          at: at(12),
          events: [messageChanged('message.updated', dm.id, sent.id, [a, b])],
        });
        const reaction = { channelId: dm.id, messageId: sent.id, emoji: '👍', userId: b };
        expect(await next(b)).toEqual([
          { seq: 13, type: 'reaction.added', ...reaction },
          { seq: 14, type: 'reaction.removed', ...reaction },
          { seq: 15, type: 'message.updated', message: { ...stored, text: 'hello!', editedAt: at(12) } },
        ]);
        await store.deleteMessage({
          ...ref,
          at: at(13),
          events: [messageChanged('message.deleted', dm.id, sent.id, [a, b])],
        });
        const tombstone = { ...stored, text: '', deletedAt: at(13) };
        expect(await next(a)).toEqual([
          { seq: 12, type: 'reaction.added', ...reaction },
          { seq: 13, type: 'reaction.removed', ...reaction },
          { seq: 14, type: 'message.updated', message: tombstone },
          { seq: 15, type: 'message.deleted', message: tombstone },
        ]);

        // user.blocked, user.unblocked: the blocker's devices only
        await store.changeBlock({ blockerId: c, blockedId: a, blocked: true, at: at(11), events: [userBlocked(c, a)] });
        await store.changeBlock({
          blockerId: c,
          blockedId: a,
          blocked: false,
          at: at(12),
          events: [userUnblocked(c, a)],
        });
        expect(await next(c)).toEqual([
          { seq: 4, type: 'user.blocked', userId: a },
          { seq: 5, type: 'user.unblocked', userId: a },
        ]);

        // Every event type of the protocol went through this test.
        const seen = new Set<string>();
        for (const userId of [a, b, c]) {
          for (const entry of await store.readLog(userId, 0, 100)) seen.add(entry.type);
        }
        expect([...seen].sort()).toEqual([...EVENT_TYPES].sort());
      });
    });
  });
}
