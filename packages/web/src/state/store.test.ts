import type { Channel, EventBody, Message, SyncEvent, User } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import type { Backend, BackendEvents } from './backend';
import { ChatStore, channelTitle, mergeMessages, order } from './store';

const me: User = { id: '1', username: 'me', displayName: 'Me' };
const bob: User = { id: '2', username: 'bob', displayName: 'Bob' };
const m = (id: string, channelId: string, senderId: string, text = 't'): Message => ({
  id,
  channelId,
  senderId,
  text,
  createdAt: new Date(Date.UTC(2026, 0, 1) + Number(id) * 1000).toISOString(),
});
const dm: Channel = {
  id: 'c1',
  kind: 'dm',
  members: [
    { ...me, role: 'member' },
    { ...bob, role: 'member' },
  ],
  createdAt: '2026-01-01T00:00:00Z',
  unreadCount: 0,
  unreadMentionCount: 0,
  lastMessage: m('1299', 'c1', '2'),
};
const group: Channel = { ...dm, id: 'c2', kind: 'group', name: 'Team', lastMessage: m('5000', 'c2', '2') };

function fakeBackend(pages: Record<string, Message[]>) {
  const listeners = new Map<string, Set<(v: never) => void>>();
  const calls: string[] = [];
  const deferred: { resolve: () => void }[] = [];
  let hold = false;
  const backend = {
    userId: me.id,
    api: {
      channels: async () => [dm, group],
      friends: async () => [],
      friendRequests: async () => ({ incoming: [], outgoing: [] }),
      messages: async (channelId: string, q: { before?: string; around?: string }) => {
        calls.push(`${channelId}:${q.before ? `before ${q.before}` : q.around ? `around ${q.around}` : 'latest'}`);
        if (hold) await new Promise<void>((resolve) => deferred.push({ resolve }));
        const all = pages[channelId] ?? [];
        if (q.before) return all.filter((x) => Number(x.id) < Number(q.before)).slice(-50);
        if (q.around) return all.filter((x) => Math.abs(Number(x.id) - Number(q.around)) <= 25);
        return all.slice(-50);
      },
      async historyPage(channelId: string, q: { before?: string }) {
        const messages = await this.messages(channelId, q);
        const all = pages[channelId] ?? [];
        return { messages, hasMore: messages.length > 0 && all[0]!.id !== messages[0]!.id };
      },
      user: async (id: string) => ({ id, username: `u${id}`, displayName: `U${id}` }),
    },
    on(type: string, l: (v: never) => void) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type)!.add(l);
      return () => listeners.get(type)!.delete(l);
    },
    connection: () => 'online' as const,
    start() {},
    reconnectNow() {},
    send() {},
    retry() {},
    discard() {},
    outbox: () => [],
    markRead: (channelId: string, messageId: string) => calls.push(`read ${channelId} ${messageId}`),
    typing() {},
    close: async () => {},
  } as unknown as Backend;
  const emit = <K extends keyof BackendEvents>(type: K, value: BackendEvents[K]) => {
    for (const l of listeners.get(type) ?? []) (l as (v: BackendEvents[K]) => void)(value);
  };
  return {
    backend,
    emit,
    calls,
    holdRequests(on: boolean) {
      hold = on;
    },
    release() {
      for (const d of deferred.splice(0)) d.resolve();
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const ev = (e: EventBody, seq = 1): SyncEvent => ({ ...e, seq });

describe('ChatStore', () => {
  it('loads channels ordered by recent activity', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    expect(store.state.channelOrder).toEqual(['c2', 'c1']);
    f.emit('event', ev({ type: 'message.created', message: m('6000', 'c1', '2') }));
    expect(store.state.channelOrder).toEqual(['c1', 'c2']);
    expect(channelTitle(store.state.channels.c1!, me.id)).toBe('Bob');
  });

  it('counts unread messages unless the channel is on screen at the bottom', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    f.emit('event', ev({ type: 'message.created', message: m('6000', 'c1', '2') }));
    expect(store.state.channels.c1!.unreadCount).toBe(1);
    store.setActive('c1', true);
    f.emit('event', ev({ type: 'message.created', message: m('6001', 'c1', '2') }));
    expect(store.state.channels.c1!.unreadCount).toBe(1);
    store.markRead('c1', '6001');
    expect(store.state.channels.c1!.unreadCount).toBe(0);
    expect(f.calls).toContain('read c1 6001');
    // The peer's cursor is kept for "Seen".
    f.emit('event', ev({ type: 'read.updated', channelId: 'c1', userId: '2', messageId: '6001' }));
    expect(store.state.reads.c1).toEqual({ '2': '6001' });
  });

  it('does not count a message twice when its event comes after the list snapshot that counted it', async () => {
    const f = fakeBackend({});
    // The snapshot already counts 1299 (its lastMessage) as unread.
    f.backend.api.channels = async () => [{ ...dm, unreadCount: 1 }, group];
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    expect(store.state.channels.c1!.unreadCount).toBe(1);
    f.emit('event', ev({ type: 'message.created', message: m('1299', 'c1', '2') }));
    f.emit('event', ev({ type: 'message.created', message: m('1200', 'c1', '2') }, 2));
    expect(store.state.channels.c1!.unreadCount).toBe(1);
    f.emit('event', ev({ type: 'message.created', message: m('1300', 'c1', '2') }, 3));
    expect(store.state.channels.c1!.unreadCount).toBe(2);
  });

  it('never puts a truncated lastMessage preview into a conversation: history brings the whole text', async () => {
    const whole = 'x'.repeat(600);
    const preview = (id: string) => ({ ...m(id, 'c1', '2', 'x'.repeat(500)), textTruncated: true as const });
    const f = fakeBackend({ c1: [m('1298', 'c1', '2'), m('1299', 'c1', '2', whole)] });
    f.backend.api.channels = async () => [{ ...dm, lastMessage: preview('1299') }, group];
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    expect(store.state.channels.c1!.lastMessage?.textTruncated).toBe(true);
    await store.openChannel('c1');
    expect(store.history('c1').messages.map((x) => x.text)).toEqual(['t', whole]);
    // A later list snapshot with a newer message, seen only as a preview, moves the list on but
    // adds nothing to the open conversation (its message.created or a history load brings it).
    f.backend.api.channels = async () => [{ ...dm, lastMessage: preview('1300') }, group];
    await store.refreshChannels();
    expect(store.state.channels.c1!.lastMessage?.id).toBe('1300');
    expect(store.history('c1').messages.map((x) => x.id)).toEqual(['1298', '1299']);
    expect(store.history('c1').messages.some((x) => 'textTruncated' in x)).toBe(false);
  });

  it('keeps messages counted live when a list snapshot taken before them lands afterwards', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    // A refresh is asked for (e.g. on ready) while 1299 is the newest message and 1 is unread...
    let answer!: (list: Channel[]) => void;
    f.backend.api.channels = () => new Promise((resolve) => (answer = resolve));
    const refreshed = store.refreshChannels();
    // ...then two more arrive live before its answer does.
    f.emit('event', ev({ type: 'message.created', message: m('1300', 'c1', '2') }, 2));
    f.emit('event', ev({ type: 'message.created', message: m('1301', 'c1', '2') }, 3));
    expect(store.state.channels.c1!.unreadCount).toBe(2);
    answer([{ ...dm, unreadCount: 1 }, group]);
    await refreshed;
    expect(store.state.channels.c1!.unreadCount).toBe(3);
    expect(store.state.channels.c1!.lastMessage?.id).toBe('1301');
  });

  it('takes read positions from the list snapshot and live read events (DM and group)', async () => {
    const f = fakeBackend({});
    f.backend.api.channels = async () => [
      { ...dm, members: [dm.members[0]!, { ...dm.members[1]!, lastReadMessageId: '1299' }] },
      group,
    ];
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    expect(store.state.reads.c1).toEqual({ '2': '1299' });
    f.emit('read', { channelId: 'c2', userId: '3', messageId: '5000' });
    f.emit('read', { channelId: 'c2', userId: '3', messageId: '4000' });
    expect(store.state.reads.c2).toEqual({ '3': '5000' });
  });

  it('applies profile changes to people and to channel members', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    f.emit('user', { ...bob, displayName: 'Robert', statusText: 'Away' });
    expect(store.state.users['2']!.displayName).toBe('Robert');
    expect(channelTitle(store.state.channels.c1!, me.id)).toBe('Robert');
    f.emit('event', ev({ type: 'user.updated', user: { ...me, displayName: 'Me Again' } }));
    expect(store.state.me.displayName).toBe('Me Again');
  });

  it('replying moves the server’s read cursor over what came before', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    f.emit('event', ev({ type: 'message.created', message: m('6000', 'c1', '2') }));
    f.emit('event', ev({ type: 'message.created', message: { ...m('6001', 'c1', '1'), clientMsgId: 'x' } }, 2));
    expect(store.state.channels.c1!.unreadCount).toBe(0);
    expect(f.calls).toContain('read c1 6001');
  });

  it('pages older history and ignores answers for a window that was replaced', async () => {
    const all = Array.from({ length: 300 }, (_, i) => m(String(1000 + i), 'c1', i % 2 ? '1' : '2'));
    const f = fakeBackend({ c1: all });
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    await store.openChannel('c1');
    expect(store.history('c1').messages).toHaveLength(50);
    await store.loadOlder('c1');
    expect(store.history('c1').messages).toHaveLength(100);
    expect(store.history('c1').messages[0]!.id).toBe('1200');

    f.holdRequests(true);
    const older = store.loadOlder('c1');
    const jump = store.jumpTo('c1', '1010');
    await settle();
    f.release();
    await older;
    f.holdRequests(false);
    f.release();
    expect(await jump).toBe(true);
    const ids = store.history('c1').messages.map((x) => Number(x.id));
    expect(ids[0]).toBe(1000);
    expect(ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1)).toBe(true);
    expect(store.history('c1').hasNewer).toBe(true);
  });

  it('keeps a message that arrives while the conversation’s first page is on its way', async () => {
    const f = fakeBackend({ c1: [m('1299', 'c1', '2')] });
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    f.holdRequests(true);
    const opening = store.openChannel('c1');
    await settle();
    // The server read the page before this message was stored; its event comes first.
    f.emit('event', ev({ type: 'message.created', message: m('1300', 'c1', '2') }));
    f.release();
    await opening;
    expect(store.history('c1').messages.map((x) => x.id)).toEqual(['1299', '1300']);
    expect(store.history('c1').arrivedWhileLoading).toBeUndefined();
  });

  it('drops a channel when I am removed, and tracks friend requests', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    f.emit('event', ev({ type: 'member.removed', channel: group, userId: me.id }));
    expect(store.state.channels.c2).toBeUndefined();
    const request = { id: 'r1', fromUserId: '2', toUserId: '1', fromUser: bob, toUser: me, createdAt: '' };
    f.emit('event', ev({ type: 'friend.requested', request }));
    expect(store.state.incoming).toHaveLength(1);
    f.emit('event', ev({ type: 'friend.added', friend: bob }));
    expect(store.state.incoming).toHaveLength(0);
    expect(store.state.friends).toEqual(['2']);
  });

  it('shows typing for a while, and stops when the message arrives', async () => {
    const f = fakeBackend({});
    const store = new ChatStore(f.backend, me);
    store.start();
    await settle();
    f.emit('typing', { channelId: 'c1', userId: '2' });
    expect(Object.keys(store.state.typing.c1 ?? {})).toEqual(['2']);
    f.emit('event', ev({ type: 'message.created', message: m('7000', 'c1', '2') }));
    expect(Object.keys(store.state.typing.c1 ?? {})).toEqual([]);
    await store.close();
  });
});

describe('store helpers', () => {
  it('merges pages in id order without duplicates', () => {
    const a = [m('1', 'c', '1'), m('2', 'c', '1')];
    expect(mergeMessages(a, [m('3', 'c', '1')]).map((x) => x.id)).toEqual(['1', '2', '3']);
    expect(mergeMessages(a, [m('0', 'c', '1'), m('2', 'c', '1')]).map((x) => x.id)).toEqual(['0', '1', '2']);
    expect(mergeMessages(a, [m('10', 'c', '1')]).map((x) => x.id)).toEqual(['1', '2', '10']);
  });

  it('orders channels by last activity, creation time otherwise', () => {
    const c = (id: string, at: string, last?: string): Channel => ({
      id,
      kind: 'dm',
      members: [],
      unreadCount: 0,
      unreadMentionCount: 0,
      createdAt: at,
      ...(last ? { lastMessage: { id: '9', channelId: id, senderId: '2', text: 't', createdAt: last } } : {}),
    });
    expect(order({ a: c('a', '2026-01-01'), b: c('b', '2026-01-02'), x: c('x', '2026-01-01', '2026-02-01') })).toEqual([
      'x',
      'b',
      'a',
    ]);
  });
});
