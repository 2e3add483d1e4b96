/**
 * Blocking. A block is one-way (the blocker chose it) and hides both ways:
 * - direct messages and friend requests between the two are refused with the error a missing
 *   user or channel gives (`not_found`), so the blocked user cannot tell a block from an absence
 *   (a DM's message is refused by the store inside its commit, MessageStore.appendMessages, so
 *   no message committed after the block gets through);
 * - presence is hidden both ways (contacts.ts leaves blocked pairs out of each other's contacts);
 * - messages in groups they share are still delivered: the blocker's clients show them behind
 *   a "blocked user" placeholder (the clients know whom they blocked from GET /v1/me/blocks and
 *   the `user.blocked` / `user.unblocked` events, which reach the blocker's own devices only).
 */
import type { Block } from '@parley/protocol';
import type { AccountStore, BlockStore } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import { userBlocked, userUnblocked } from './log-appends.js';

export class BlockService {
  constructor(
    private readonly store: BlockStore & AccountStore,
    private readonly events: EventRouter,
    private readonly clock: Clock,
  ) {}

  async block(blockerId: string, blockedId: string): Promise<void> {
    if (blockerId === blockedId) fail('invalid_request', 'you cannot block yourself');
    const target = await storeCall(this.store.getUser(blockedId));
    if (target === undefined || target.deletedAt !== undefined) fail('not_found', 'no such user');
    await this.#change(blockerId, blockedId, true);
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    await this.#change(blockerId, blockedId, false);
  }

  async #change(blockerId: string, blockedId: string, blocked: boolean): Promise<void> {
    const { entries } = await storeCall(
      this.store.changeBlock({
        blockerId,
        blockedId,
        blocked,
        at: isoNow(this.clock),
        events: [blocked ? userBlocked(blockerId, blockedId) : userUnblocked(blockerId, blockedId)],
      }),
    );
    await this.events.publish(entries);
  }

  async list(blockerId: string): Promise<Block[]> {
    const blocks = await storeCall(this.store.listBlocks(blockerId));
    const users = new Map((await storeCall(this.store.getUsers(blocks.map((b) => b.userId)))).map((u) => [u.id, u]));
    return blocks.map((b) => ({
      user: users.get(b.userId) ?? { id: b.userId, username: 'deleted', displayName: 'Deleted user' },
      createdAt: b.createdAt,
    }));
  }

  /** Refuses (as `not_found`, like a missing user) a DM or friend request between a blocked pair. */
  async requireNotBlocked(a: string, b: string): Promise<void> {
    if (await storeCall(this.store.blockedEitherWay(a, b))) fail('not_found', 'no such user');
  }
}
