import { limits, type Channel, type ChannelInfo, type ChannelPage, type MemberRole } from '@parley/protocol';
import type {
  AccountStore,
  ChannelChange,
  ChannelRecord,
  ChannelStore,
  LogEntry,
  MemberRecord,
  MessageStore,
  NewMember,
} from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { decideAndWrite, entriesOf, STALE } from './decide.js';
import { fail, storeCall } from './errors.js';
import type { BlockService } from './blocks.js';
import type { EventRouter } from './events.js';
import type { IdGenerator } from './ids.js';
import { channelCreated, channelUpdated, memberAdded, memberRemoved, readUpdated } from './log-appends.js';
import { messagePreview } from './message-preview.js';
import type { PresenceService } from './presence.js';
import { ReadReceipts } from './read-receipts.js';

const canManage = (role: MemberRole | undefined): boolean => role === 'owner' || role === 'admin';

/** A group holds at most limits.maxGroupMembers members, its owner included. */
function requireGroupSize(members: number): void {
  if (members > limits.maxGroupMembers) fail('group_full', `a group holds at most ${limits.maxGroupMembers} members`);
}

/**
 * DMs, groups, membership and read cursors. A user who is not a member of a channel gets
 * `not_found` for everything about it, so channel ids leak nothing.
 */
export class ChannelService {
  readonly #readReceipts = new ReadReceipts((userIds, frame) => this.events.publishEphemeral(userIds, frame));

  constructor(
    private readonly store: ChannelStore & AccountStore & MessageStore,
    private readonly events: EventRouter,
    private readonly presence: PresenceService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    /** Blocks refuse DMs between the pair (blocks.ts). */
    private readonly blocks?: Pick<BlockService, 'requireNotBlocked'>,
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
    return this.#withPresence(await this.events.channelInfo(channel), userId);
  }

  /**
   * One page of the user's channels, most recent activity first. A page holds at most
   * limits.maxChannelsLimit views and each view's lastMessage at most a preview of its text, so
   * the reply is bounded however many channels the user is in and whatever their messages.
   */
  async list(userId: string, page: { limit: number; before?: string }): Promise<ChannelPage> {
    // One code point past the preview tells whether the text goes on (see messagePreview).
    const found = await this.store.listChannelViews(userId, {
      ...page,
      limit: page.limit + 1,
      textCodePoints: limits.previewCodePoints + 1,
    });
    const hasMore = found.length > page.limit;
    const views = found.slice(0, page.limit);
    const infos = await this.events.channelInfos(views);
    const presence = await this.presence.presenceOf([...new Set(infos.flatMap((c) => c.members.map((m) => m.id)))]);
    const channels = views.map((view, i) => {
      const channel: Channel = {
        ...infos[i]!,
        unreadCount: view.unreadCount,
        unreadMentionCount: view.unreadMentionCount,
      };
      for (const member of channel.members) {
        const p = presence.get(member.id);
        if (p !== undefined) member.presence = p;
      }
      if (view.lastMessage !== undefined) channel.lastMessage = messagePreview(view.lastMessage);
      if (view.lastReadMessageId !== undefined) channel.lastReadMessageId = view.lastReadMessageId;
      if (view.muted === true) channel.muted = true;
      return channel;
    });
    const last = views.at(-1);
    // The next page starts below the last view's activity (see ChannelStore.listChannelViews).
    return hasMore && last !== undefined
      ? { channels, hasMore, nextBefore: last.lastMessage?.id ?? last.id }
      : { channels, hasMore: false };
  }

