/**
 * Turns stored log entries into wire events and hands them, committed, to the LivePublisher
 * (domain/live.ts), which routes them to their users' sockets. How they travel is not the
 * domain's business: the gateway's bus codec (gateway/bus-codec.ts) encodes them.
 */
import type { ChannelInfo, ChannelMember, EventBody, Message, SyncEvent, User } from '@parley/protocol';
import type { CreatedMessage, EphemeralFrame, LivePublisher } from './live.js';
import { MessageViews } from './message-views.js';
import type { MessageChangeStore } from '../ports/message-changes.js';
import type {
  AccountStore,
  ChannelRecord,
  ChannelStore,
  LogEntry,
  MessageStore,
  StoredLogEntry,
} from '../ports/store.js';

export interface Logger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export class EventRouter {
  /** Messages as each reader sees them (reactions with `me`, reply previews). */
  readonly views: MessageViews;

  constructor(
    private readonly store: AccountStore &
      ChannelStore &
      MessageStore &
      Pick<MessageChangeStore, 'listReactions' | 'replySources'>,
    private readonly live: LivePublisher,
    private readonly log: Logger,
  ) {
    this.views = new MessageViews(store);
  }

  /** Publishes committed entries. Never throws: the log is durable, clients catch up from it. */
  async publish(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      const events = await this.hydrate(entries);
      await this.live.events(events.map((event, i) => ({ userId: entries[i]!.userId, event })));
    } catch (error) {
      this.log.warn({ err: error }, 'live publish failed; clients will catch up from the log');
    }
  }

  /** The message.created events of a committed batch, in one publish (each message encoded once). */
  async publishMessages(created: readonly CreatedMessage[]): Promise<void> {
    if (created.length === 0) return;
    try {
      await this.live.messages(created);
    } catch (error) {
      this.log.warn({ err: error }, 'live publish failed; clients will catch up from the log');
    }
  }

  /** Ephemeral frames (no seq) to several users. */
  async publishEphemeral(userIds: Iterable<string>, frame: EphemeralFrame): Promise<void> {
    try {
      await this.live.ephemeral(userIds, frame);
    } catch (error) {
      this.log.warn({ err: error }, 'ephemeral publish failed');
    }
  }

  /** Wire events for stored entries, in the same order. Channel snapshots are the current state. */
  async hydrate(entries: readonly (LogEntry | StoredLogEntry)[]): Promise<SyncEvent[]> {
    const channels = new Map<string, Promise<ChannelInfo | undefined>>();
    const channelInfo = (id: string) => {
      let info = channels.get(id);
      if (info === undefined) {
        info = this.store.getChannel(id).then((record) => record && this.channelInfo(record));
        channels.set(id, info);
      }
      return info;
    };
    const userIds = new Set<string>();
    for (const entry of entries) {
      if ((entry.type.startsWith('friend.') || entry.type === 'user.updated') && entry.data) {
        for (const key of ['userId', 'fromUserId', 'toUserId']) if (entry.data[key]) userIds.add(entry.data[key]);
      }
    }
    const users = new Map((await this.store.getUsers([...userIds])).map((u) => [u.id, u]));
    const unknownUser = (id: string): User => users.get(id) ?? { id, username: 'deleted', displayName: 'Deleted user' };

    const events: SyncEvent[] = [];
    const withMessages: { event: SyncEvent & { message: Message }; viewerId: string }[] = [];
    for (const entry of entries) {
      const event = { seq: entry.seq, ...(await this.#body(entry, channelInfo, unknownUser)) } as SyncEvent;
      events.push(event);
      if ('message' in event) withMessages.push({ event, viewerId: entry.userId });
    }
    // Each message as the log's owner reads it: reactions (with `me`) and reply previews, now.
    const views = await this.views.forViewers(
      withMessages.map(({ event, viewerId }) => ({ message: event.message, viewerId })),
    );
    withMessages.forEach(({ event }, i) => (event.message = views[i]!));
    return events;
  }

  async #body(
    entry: LogEntry | StoredLogEntry,
    channelInfo: (id: string) => Promise<ChannelInfo | undefined>,
    user: (id: string) => User,
  ): Promise<EventBody> {
    const data = entry.data ?? {};
    const channelId = entry.channelId ?? '';
    const channel = async (): Promise<ChannelInfo> => {
      const info = await channelInfo(channelId);
      if (info === undefined) return { id: channelId, kind: 'group', members: [], createdAt: entry.createdAt };
      // Someone who has left sees only which channel it was, not what it has become since.
      if (!info.members.some((m) => m.id === entry.userId)) {
        return { id: info.id, kind: info.kind, members: [], createdAt: info.createdAt };
      }
      return info;
    };
    switch (entry.type) {
      case 'message.created':
      case 'message.updated':
      case 'message.deleted': {
        const message =
          'message' in entry && entry.message
            ? entry.message
            : await this.store.getMessage(channelId, entry.messageId!);
        return {
          type: entry.type,
          message: message ?? { id: entry.messageId!, channelId, senderId: '0', text: '', createdAt: entry.createdAt },
        };
      }
      case 'reaction.added':
      case 'reaction.removed':
        return {
          type: entry.type,
          channelId,
          messageId: entry.messageId ?? '',
          emoji: data.emoji ?? '',
          userId: data.userId ?? '',
        };
      case 'read.updated':
        return { type: 'read.updated', channelId, userId: data.userId ?? '', messageId: entry.messageId ?? '' };
      case 'channel.created':
      case 'channel.updated':
        return { type: entry.type, channel: await channel() };
      case 'member.added':
      case 'member.removed':
        return { type: entry.type, channel: await channel(), userId: data.userId ?? '' };
      case 'friend.requested': {
        const from = data.fromUserId ?? '';
        const to = data.toUserId ?? '';
        return {
          type: 'friend.requested',
          request: {
            id: data.requestId ?? '',
            fromUserId: from,
            toUserId: to,
            fromUser: user(from),
            toUser: user(to),
            createdAt: entry.createdAt,
          },
        };
      }
      case 'friend.added':
        return { type: 'friend.added', friend: user(data.userId ?? '') };
      case 'friend.removed':
        return { type: 'friend.removed', userId: data.userId ?? '' };
      case 'channel.settings.updated':
        return { type: 'channel.settings.updated', channelId, muted: data.muted === 'true' };
      case 'user.updated':
        return { type: 'user.updated', user: user(data.userId ?? '') };
      case 'user.blocked':
      case 'user.unblocked':
        return { type: entry.type, userId: data.userId ?? '' };
    }
  }

  /** A channel record with its members' profiles. */
  async channelInfo(record: ChannelRecord): Promise<ChannelInfo> {
    const [info] = await this.channelInfos([record]);
    return info!;
  }

  async channelInfos(records: readonly ChannelRecord[]): Promise<ChannelInfo[]> {
    const ids = new Set<string>();
    for (const record of records) for (const member of record.members) ids.add(member.userId);
    const users = new Map((await this.store.getUsers([...ids])).map((u) => [u.id, u]));
    return records.map((record) => {
      const members: ChannelMember[] = record.members.map((m) => {
        const member: ChannelMember = {
          ...(users.get(m.userId) ?? { id: m.userId, username: 'deleted', displayName: 'Deleted user' }),
          role: m.role,
        };
        // Every member's read position, in DMs and groups ("Seen", "Seen by N" after a reload).
        if (m.lastReadMessageId !== undefined) member.lastReadMessageId = m.lastReadMessageId;
        return member;
      });
      const info: ChannelInfo = { id: record.id, kind: record.kind, members, createdAt: record.createdAt };
      if (record.name !== undefined) info.name = record.name;
      return info;
    });
  }
}
