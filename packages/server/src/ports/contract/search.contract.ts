/**
 * The SearchStore contract (ports/search.ts) and the search and mention fields that messages and
 * channel views carry, on a store that also holds the users, channels and messages they need.
 * Messages are appended as the domain builds them (tokens by domain/search-text.ts, mention names
 * by domain/mentions.ts) and queries are parsed by the same tokenizer, so these cases pin what a
 * user finds end to end. Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memberRemoved, readUpdated } from '../../domain/log-appends.js';
import { mentionCandidates } from '../../domain/mentions.js';
import { indexTokens, parseSearchQuery } from '../../domain/search-text.js';
import type { SearchStore } from '../search.js';
import type { AccountStore, ChannelStore, MessageStore } from '../store.js';
import { dmOf } from './fixtures.js';
import { at, createGroup, createUser, newMessage, nextId, type PortHarness } from './suite.js';

type Ports = SearchStore & MessageStore & ChannelStore & AccountStore;

export function describeSearchStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<Ports>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`SearchStore contract: ${name}`, () => {
    let harness: PortHarness<Ports>;
    let store: Ports;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());

    /** Appends a message as MessageService.send builds it; returns its id. */
    async function send(channelId: string, senderId: string, text: string): Promise<string> {
      const [result] = await store.appendMessages([
        {
          ...newMessage(channelId, senderId, text),
          searchTokens: indexTokens(text),
          mentionNames: mentionCandidates(text),
        },
      ]);
      if (result?.status !== 'created') throw new Error(`append failed: ${result?.status}`);
      return result.message.id;
    }

    /** The ids of the messages `userId` finds with `q`. */
    async function find(
      userId: string,
      q: string,
      options: { channelId?: string; before?: string; limit?: number; maxTextBytes?: number } = {},
    ): Promise<string[]> {
      const terms = parseSearchQuery(q);
      if (terms === undefined) throw new Error(`no terms in ${q}`);
      const found = await store.searchMessages(userId, { terms, limit: 50, ...options });
      return found.map((m) => m.id);
    }

    /** A group of `owner` and `members`, with one message of `owner` per text; the message ids. */
    async function groupWith(owner: string, members: string[], texts: string[]) {
      const id = await createGroup(store, owner, members);
      const ids: string[] = [];
      for (const text of texts) ids.push(await send(id, owner, text));
      return { id, ids };
    }

    describe('matching', () => {
      it('finds Korean words inside longer runs, two-character words and single characters', async () => {
        const a = await createUser(store, 'ko1');
        const { ids } = await groupWith(
          a,
          [],
          ['오늘 회의는 3시에 서울역에서 해요', '회의록 정리', '국회의사당', '의회'],
        );
        const [meeting, minutes, assembly, council] = ids as [string, string, string, string];
        expect(await find(a, '회의')).toEqual([assembly, minutes, meeting]);
        expect(await find(a, '서울')).toEqual([meeting]);
        expect(await find(a, '서울역')).toEqual([meeting]);
        expect(await find(a, '역에서')).toEqual([meeting]);
        expect(await find(a, '의회')).toEqual([council]);
        expect(await find(a, '록')).toEqual([minutes]);
        expect(await find(a, '회의실')).toEqual([]);
      });

      it('finds Japanese and Chinese words in text without spaces', async () => {
        const a = await createUser(store, 'ja1');
        const { ids } = await groupWith(a, [], ['東京タワーに行きました', '我们明天在北京开会']);
        const [tokyo, beijing] = ids as [string, string];
        expect(await find(a, '東京')).toEqual([tokyo]);
        expect(await find(a, 'タワー')).toEqual([tokyo]);
        expect(await find(a, '行き')).toEqual([tokyo]);
        expect(await find(a, '北京')).toEqual([beijing]);
        expect(await find(a, '开会')).toEqual([beijing]);
        expect(await find(a, '明天在')).toEqual([beijing]);
        expect(await find(a, '大阪')).toEqual([]);
      });

      it('matches Latin words by prefix, ignoring case and diacritics, and every word (AND)', async () => {
        const a = await createUser(store, 'en1');
        const { ids } = await groupWith(a, [], ['The Café opens at nine', 'cafeteria closed', 'ÜBER naïve']);
        const [cafe, cafeteria, uber] = ids as [string, string, string];
        expect(await find(a, 'cafe')).toEqual([cafeteria, cafe]);
        expect(await find(a, 'CAFÉ')).toEqual([cafeteria, cafe]);
        expect(await find(a, 'café opens')).toEqual([cafe]);
        expect(await find(a, 'opens ten')).toEqual([]);
        expect(await find(a, 'pens')).toEqual([]);
        expect(await find(a, 'uber naive')).toEqual([uber]);
      });

      it('finds emoji and mixed-script messages', async () => {
        const a = await createUser(store, 'mx1');
        const { ids } = await groupWith(a, [], ['party time 🎉🎉', 'Parley회의 notes 東京', '👍🏽 ok']);
        const [party, mixed, thumbs] = ids as [string, string, string];
        expect(await find(a, '🎉')).toEqual([party]);
        expect(await find(a, '😀')).toEqual([]);
        expect(await find(a, '👍')).toEqual([thumbs]);
        expect(await find(a, 'parley 회의')).toEqual([mixed]);
        expect(await find(a, '회의 東京 note')).toEqual([mixed]);
      });

      it('treats query syntax of the engines as plain words', async () => {
        const a = await createUser(store, 'sx1');
        const { ids } = await groupWith(a, [], ['near and or not "quoted" * stars']);
        expect(await find(a, '"near" AND or* NOT(quoted)')).toEqual(ids);
        expect(await find(a, "O'Reilly")).toEqual([]);
      });

      it('indexes a long text whole', async () => {
        const a = await createUser(store, 'lt1');
        const text = `${'가나다라마바사 '.repeat(400)}끝말잇기 tail-word`;
        const { ids } = await groupWith(a, [], [text]);
        expect(await find(a, '끝말')).toEqual(ids);
        expect(await find(a, 'tail word')).toEqual(ids);
      });
    });

    describe('who finds what', () => {
      it('finds only messages of channels the user is a member of now', async () => {
        const [a, b, c] = [
          await createUser(store, 'pa1'),
          await createUser(store, 'pb1'),
          await createUser(store, 'pc1'),
        ];
        const left = await groupWith(a, [b], ['회의 in the old group']);
        const never = await groupWith(c, [], ['회의 elsewhere']);
        const { channel: dm } = await store.getOrCreateDm(...dmOf(nextId(), a, b, at()));
        const inDm = await send(dm.id, a, '회의 in a DM');
        expect(await find(b, '회의')).toEqual([inDm, left.ids[0]]);
        const removed = await store.changeChannel({
          channelId: left.id,
          expected: [
            { userId: a, role: 'owner' },
            { userId: b, role: 'member' },
          ],
          remove: [b],
          at: at(1),
          events: [memberRemoved(left.id, b, [a, b])],
        });
        expect(removed.status).toBe('applied');
        expect(await find(b, '회의')).toEqual([inDm]);
        expect(await find(a, '회의')).toEqual([inDm, left.ids[0]]);
        expect(await find(c, '회의')).toEqual(never.ids);
      });

      it('narrows to one channel, and pages newest first with before', async () => {
        const a = await createUser(store, 'pg1');
        const one = await groupWith(a, [], ['서울 1', '서울 2', '서울 3', '서울 4', '서울 5']);
        const other = await groupWith(a, [], ['서울 elsewhere']);
        const newestFirst = [...one.ids].reverse();
        expect(await find(a, '서울', { channelId: one.id })).toEqual(newestFirst);
        expect(await find(a, '서울')).toEqual([...other.ids, ...newestFirst]);
        expect(await find(a, '서울', { channelId: one.id, limit: 2 })).toEqual(newestFirst.slice(0, 2));
        expect(await find(a, '서울', { channelId: one.id, limit: 2, before: newestFirst[1] })).toEqual(
          newestFirst.slice(2, 4),
        );
        expect(await find(a, '서울', { channelId: one.id, limit: 2, before: newestFirst[4] })).toEqual([]);
      });

      it('ends a page at its text byte budget, with at least one message', async () => {
        const a = await createUser(store, 'by1');
        const { ids } = await groupWith(a, [], ['word one', 'word two', 'word three']);
        expect(await find(a, 'word', { maxTextBytes: 1 })).toEqual([ids[2]]);
        expect(await find(a, 'word', { maxTextBytes: 'word three'.length + 1 })).toEqual([ids[2], ids[1]]);
      });
    });

    describe('mentions', () => {
      it('records the members a message names, in history and in the mentions of each', async () => {
        const [a, b, c] = [
          await createUser(store, 'ma1'),
          await createUser(store, 'mb1'),
          await createUser(store, 'mc1'),
        ];
        const id = await createGroup(store, a, [b]);
        const mentioning = await send(id, a, 'hi @MB1, and @mc1 (not here) and @nobody and @ma1.');
        const plain = await send(id, a, 'no one here, mail mb1@example.com');
        const history = await store.listMessages(id, { limit: 10 });
        expect(history.map((m) => [m.id, m.mentions])).toEqual([
          [mentioning, [b, a]],
          [plain, undefined],
        ]);
        expect((await store.mentions(b, { limit: 10 })).map((m) => m.id)).toEqual([mentioning]);
        // The sender's own message does not count as mentioning them, nor does a non-member's name.
        expect(await store.mentions(a, { limit: 10 })).toEqual([]);
        expect(await store.mentions(c, { limit: 10 })).toEqual([]);
      });

      it('lists mentions newest first, paged with before, only in channels the user is still in', async () => {
        const [a, b] = [await createUser(store, 'ma2'), await createUser(store, 'mb2')];
        const stay = await createGroup(store, a, [b]);
        const leave = await createGroup(store, a, [b]);
        const first = await send(stay, a, '@mb2 one');
        await send(leave, a, '@mb2 in the group b leaves');
        const second = await send(stay, a, '@mb2 two');
        await store.changeChannel({
          channelId: leave,
          expected: [
            { userId: a, role: 'owner' },
            { userId: b, role: 'member' },
          ],
          remove: [b],
          at: at(1),
          events: [memberRemoved(leave, b, [a, b])],
        });
        expect((await store.mentions(b, { limit: 10 })).map((m) => m.id)).toEqual([second, first]);
        expect((await store.mentions(b, { limit: 1 })).map((m) => m.id)).toEqual([second]);
        expect((await store.mentions(b, { limit: 10, before: second })).map((m) => m.id)).toEqual([first]);
      });

      it('counts the unread mentions of each channel in the channel view', async () => {
        const [a, b] = [await createUser(store, 'ma3'), await createUser(store, 'mb3')];
        const id = await createGroup(store, a, [b]);
        const first = await send(id, a, '@mb3 first');
        await send(id, a, 'no mention');
        await send(id, a, '@mb3 again');
        const view = async (userId: string) =>
          (await store.listChannelViews(userId, { limit: 10, textCodePoints: 100 })).find((c) => c.id === id);
        expect((await view(b))?.unreadMentionCount).toBe(2);
        expect((await view(a))?.unreadMentionCount).toBe(0);
        await store.moveReadCursor({
          channelId: id,
          userId: b,
          to: first,
          at: at(2),
          events: [readUpdated(id, b, first, [b])],
        });
        expect((await view(b))?.unreadMentionCount).toBe(1);
      });
    });
  });
}
