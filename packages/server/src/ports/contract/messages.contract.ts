/**
 * The MessageStore contract (ports/store.ts), on a store that also holds the channels, users and logs it needs.
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memberAdded, memberRemoved } from '../../domain/log-appends.js';
import { parseSearchQuery } from '../../domain/search-text.js';
import type { SearchStore } from '../search.js';
import type { AccountStore, ChannelStore, LogStore, MessageStore } from '../store.js';
import { at, createGroup, createUser, indexedText, newMessage, nextId, type PortHarness } from './suite.js';

export function describeMessageStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<MessageStore & ChannelStore & AccountStore & LogStore & SearchStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`MessageStore contract: ${name}`, () => {
    let harness: PortHarness<MessageStore & ChannelStore & AccountStore & LogStore & SearchStore>;
    let store: MessageStore & ChannelStore & AccountStore & LogStore & SearchStore;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const user = (username: string) => createUser(store, username);
    const group = (ownerId: string, memberIds: string[]) => createGroup(store, ownerId, memberIds);
    const message = newMessage;

    describe('messages', () => {
      it("lists one sender's messages across channels, ascending after an id, within a byte budget", async () => {
        const [a, b] = [await user('sa1'), await user('sb1')];
        const one = await group(a, [b]);
        const two = await group(b, [a]);
        const sent = [
          message(one, a, 'first'),
          message(two, b, 'theirs'),
          message(two, a, 'second'),
          message(one, a, 'third'),
        ];
        await store.appendMessages(sent);
        const all = await store.listMessagesBySender(a, '0', 10, 1_000_000);
        expect(all.map((m) => m.text)).toEqual(['first', 'second', 'third']);
        const after = await store.listMessagesBySender(a, sent[0]!.id, 1, 1_000_000);
        expect(after.map((m) => m.text)).toEqual(['second']);
        // 'first' alone reaches a budget of 3 bytes: the page ends there, with at least one message.
        expect((await store.listMessagesBySender(a, '0', 10, 3)).map((m) => m.text)).toEqual(['first']);
      });

      it("erases a deleted account's messages when asked, and keeps them otherwise", async () => {
        const [a, b, c] = [await user('ea1'), await user('eb1'), await user('ec1')];
        const id = await group(a, [b, c]);
        const indexed = (sender: string, text: string) => ({ ...message(id, sender, text), ...indexedText(text) });
        const fromA = indexed(a, 'from a, hi @ec1');
        await store.appendMessages([fromA, indexed(b, 'from b'), indexed(c, 'from c')]);
        expect((await store.mentions(c, { limit: 10 })).map((m) => m.id)).toEqual([fromA.id]);
        await store.deleteAccount({ userId: a, eraseMessages: true, at: at(), events: [] });
        await store.deleteAccount({ userId: b, eraseMessages: false, at: at(), events: [] });
        const left = await store.listMessages(id, { limit: 10 });
        expect(left.map((m) => m.text)).toEqual(['from b', 'from c']);
        // Gone from search and mentions too.
        expect(await store.searchMessages(c, { terms: parseSearchQuery('from')!, limit: 10 })).toHaveLength(2);
        expect(await store.mentions(c, { limit: 10 })).toEqual([]);
      });

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
        const add = await store.changeChannel({
          channelId: id,
          expected: [
            { userId: a, role: 'owner' },
            { userId: b, role: 'member' },
          ],
          add: [{ userId: c, role: 'member' }],
          at: at(),
          events: [memberAdded(id, c, [a, b, c])],
        });
        expect(add.status).toBe('applied');
        expect(await recipients(c)).toEqual([a, b, c].sort());
        const remove = await store.changeChannel({
          channelId: id,
          expected: [
            { userId: a, role: 'owner' },
            { userId: b, role: 'member' },
            { userId: c, role: 'member' },
          ],
          remove: [b],
          at: at(),
          events: [memberRemoved(id, b, [a, b, c])],
        });
        expect(remove.status).toBe('applied');
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
  });
}
