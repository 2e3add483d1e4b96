/**
 * An account's data export: profile, devices, friends, blocks, and every message the user sent,
 * as one JSON document produced piece by piece. Messages are read a page at a time (each page
 * bounded by count and text bytes), so an export of any size holds one page in memory.
 */
import { limits } from '@parley/protocol';
import type { AccountStore, BlockStore, FriendStore, MessageStore } from '../ports/store.js';
import { publicUser } from './accounts.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';

const PAGE_MESSAGES = 500;

export class ExportService {
  constructor(
    private readonly store: AccountStore & FriendStore & BlockStore & MessageStore,
    private readonly clock: Clock,
  ) {}

  /** The export as JSON text chunks, in order (read before the first chunk: the account exists). */
  async export(userId: string): Promise<AsyncIterable<string>> {
    const record = await storeCall(this.store.getUser(userId));
    if (record === undefined) fail('not_found', 'no such user');
    const [friendIds, devices, blocks] = await Promise.all([
      storeCall(this.store.listFriendIds(userId)),
      storeCall(this.store.listDevices(userId)),
      storeCall(this.store.listBlocks(userId)),
    ]);
    const friends = await storeCall(this.store.getUsers(friendIds));
    const head = {
      exportedAt: isoNow(this.clock),
      user: { ...publicUser(record), role: record.role, createdAt: record.createdAt },
      devices,
      friends,
      blocks,
    };
    const store = this.store;
    async function* chunks(): AsyncGenerator<string> {
      const json = JSON.stringify(head);
      yield `${json.slice(0, -1)},"messages":[`;
      let after = '0';
      let first = true;
      for (;;) {
        const page = await storeCall(store.listMessagesBySender(userId, after, PAGE_MESSAGES, limits.pageTextBytes));
        if (page.length === 0) break;
        yield (first ? '' : ',') + page.map((m) => JSON.stringify(m)).join(',');
        first = false;
        after = page.at(-1)!.id;
      }
      yield ']}\n';
    }
    return chunks();
  }
}
