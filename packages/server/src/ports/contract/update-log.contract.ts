/**
 * The LogStore (update log) contract (ports/store.ts), on a store that also holds the users, channels and messages it logs.
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore, ChannelStore, LogStore, MessageStore } from '../store.js';
import { at, createGroup, createUser, newMessage, type PortHarness } from './suite.js';

export function describeLogStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<LogStore & AccountStore & ChannelStore & MessageStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`LogStore (update log) contract: ${name}`, () => {
    let harness: PortHarness<LogStore & AccountStore & ChannelStore & MessageStore>;
    let store: LogStore & AccountStore & ChannelStore & MessageStore;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const user = (username: string) => createUser(store, username);
    const group = (ownerId: string, memberIds: string[]) => createGroup(store, ownerId, memberIds);
    const message = newMessage;

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
        // Asked before the trim too: a store that remembers the floor must not keep the old one.
        expect(await store.logBounds(a)).toEqual({ head: 2, floor: 0 });
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
