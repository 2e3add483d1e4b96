import type { Channel, Message, SyncEvent, User } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { lastEditable } from './message-changes';
import { applyEvent, initialState, withChannelList, withHistory, type EventContext, type State } from './reducer';

const me: User = { id: '1', username: 'me', displayName: 'Me' };
const ctx: EventContext = { viewingLatest: false, removing: new Set() };
const msg = (id: string, senderId = '2', text = `m${id}`): Message => ({
  id,
  channelId: 'c',
  senderId,
  text,
  createdAt: '2026-01-01T00:00:00.000Z',
});
const channel: Channel = {
  id: 'c',
  kind: 'dm',
  members: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  unreadCount: 0,
  unreadMentionCount: 0,
  lastMessage: msg('11', '1'),
};

function start(): State {
  const s = withChannelList(initialState(me, 'online', []), [channel]);
  return withHistory(s, 'c', { messages: [msg('10'), msg('11', '1')], loaded: true, hasOlder: false });
}
const apply = (state: State, events: SyncEvent[]) => events.reduce((s, e) => applyEvent(s, e, ctx).state, state);

describe('edits, deletes and reactions in the state', () => {
  const events: SyncEvent[] = [
    { seq: 1, type: 'reaction.added', channelId: 'c', messageId: '10', emoji: '👍', userId: '1' },
    { seq: 2, type: 'reaction.added', channelId: 'c', messageId: '10', emoji: '👍', userId: '2' },
    { seq: 3, type: 'message.updated', message: { ...msg('11', '1', 'fixed'), editedAt: 't' } },
    { seq: 4, type: 'reaction.removed', channelId: 'c', messageId: '10', emoji: '👍', userId: '2' },
    { seq: 5, type: 'message.deleted', message: { ...msg('11', '1', ''), deletedAt: 't' } },
  ];

  it('replaces edited and deleted messages in history and the channel list, and counts reactions', () => {
    const s = apply(start(), events);
    expect(s.histories.c!.messages).toEqual([
      { ...msg('10'), reactions: [{ emoji: '👍', count: 1, me: true, userIds: ['1'] }] },
      { ...msg('11', '1', ''), deletedAt: 't' },
    ]);
    expect(s.channels.c!.lastMessage).toEqual({ ...msg('11', '1', ''), deletedAt: 't' });
  });

  it('ends in the same state when every event is applied twice', () => {
    const once = apply(start(), events);
    expect(
      apply(
        start(),
        events.flatMap((e) => [e, e]),
      ),
    ).toEqual(once);
    expect(apply(once, events)).toEqual(once);
  });

  it('finds the last message of mine that can be edited', () => {
    expect(lastEditable(start(), 'c')?.id).toBe('11');
    expect(lastEditable(apply(start(), events), 'c')).toBeUndefined();
  });
});
