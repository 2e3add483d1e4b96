/**
 * Blocking. A block is one-way (the blocker chose it) and hides both ways:
 * - direct messages and friend requests between the two are refused with the error a missing
 *   user or channel gives (`not_found`), so the blocked user cannot tell a block from an absence;
 * - presence is hidden both ways (contacts.ts leaves blocked pairs out of each other's contacts);
 * - messages in groups they share are still delivered: the blocker's clients show them behind
 *   a "blocked user" placeholder (the clients know whom they blocked from GET /v1/me/blocks and
 *   the `user.blocked` / `user.unblocked` events, which reach the blocker's own devices only).
 */
import type { Block } from '@parley/protocol';
import type { AccountStore, BlockStore, ChannelStore } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import { userBlocked, userUnblocked } from './log-appends.js';

/** Channels whose kind and (for DMs) members are remembered: both never change. */
const REMEMBERED_CHANNELS = 100_000;

export class BlockService {
  /** channelId -> the two members of a DM, or null for a group (never changes). */
  readonly #dms = new Map<string, readonly [string, string] | null>();

  constructor(
    private readonly store: BlockStore & AccountStore & ChannelStore,
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

  /**
   * Whether `senderId` may post to the channel as far as blocks go: in a DM, not while either of
   * the two blocked the other; in a group, always. (Membership is the store's check.)
   */
  async mayPost(senderId: string, channelId: string): Promise<boolean> {
    let dm = this.#dms.get(channelId);
    if (dm === undefined) {
      const channel = await storeCall(this.store.getChannel(channelId));
      if (channel === undefined) return true; // the store refuses it as not a member
      const pair = channel.kind === 'dm' && channel.members.length === 2;
      dm = pair ? [channel.members[0]!.userId, channel.members[1]!.userId] : null;
      if (this.#dms.size >= REMEMBERED_CHANNELS) this.#dms.clear();
      this.#dms.set(channelId, dm);
    }
    if (dm === null || !dm.includes(senderId)) return true;
    const other = dm[0] === senderId ? dm[1] : dm[0];
    return !(await storeCall(this.store.blockedEitherWay(senderId, other)));
  }
}
