import { describe, expect, it } from 'vitest';
import type { ChannelRecord, MemberRecord, ReadCursorMove, Store } from '../ports/store.js';
import { ChannelService, successor } from './channels.js';
import type { EventRouter } from './events.js';
import type { PresenceService } from './presence.js';

const member = (userId: string, role: MemberRecord['role'], joinedAt: string): MemberRecord => ({
  userId,
  role,
  joinedAt,
});

describe('owner succession', () => {
  it('hands the group to the oldest admin before any older member', () => {
    expect(
      successor([
        member('5', 'member', '2026-01-01T00:00:00.000Z'),
        member('9', 'admin', '2026-03-01T00:00:00.000Z'),
        member('7', 'admin', '2026-02-01T00:00:00.000Z'),
      ]),
    ).toBe('7');
  });

  it('hands it to the oldest member when there is no admin, the lower id first on a tie', () => {
    expect(
      successor([
        member('10', 'member', '2026-01-01T00:00:00.000Z'),
        member('9', 'member', '2026-01-01T00:00:00.000Z'),
        member('3', 'member', '2026-02-01T00:00:00.000Z'),
      ]),
    ).toBe('9');
  });

  it('has nobody to hand an empty group to', () => {
    expect(successor([])).toBeUndefined();
  });
});

/** One DM whose store answers as the ChannelStore contract says, a turn later, like a store on another thread. */
function dmStore(messageIds: readonly string[]) {
  const channel: ChannelRecord = {
    id: 'dm',
    kind: 'dm',
    createdAt: '2026-01-01T00:00:00.000Z',
    members: [member('1', 'member', '2026-01-01T00:00:00.000Z'), member('2', 'member', '2026-01-01T00:00:00.000Z')],
  };
  const later = <T>(value: () => T) => new Promise<T>((resolve) => setImmediate(() => resolve(value())));
  const store = {
    getChannel: () => later(() => structuredClone(channel)),
    getMessage: (_: string, id: string) => later(() => (messageIds.includes(id) ? { id } : undefined)),
    moveReadCursor: (move: ReadCursorMove) =>
      later(() => {
        const reader = channel.members.find((m) => m.userId === move.userId);
        const cursor = reader?.lastReadMessageId;
        if (reader === undefined || (cursor !== undefined && BigInt(cursor) >= BigInt(move.to))) {
          return { status: 'stale' as const };
        }
        reader.lastReadMessageId = move.to;
        return { status: 'applied' as const, entries: [] };
      }),
  } as Partial<Store> as Store;
  return { store, channel };
}

describe('read cursors', () => {
  it('takes every one of many reads sent at once, oldest first, and ends at the newest', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => String(100 + i));
    const { store, channel } = dmStore(ids);
    const events = { publish: async () => undefined } as Partial<EventRouter> as EventRouter;
    const service = new ChannelService(
      store,
      events,
      {} as PresenceService,
      { next: () => '1', nodeId: 1 },
      { now: () => 0 },
    );
    await Promise.all(ids.map((id) => service.markRead('1', 'dm', id)));
    expect(channel.members.find((m) => m.userId === '1')?.lastReadMessageId).toBe('119');
  });
});