  /** Members' presence as `viewerId` may see it (a blocked pair sees `unknown`: blocks.ts). */
  async #withPresence(info: ChannelInfo, viewerId: string): Promise<ChannelInfo> {
    const presence = await this.presence.presenceShownTo(
      viewerId,
      info.members.map((m) => m.id),
    );
    for (const member of info.members) {
      const p = presence.get(member.id);
      if (p !== undefined) member.presence = p;
    }
    return info;
  }

  async openDm(userId: string, otherUserId: string): Promise<ChannelInfo> {
    if (otherUserId === userId) fail('invalid_request', 'a direct message needs another user');
    const other = await this.store.getUser(otherUserId);
    if (other === undefined || other.deletedAt !== undefined) fail('not_found', 'no such user');
    await this.blocks?.requireNotBlocked(userId, otherUserId);
    const id = this.ids.next();
    const { channel, entries } = await storeCall(
      this.store.getOrCreateDm(
        {
          id,
          members: [
            { userId, role: 'member' },
            { userId: otherUserId, role: 'member' },
          ],
          createdAt: isoNow(this.clock),
        },
        [channelCreated(id, [userId, otherUserId])],
      ),
    );
    await this.events.publish(entries);
    if (entries.length > 0) await this.presence.introduce(userId, otherUserId);
    return this.#withPresence(await this.events.channelInfo(channel), userId);
  }

  /** The creator owns the group; the others (deduplicated) are members; at most maxGroupMembers in all. */
  async createGroup(ownerId: string, name: string, memberIds: readonly string[]): Promise<ChannelInfo> {
    const others = [...new Set(memberIds)].filter((id) => id !== ownerId);
    requireGroupSize(others.length + 1);
    const found = new Set((await this.store.getUsers(others)).map((u) => u.id));
    const missing = others.find((id) => !found.has(id));
    if (missing !== undefined) fail('not_found', `no such user: ${missing}`);
    const id = this.ids.next();
    const members: NewMember[] = [
      { userId: ownerId, role: 'owner' },
      ...others.map((userId) => ({ userId, role: 'member' as const })),
    ];
    const { channel, entries } = await storeCall(
      this.store.createGroup({ id, name, members, createdAt: isoNow(this.clock) }, [
        channelCreated(
          id,
          members.map((m) => m.userId),
        ),
      ]),
    );
    await this.events.publish(entries);
    return this.#withPresence(await this.events.channelInfo(channel), ownerId);
  }

  /** Writes a change decided on `channel`'s members; STALE if they changed meanwhile. */
  async #change(
    channel: ChannelRecord,
    change: Omit<ChannelChange, 'channelId' | 'expected' | 'at'>,
  ): Promise<LogEntry[] | typeof STALE> {
    const expected = channel.members.map(({ userId, role }) => ({ userId, role }));
    return entriesOf(
      await storeCall(this.store.changeChannel({ ...change, channelId: channel.id, expected, at: isoNow(this.clock) })),
    );
  }

  async addMember(actorId: string, channelId: string, userId: string): Promise<ChannelInfo> {
    const entries = await decideAndWrite(async () => {
      const { channel, role } = await this.requireMember(actorId, channelId);
      if (channel.kind !== 'group') fail('forbidden', 'a direct message has exactly two members');
      if (!canManage(role)) fail('forbidden', 'only the owner or an admin can add members');
      if ((await this.store.getUser(userId)) === undefined) fail('not_found', 'no such user');
      const memberIds = channel.members.map((m) => m.userId);
      if (memberIds.includes(userId)) fail('conflict', 'already a member');
      requireGroupSize(memberIds.length + 1);
      return this.#change(channel, {
        add: [{ userId, role: 'member' }],
        events: [memberAdded(channelId, userId, [...memberIds, userId])],
      });
    });
    await this.events.publish(entries);
    return this.get(actorId, channelId);
  }

  /**
   * Removing oneself is leaving; removing others needs owner or admin (only the owner removes
   * admins). When the owner goes, the oldest admin, else the oldest member, owns the group.
   */
  async removeMember(actorId: string, channelId: string, userId: string): Promise<void> {
    const entries = await decideAndWrite(async () => {
      const { channel, role } = await this.requireMember(actorId, channelId);
      if (channel.kind !== 'group') fail('forbidden', 'nobody can leave or be removed from a direct message');
      const targetRole = channel.members.find((m) => m.userId === userId)?.role;
      if (targetRole === undefined) fail('not_found', 'that user is not a member');
      if (actorId !== userId) {
        if (!canManage(role)) fail('forbidden', 'only the owner or an admin can remove members');
        if (targetRole !== 'member' && role !== 'owner') fail('forbidden', 'only the owner can remove an admin');
      }
      const heir = targetRole === 'owner' ? successor(channel.members.filter((m) => m.userId !== userId)) : undefined;
      return this.#change(channel, {
        remove: [userId],
        ...(heir === undefined ? {} : { roles: [{ userId: heir, role: 'owner' as const }] }),
        events: [
          memberRemoved(
            channelId,
            userId,
            channel.members.map((m) => m.userId),
          ),
        ],
      });
    });
    await this.events.publish(entries);
  }

  async setRole(actorId: string, channelId: string, userId: string, role: 'admin' | 'member'): Promise<ChannelInfo> {
    const entries = await decideAndWrite(async () => {
      const { channel, role: actorRole } = await this.requireMember(actorId, channelId);
      if (channel.kind !== 'group' || actorRole !== 'owner') fail('forbidden', 'only the owner can change roles');
      if (userId === actorId) fail('invalid_request', 'the owner cannot change their own role');
      if (!channel.members.some((m) => m.userId === userId)) fail('not_found', 'not a member');
      return this.#change(channel, {
        roles: [{ userId, role }],
        events: [
          channelUpdated(
            channelId,
            channel.members.map((m) => m.userId),
          ),
        ],
      });
    });
    await this.events.publish(entries);
    return this.get(actorId, channelId);
  }

  async rename(actorId: string, channelId: string, name: string): Promise<ChannelInfo> {
    const entries = await decideAndWrite(async () => {
      const { channel, role } = await this.requireMember(actorId, channelId);
      if (channel.kind !== 'group' || !canManage(role)) fail('forbidden', 'only the owner or an admin can rename');
      return this.#change(channel, {
        name,
        events: [
          channelUpdated(
            channelId,
            channel.members.map((m) => m.userId),
          ),
        ],
      });
    });
    await this.events.publish(entries);
    return this.get(actorId, channelId);
  }

  /**
   * Moves the read cursor forward (never back). The reader's devices learn it from the log, and
   * so does the other member of a DM; the other members of a group get an ephemeral `read`
   * frame (read-receipts.ts), which keeps a read in a group of 100 at one bus publish.
   */
  async markRead(userId: string, channelId: string, messageId: string): Promise<void> {
    const { channel, entries } = await decideAndWrite(async () => {
      const { channel } = await this.requireMember(userId, channelId);
      if ((await this.store.getMessage(channelId, messageId)) === undefined) fail('not_found', 'no such message');
      const cursor = channel.members.find((m) => m.userId === userId)?.lastReadMessageId;
      if (cursor !== undefined && BigInt(cursor) >= BigInt(messageId)) return { channel, entries: undefined };
      const to = channel.kind === 'dm' ? channel.members.map((m) => m.userId) : [userId];
      const written = entriesOf(
        await storeCall(
          this.store.moveReadCursor({
            channelId,
            userId,
            to: messageId,
            at: isoNow(this.clock),
            events: [readUpdated(channelId, userId, messageId, to)],
          }),
        ),
      );
      return written === STALE ? STALE : { channel, entries: written };
    });
    if (entries === undefined) return; // not a move forward
    await this.events.publish(entries);
    if (channel.kind === 'group') {
      const others = channel.members.map((m) => m.userId).filter((id) => id !== userId);
      this.#readReceipts.share(channelId, userId, messageId, others);
    }
  }
}

/** Who owns a group after its owner: the oldest admin, else the oldest member (ties: lower id). */
export function successor(remaining: readonly MemberRecord[]): string | undefined {
  const older = (a: MemberRecord, b: MemberRecord) =>
    a.joinedAt === b.joinedAt ? (BigInt(a.userId) < BigInt(b.userId) ? -1 : 1) : a.joinedAt < b.joinedAt ? -1 : 1;
  const admins = remaining.filter((m) => m.role === 'admin');
  return [...(admins.length > 0 ? admins : remaining)].sort(older)[0]?.userId;
}
