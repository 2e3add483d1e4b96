import { limits, type Channel, type ChannelInfo, type MemberRole } from '@parley/protocol';
import type { ChannelRecord, Store } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import type { IdGenerator } from './ids.js';
import type { PresenceService } from './presence.js';

const canManage = (role: MemberRole | undefined): boolean => role === 'owner' || role === 'admin';

/**
 * DMs, groups, membership and read cursors. A user who is not a member of a channel gets
 * `not_found` for everything about it, so channel ids leak nothing.
 */
export class ChannelService {
  constructor(
    private readonly store: Store,
    private readonly events: EventRouter,
    private readonly presence: PresenceService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  /** The channel record if `userId` is a member; `not_found` otherwise. */
  async requireMember(userId: string, channelId: string): Promise<{ channel: ChannelRecord; role: MemberRole }> {
    const channel = await this.store.getChannel(channelId);
    const role = channel?.members.find((m) => m.userId === userId)?.role;
    if (channel === undefined || role === undefined) fail('not_found', 'no such channel');
    return { channel, role };
  }

  async get(userId: string, channelId: string): Promise<ChannelInfo> {
    const { channel } = await this.requireMember(userId, channelId);
    return this.#withPresence(await this.events.channelInfo(channel));
  }

  async list(userId: string): Promise<Channel[]> {
    const views = await this.store.listChannelViews(userId);
    const infos = await this.events.channelInfos(views);
    const presence = await this.presence.presenceOf([...new Set(infos.flatMap((c) => c.members.map((m) => m.id)))]);
    return views.map((view, i) => {
      const channel: Channel = { ...infos[i]!, unreadCount: view.unreadCount };
      for (const member of channel.members) {
        const p = presence.get(member.id);
        if (p !== undefined) member.presence = p;
      }
      if (view.lastMessage !== undefined) channel.lastMessage = view.lastMessage;
      if (view.lastReadMessageId !== undefined) channel.lastReadMessageId = view.lastReadMessageId;
      return channel;
    });
  }

  async #withPresence(info: ChannelInfo): Promise<ChannelInfo> {
    const presence = await this.presence.presenceOf(info.members.map((m) => m.id));
    for (const member of info.members) {
      const p = presence.get(member.id);
      if (p !== undefined) member.presence = p;
    }
    return info;
  }

  async openDm(userId: string, otherUserId: string): Promise<ChannelInfo> {
    if (otherUserId === userId) fail('invalid_request', 'a direct message needs another user');
    if ((await this.store.getUser(otherUserId)) === undefined) fail('not_found', 'no such user');
    const { channel, entries } = await this.store.getOrCreateDm({
      id: this.ids.next(),
      userIds: [userId, otherUserId],
      createdAt: isoNow(this.clock),
    });
    await this.events.publish(entries);
    return this.#withPresence(await this.events.channelInfo(channel));
  }

  async createGroup(ownerId: string, name: string, memberIds: readonly string[]): Promise<ChannelInfo> {
    const unique = [...new Set(memberIds)].filter((id) => id !== ownerId);
    if (unique.length + 1 > limits.maxGroupMembers) {
      fail('group_full', `a group holds at most ${limits.maxGroupMembers} members`);
    }
    const found = new Set((await this.store.getUsers(unique)).map((u) => u.id));
    const missing = unique.find((id) => !found.has(id));
    if (missing !== undefined) fail('not_found', `no such user: ${missing}`);
    const { channel, entries } = await storeCall(
      this.store.createGroup({
        id: this.ids.next(),
        name,
        ownerId,
        memberIds: unique,
        maxMembers: limits.maxGroupMembers,
        createdAt: isoNow(this.clock),
      }),
    );
    await this.events.publish(entries);
    return this.#withPresence(await this.events.channelInfo(channel));
  }

  async addMember(actorId: string, channelId: string, userId: string): Promise<ChannelInfo> {
    const { channel, role } = await this.requireMember(actorId, channelId);
    if (channel.kind !== 'group') fail('forbidden', 'a direct message has exactly two members');
    if (!canManage(role)) fail('forbidden', 'only the owner or an admin can add members');
    if ((await this.store.getUser(userId)) === undefined) fail('not_found', 'no such user');
    const entries = await storeCall(
      this.store.addMember(channelId, userId, 'member', limits.maxGroupMembers, isoNow(this.clock)),
    );
    await this.events.publish(entries);
    return this.get(actorId, channelId);
  }

  /** Removing oneself is leaving; removing others needs owner or admin (only the owner removes admins). */
  async removeMember(actorId: string, channelId: string, userId: string): Promise<void> {
    const { channel, role } = await this.requireMember(actorId, channelId);
    if (channel.kind !== 'group') fail('forbidden', 'nobody can leave or be removed from a direct message');
    if (actorId !== userId) {
      const targetRole = channel.members.find((m) => m.userId === userId)?.role;
      if (targetRole === undefined) fail('not_found', 'that user is not a member');
      if (!canManage(role)) fail('forbidden', 'only the owner or an admin can remove members');
      if (targetRole !== 'member' && role !== 'owner') fail('forbidden', 'only the owner can remove an admin');
    }
    const entries = await storeCall(this.store.removeMember(channelId, userId, isoNow(this.clock)), 'not a member');
    await this.events.publish(entries);
  }

  async setRole(actorId: string, channelId: string, userId: string, role: 'admin' | 'member'): Promise<ChannelInfo> {
    const { channel, role: actorRole } = await this.requireMember(actorId, channelId);
    if (channel.kind !== 'group' || actorRole !== 'owner') fail('forbidden', 'only the owner can change roles');
    if (userId === actorId) fail('invalid_request', 'the owner cannot change their own role');
    const entries = await storeCall(this.store.setRole(channelId, userId, role, isoNow(this.clock)), 'not a member');
    await this.events.publish(entries);
    return this.get(actorId, channelId);
  }

  async rename(actorId: string, channelId: string, name: string): Promise<ChannelInfo> {
    const { channel, role } = await this.requireMember(actorId, channelId);
    if (channel.kind !== 'group' || !canManage(role)) fail('forbidden', 'only the owner or an admin can rename');
    const entries = await storeCall(this.store.renameGroup(channelId, name, isoNow(this.clock)));
    await this.events.publish(entries);
    return this.get(actorId, channelId);
  }

  /** Moves the read cursor; the user's devices and, in a DM, the other member learn it. */
  async markRead(userId: string, channelId: string, messageId: string): Promise<void> {
    const { channel } = await this.requireMember(userId, channelId);
    if ((await this.store.getMessage(channelId, messageId)) === undefined) fail('not_found', 'no such message');
    const notify = channel.kind === 'dm' ? channel.members.map((m) => m.userId) : [userId];
    const entries = await this.store.markRead(channelId, userId, messageId, notify, isoNow(this.clock));
    await this.events.publish(entries);
  }
}
