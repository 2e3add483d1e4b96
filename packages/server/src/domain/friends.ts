import type { Friend, FriendRequest, User } from '@parley/protocol';
import type {
  AccountStore,
  FriendPair,
  FriendPairChange,
  FriendRequestRecord,
  FriendStore,
  LogEntry,
} from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { decideAndWrite, entriesOf, STALE } from './decide.js';
import { fail, storeCall } from './errors.js';
import type { BlockService } from './blocks.js';
import type { EventRouter } from './events.js';
import type { IdGenerator } from './ids.js';
import { friendRequested, friendsAdded, friendsRemoved } from './log-appends.js';
import type { PresenceService } from './presence.js';

/**
 * Friendship. The transitions, written once here: a request to someone who had already asked
 * you makes you friends at once; asking twice gives the first request; friends cannot ask again;
 * only the addressee accepts; either side withdraws or declines.
 */
export class FriendService {
  constructor(
    private readonly store: FriendStore & AccountStore,
    private readonly events: EventRouter,
    private readonly presence: PresenceService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    /** Blocks refuse friend requests between the pair (blocks.ts). */
    private readonly blocks?: Pick<BlockService, 'requireNotBlocked'>,
  ) {}

  async #withUsers(records: readonly FriendRequestRecord[]): Promise<FriendRequest[]> {
    const ids = new Set(records.flatMap((r) => [r.fromUserId, r.toUserId]));
    const users = new Map((await this.store.getUsers([...ids])).map((u) => [u.id, u]));
    const user = (id: string): User => users.get(id) ?? { id, username: 'deleted', displayName: 'Deleted user' };
    return records.map((r) => ({ ...r, fromUser: user(r.fromUserId), toUser: user(r.toUserId) }));
  }

  /** Writes a change decided on `pair`; STALE if the pair changed meanwhile. */
  async #change(
    pair: FriendPair,
    change: Omit<FriendPairChange, 'expected' | 'at'> & { at?: string },
  ): Promise<LogEntry[] | typeof STALE> {
    return entriesOf(
      await storeCall(this.store.changeFriendPair({ at: isoNow(this.clock), ...change, expected: pair })),
    );
  }

  /** Asks `toUserId` to be friends; if they had already asked, the two become friends at once. */
  async request(fromUserId: string, toUserId: string): Promise<{ request: FriendRequest; accepted: boolean }> {
    if (fromUserId === toUserId) fail('invalid_request', 'you cannot befriend yourself');
    const target = await this.store.getUser(toUserId);
    if (target === undefined || target.deletedAt !== undefined) fail('not_found', 'no such user');
    await this.blocks?.requireNotBlocked(fromUserId, toUserId);
    const { record, accepted, entries } = await decideAndWrite(async () => {
      const pair = await storeCall(this.store.friendPair(fromUserId, toUserId));
      if (pair.friends) fail('conflict', 'already friends');
      const reverse = pair.requests.find((r) => r.fromUserId === toUserId);
      if (reverse !== undefined) {
        const written = await this.#change(pair, {
          pair: [fromUserId, toUserId],
          removeRequestIds: [reverse.id],
          friends: true,
          events: friendsAdded(reverse.fromUserId, reverse.toUserId),
        });
        return written === STALE ? STALE : { record: reverse, accepted: true, entries: written };
      }
      const existing = pair.requests.find((r) => r.fromUserId === fromUserId);
      if (existing !== undefined) return { record: existing, accepted: false, entries: [] };
      const request = { id: this.ids.next(), fromUserId, toUserId, createdAt: isoNow(this.clock) };
      const written = await this.#change(pair, {
        pair: [fromUserId, toUserId],
        addRequest: request,
        at: request.createdAt, // the logged request's time is the request's own
        events: [friendRequested(request)],
      });
      return written === STALE ? STALE : { record: request, accepted: false, entries: written };
    });
    await this.events.publish(entries);
    if (accepted) await this.presence.introduce(fromUserId, toUserId);
    const [request] = await this.#withUsers([record]);
    return { request: request!, accepted };
  }

  async requests(userId: string): Promise<{ incoming: FriendRequest[]; outgoing: FriendRequest[] }> {
    const { incoming, outgoing } = await this.store.listFriendRequests(userId);
    return { incoming: await this.#withUsers(incoming), outgoing: await this.#withUsers(outgoing) };
  }

  /** Only the addressee accepts. */
  async accept(userId: string, requestId: string): Promise<Friend> {
    const request = await this.store.getFriendRequest(requestId);
    if (request === undefined || request.toUserId !== userId) fail('not_found', 'no such friend request');
    await this.blocks?.requireNotBlocked(userId, request.fromUserId);
    const entries = await decideAndWrite(async () => {
      const pair = await storeCall(this.store.friendPair(request.fromUserId, userId));
      if (!pair.requests.some((r) => r.id === requestId)) fail('not_found', 'no such friend request');
      return this.#change(pair, {
        pair: [request.fromUserId, userId],
        removeRequestIds: [requestId],
        friends: true,
        events: friendsAdded(request.fromUserId, userId),
      });
    });
    await this.events.publish(entries);
    await this.presence.introduce(request.fromUserId, userId);
    return (await this.#friends(userId, [request.fromUserId]))[0]!;
  }

  /** The sender withdraws, or the addressee declines. */
  async decline(userId: string, requestId: string): Promise<void> {
    const request = await this.store.getFriendRequest(requestId);
    if (request === undefined || (request.fromUserId !== userId && request.toUserId !== userId)) {
      fail('not_found', 'no such friend request');
    }
    await decideAndWrite(async () => {
      const pair = await storeCall(this.store.friendPair(request.fromUserId, request.toUserId));
      if (!pair.requests.some((r) => r.id === requestId)) fail('not_found', 'no such friend request');
      return this.#change(pair, {
        pair: [request.fromUserId, request.toUserId],
        removeRequestIds: [requestId],
        events: [],
      });
    });
  }

  async list(userId: string): Promise<Friend[]> {
    return this.#friends(userId, await this.store.listFriendIds(userId));
  }

  async remove(userId: string, friendId: string): Promise<void> {
    const entries = await decideAndWrite(async () => {
      const pair = await storeCall(this.store.friendPair(userId, friendId));
      if (!pair.friends) fail('not_found', 'not a friend');
      return this.#change(pair, { pair: [userId, friendId], friends: false, events: friendsRemoved(userId, friendId) });
    });
    await this.events.publish(entries);
  }

  /** As `viewerId` sees them: a friend either of them blocked shows presence `unknown` (blocks.ts). */
  async #friends(viewerId: string, ids: readonly string[]): Promise<Friend[]> {
    const [users, presence] = await Promise.all([
      this.store.getUsers(ids),
      this.presence.presenceShownTo(viewerId, ids),
    ]);
    return users
      .map((user) => ({ user, presence: presence.get(user.id) ?? { status: 'offline' as const } }))
      .sort((a, b) => a.user.username.localeCompare(b.user.username));
  }
}
