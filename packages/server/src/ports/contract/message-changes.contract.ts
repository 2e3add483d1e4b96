/**
 * The MessageChangeStore contract (ports/message-changes.ts): edits, tombstones, reactions and
 * reply sources, on a store that also holds the channels, users, messages and logs they need.
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageChanged, reactionChanged } from '../../domain/log-appends.js';
import type { MessageChangeStore, ReactionChange } from '../message-changes.js';
import type { AccountStore, ChannelStore, LogStore, MessageStore } from '../store.js';
import { parseSearchQuery } from '../../domain/search-text.js';
import type { SearchStore } from '../search.js';
import { at, createGroup, createUser, indexedText, newMessage, type PortHarness } from './suite.js';

type Ports = MessageChangeStore & MessageStore & ChannelStore & AccountStore & LogStore & SearchStore;

export function describeMessageChangeStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<Ports>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`MessageChangeStore contract: ${name}`, () => {
    let harness: PortHarness<Ports>;
    let store: Ports;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());

    /** A group of `a` (owner) and `b`, and a message `a` sent to it. */
    async function setup(text = 'hello') {
      const [a, b] = [await createUser(store, 'ann'), await createUser(store, 'ben')];
      const channelId = await createGroup(store, a, [b]);
      const sent = newMessage(channelId, a, text);
      await store.appendMessages([sent]);
      return { a, b, channelId, sent, ref: { channelId, messageId: sent.id } };
    }
    const edited = (type: 'message.updated' | 'message.deleted', channelId: string, id: string, to: string[]) => [
      messageChanged(type, channelId, id, to),
    ];

    describe('edit', () => {
      it('replaces the text, sets editedAt, and logs the given entries in the same commit', async () => {
        const { a, b, channelId, sent, ref } = await setup();
        const write = await store.editMessage({
          ...ref,
          senderId: a,
          ...indexedText('hello again'),
          at: at(5),
          events: edited('message.updated', channelId, sent.id, [a, b]),
        });
        expect(write.status).toBe('applied');
        if (write.status !== 'applied') return;
        expect(write.message).toMatchObject({ id: sent.id, text: 'hello again', editedAt: at(5) });
        expect(write.entries.map((e) => [e.userId, e.type])).toEqual([
          [a, 'message.updated'],
          [b, 'message.updated'],
        ]);
        expect(await store.getMessage(channelId, sent.id)).toMatchObject({ text: 'hello again', editedAt: at(5) });
        expect((await store.listMessages(channelId, { limit: 10 }))[0]).toMatchObject({ text: 'hello again' });
      });

      it('is stale, writing nothing, for another sender, a deleted message or another channel', async () => {
        const { a, b, channelId, sent, ref } = await setup();
        const headBefore = (await store.logBounds(a)).head;
        const edit = {
          ...ref,
          ...indexedText('x'),
          at: at(5),
          events: edited('message.updated', channelId, sent.id, [a, b]),
        };
        expect(await store.editMessage({ ...edit, senderId: b })).toEqual({ status: 'stale' });
        const other = await createGroup(store, a, [b]);
        expect(await store.editMessage({ ...edit, channelId: other, senderId: a })).toEqual({ status: 'stale' });
        await store.deleteMessage({ ...ref, at: at(6), events: [] });
        expect(await store.editMessage({ ...edit, senderId: a })).toEqual({ status: 'stale' });
        expect((await store.logBounds(a)).head).toBe(headBefore + 1); // only other's channel.created
      });
    });

    describe('delete', () => {
      it('leaves a tombstone in history, the log and the channel list, without text or reactions', async () => {
        const { a, b, channelId, sent, ref } = await setup('a secret');
        await store.addReaction({ ...ref, userId: b, emoji: '👍', at: at(1), events: [] });
        const write = await store.deleteMessage({
          ...ref,
          at: at(2),
          events: edited('message.deleted', channelId, sent.id, [a, b]),
        });
        expect(write.status).toBe('applied');
        const tombstone = {
          id: sent.id,
          channelId,
          senderId: a,
          text: '',
          createdAt: sent.createdAt,
          clientMsgId: sent.clientMsgId,
          deletedAt: at(2),
        };
        if (write.status === 'applied') expect(write.message).toEqual(tombstone);
        expect(await store.getMessage(channelId, sent.id)).toEqual(tombstone);
        expect(await store.listMessages(channelId, { around: sent.id, limit: 5 })).toEqual([tombstone]);
        const log = await store.readLog(b, 0, 10);
        expect(log.filter((e) => e.messageId === sent.id).map((e) => [e.type, e.message])).toEqual([
          ['message.created', tombstone],
          ['message.deleted', tombstone],
        ]);
        expect(await store.listReactions([ref])).toEqual([]);
        const [view] = await store.listChannelViews(b, { limit: 10, textCodePoints: 100 });
        expect(view?.lastMessage).toEqual(tombstone);
        expect(await store.deleteMessage({ ...ref, at: at(3), events: [] })).toEqual({ status: 'stale' });
      });

      it('does not count a deleted message as unread', async () => {
        const { a, b, channelId, ref } = await setup();
        await store.appendMessages([newMessage(channelId, a, 'two')]);
        const unread = async () => (await store.listChannelViews(b, { limit: 10, textCodePoints: 10 }))[0]?.unreadCount;
        expect(await unread()).toBe(2);
        await store.deleteMessage({ ...ref, at: at(2), events: [] });
        expect(await unread()).toBe(1);
      });

      it('erases a long text too', async () => {
        const long = 'secret '.repeat(1000);
        const { channelId, sent, ref } = await setup(long);
        expect((await store.getMessage(channelId, sent.id))?.text).toBe(long);
        await store.deleteMessage({ ...ref, at: at(2), events: [] });
        expect((await store.getMessage(channelId, sent.id))?.text).toBe('');
        expect(await store.replySources([ref], 100)).toEqual([{ messageId: sent.id, senderId: sent.senderId }]);
      });
    });

    describe('reactions', () => {
      const change = (
        ref: { channelId: string; messageId: string },
        userId: string,
        emoji: string,
      ): ReactionChange => ({
        ...ref,
        userId,
        emoji,
        at: at(1),
        events: [reactionChanged('reaction.added', ref.channelId, ref.messageId, userId, emoji, [userId])],
      });

      it('adds each (user, emoji) once and lists them in the order they were added', async () => {
        const { a, b, channelId, sent, ref } = await setup();
        const first = await store.addReaction(change(ref, b, '👍'));
        expect(first.status === 'applied' && first.entries.length).toBe(1);
        expect(await store.addReaction(change(ref, b, '👍'))).toEqual({ status: 'applied', entries: [] });
        await store.addReaction(change(ref, a, '🎉'));
        await store.addReaction(change(ref, a, '👍'));
        expect(await store.listReactions([ref])).toEqual([
          { channelId, messageId: sent.id, userId: b, emoji: '👍' },
          { channelId, messageId: sent.id, userId: a, emoji: '🎉' },
          { channelId, messageId: sent.id, userId: a, emoji: '👍' },
        ]);
      });

      it('removes one, and removing what is not there changes nothing', async () => {
        const { b, ref } = await setup();
        await store.addReaction(change(ref, b, '👍'));
        const removed = await store.removeReaction(change(ref, b, '👍'));
        expect(removed.status === 'applied' && removed.entries.length).toBe(1);
        expect(await store.removeReaction(change(ref, b, '👍'))).toEqual({ status: 'applied', entries: [] });
        expect(await store.listReactions([ref])).toEqual([]);
      });

      it('is stale past the distinct-emoji cap, but not for an emoji already there', async () => {
        const { a, b, ref } = await setup();
        await store.addReaction({ ...change(ref, a, '👍'), maxDistinctEmoji: 2 });
        await store.addReaction({ ...change(ref, a, '🎉'), maxDistinctEmoji: 2 });
        expect(await store.addReaction({ ...change(ref, b, '🔥'), maxDistinctEmoji: 2 })).toEqual({ status: 'stale' });
        const same = await store.addReaction({ ...change(ref, b, '🎉'), maxDistinctEmoji: 2 });
        expect(same.status).toBe('applied');
      });

      it('is stale on a deleted message', async () => {
        const { b, ref } = await setup();
        await store.deleteMessage({ ...ref, at: at(2), events: [] });
        expect(await store.addReaction(change(ref, b, '👍'))).toEqual({ status: 'stale' });
        expect(await store.removeReaction(change(ref, b, '👍'))).toEqual({ status: 'stale' });
      });
    });

    describe('replies', () => {
      it('keeps the id and sender of the message answered, and gives its current text as a source', async () => {
        const { a, b, channelId, sent, ref } = await setup('the question');
        const reply = { ...newMessage(channelId, b, 'the answer'), replyTo: { id: sent.id, senderId: a } };
        const [result] = await store.appendMessages([reply]);
        expect(result?.status).toBe('created');
        expect(await store.getMessage(channelId, reply.id)).toMatchObject({ replyTo: { id: sent.id, senderId: a } });
        expect(await store.replySources([ref], 5)).toEqual([{ messageId: sent.id, senderId: a, preview: 'the q' }]);
        await store.editMessage({ ...ref, senderId: a, ...indexedText('new question'), at: at(3), events: [] });
        expect(await store.replySources([ref], 100)).toEqual([
          { messageId: sent.id, senderId: a, preview: 'new question' },
        ]);
      });
    });

    describe('search and mentions follow the text', () => {
      /** Appends a message as MessageService.send builds it. */
      async function sendIndexed(channelId: string, senderId: string, text: string) {
        const message = { ...newMessage(channelId, senderId, text), ...indexedText(text) };
        const [result] = await store.appendMessages([message]);
        expect(result?.status).toBe('created');
        return { channelId, messageId: message.id };
      }
      const find = async (userId: string, q: string) =>
        (await store.searchMessages(userId, { terms: parseSearchQuery(q)!, limit: 50 })).map((m) => m.id);
      const mentionIds = async (userId: string) => (await store.mentions(userId, { limit: 50 })).map((m) => m.id);

      it('an edit is found by its new text only, and mentions whom the new text names', async () => {
        const { a, b, channelId } = await setup();
        const ref = await sendIndexed(channelId, a, '회의는 내일 @ann');
        expect(await find(b, '회의')).toEqual([ref.messageId]);
        expect(await mentionIds(b)).toEqual([]);
        const write = await store.editMessage({
          ...ref,
          senderId: a,
          ...indexedText('점심 먹자 @ben'),
          at: at(5),
          events: [],
        });
        expect(write.status === 'applied' && write.message.mentions).toEqual([b]);
        expect(await find(b, '회의')).toEqual([]);
        expect(await find(b, '점심')).toEqual([ref.messageId]);
        expect(await mentionIds(b)).toEqual([ref.messageId]);
        expect((await store.getMessage(channelId, ref.messageId))?.mentions).toEqual([b]);
        await store.editMessage({ ...ref, senderId: a, ...indexedText('점심 먹자'), at: at(6), events: [] });
        expect(await mentionIds(b)).toEqual([]);
        expect((await store.getMessage(channelId, ref.messageId))?.mentions).toBeUndefined();
      });

      it('a deleted message is found by nobody and mentions nobody', async () => {
        const { a, b, channelId } = await setup();
        const ref = await sendIndexed(channelId, a, 'secret plans for @ben');
        expect(await find(b, 'secret')).toEqual([ref.messageId]);
        expect(await mentionIds(b)).toEqual([ref.messageId]);
        await store.deleteMessage({ ...ref, at: at(5), events: [] });
        expect(await find(b, 'secret')).toEqual([]);
        expect(await find(a, 'plans')).toEqual([]);
        expect(await mentionIds(b)).toEqual([]);
        expect((await store.getMessage(channelId, ref.messageId))?.mentions).toBeUndefined();
      });
    });
  });
}
