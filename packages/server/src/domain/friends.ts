import type { Friend, FriendRequest, User } from '@parley/protocol';
import type { FriendRequestRecord, Store } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import type { IdGenerator } from './ids.js';
import type { PresenceService } from './presence.js';

export class FriendService {
  constructor(
    private readonly store: Store,
    private readonly events: EventRouter,
    private readonly presence: PresenceService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async #withUsers(records: readonly FriendRequestRecord[]): Promise<FriendRequest[]> {
    const ids = new Set(records.flatMap((r) => [r.fromUserId, r.toUserId]));
    const users = new Map((await this.store.getUsers([...ids])).map((u) => [u.id, u]));
    const user = (id: string): User => users.get(id) ?? { id, username: 'deleted', displayName: 'Deleted user' };
    return records.map((r) => ({ ...r, fromUser: user(r.fromUserId), toUser: user(r.toUserId) }));
  }

  /** Asks `toUserId` to be friends; if they had already asked, the two become friends at once. */
  async request(fromUserId: string, toUserId: string): Promise<{ request: FriendRequest; accepted: boolean }> {
    if (fromUserId === toUserId) fail('invalid_request', 'you cannot befriend yourself');
    if ((await this.store.getUser(toUserId)) === undefined) fail('not_found', 'no such user');
    const result = await storeCall(
      this.store.requestFriend({ id: this.ids.next(), fromUserId, toUserId, createdAt: isoNow(this.clock) }),
    );
    await this.events.publish(result.entries);
    const [request] = await this.#withUsers([result.request]);
    return { request: request!, accepted: result.accepted };
  }

  async requests(userId: string): Promise<{ incoming: FriendRequest[]; outgoing: FriendRequest[] }> {
    const { incoming, outgoing } = await this.store.listFriendRequests(userId);
    return { incoming: await this.#withUsers(incoming), outgoing: await this.#withUsers(outgoing) };
  }

  async accept(userId: string, requestId: string): Promise<Friend> {
    const { friendId, entries } = await storeCall(
      this.store.acceptFriendRequest(requestId, userId, isoNow(this.clock)),
      'no such friend request',
    );
    await this.events.publish(entries);
    return (await this.#friends([friendId]))[0]!;
  }

  async decline(userId: string, requestId: string): Promise<void> {
    await storeCall(this.store.deleteFriendRequest(requestId, userId), 'no such friend request');
  }

  async list(userId: string): Promise<Friend[]> {
    return this.#friends(await this.store.listFriendIds(userId));
  }

  async remove(userId: string, friendId: string): Promise<void> {
    const entries = await storeCall(this.store.removeFriend(userId, friendId, isoNow(this.clock)), 'not a friend');
    await this.events.publish(entries);
  }

  async #friends(ids: readonly string[]): Promise<Friend[]> {
    const [users, presence] = await Promise.all([this.store.getUsers(ids), this.presence.presenceOf(ids)]);
    return users
      .map((user) => ({ user, presence: presence.get(user.id) ?? { status: 'offline' as const } }))
      .sort((a, b) => a.user.username.localeCompare(b.user.username));
  }
}
