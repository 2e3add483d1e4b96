import type {
  Channel,
  ChannelInfo,
  EventBody,
  Friend,
  FriendRequest,
  Message,
  SyncEvent,
  User,
} from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  initialState,
  withChannelList,
  withFriendLists,
  withHistory,
  type Effect,
  type EventContext,
  type State,
} from './reducer';

const me: User = { id: '1', username: 'me', displayName: 'Me' };
const bob: User = { id: '2', username: 'bob', displayName: 'Bob' };
const carol: User = { id: '3', username: 'carol', displayName: 'Carol' };
const away: EventContext = { viewingLatest: false, removing: new Set() };

/** What the server would answer for `me`: the channel list, friends, requests and each channel's latest page. */
interface Snapshot {
  channels: Channel[];
  friends: Friend[];
  requests: { incoming: FriendRequest[]; outgoing: FriendRequest[] };
  pages: Record<string, Message[]>;
}

/**
 * A reference model of the server as `me` sees it: every change appends to my update log and
 * leaves behind the snapshot REST would return right after it.
 */
class World {
  readonly log: SyncEvent[] = [];
  /** snapshots[k]: what REST returns after the first k events. */
  readonly snapshots: Snapshot[] = [];
  readonly #users = new Map<string, User>([me, bob, carol].map((u) => [u.id, u]));
  readonly #channels = new Map<
    string,
    {
      id: string;
      kind: 'dm' | 'group';
      name?: string;
      memberIds: string[];
      messages: Message[];
      reads: Map<string, string>;
      muted?: boolean;
    }
  >();
  #friends: string[] = [];
  #requests: FriendRequest[] = [];
  #nextMessage = 100;

  constructor() {
    this.snapshots.push(this.#snapshot());
  }

  befriend(from: User, to: User): this {
    const request: FriendRequest = {
      id: `r${from.id}${to.id}`,
      fromUserId: from.id,
      toUserId: to.id,
      fromUser: from,
      toUser: to,
      createdAt: '',
    };
    this.#requests.push(request);
    return this.#log({ type: 'friend.requested', request });
  }

  accept(friend: User): this {
    this.#requests = this.#requests.filter((r) => r.fromUserId !== friend.id && r.toUserId !== friend.id);
    this.#friends.push(friend.id);
    return this.#log({ type: 'friend.added', friend: this.#users.get(friend.id)! });
  }

  open(id: string, kind: 'dm' | 'group', members: User[], name?: string): this {
    this.#channels.set(id, {
      id,
      kind,
      ...(name ? { name } : {}),
      memberIds: members.map((u) => u.id),
      messages: [],
      reads: new Map(),
    });
    return this.#log({ type: 'channel.created', channel: this.#info(id) });
  }

  join(channelId: string, user: User): this {
    this.#channels.get(channelId)!.memberIds.push(user.id);
    return this.#log({ type: 'member.added', channel: this.#info(channelId), userId: user.id });
  }

  leave(channelId: string, user: User): this {
    const c = this.#channels.get(channelId)!;
    c.memberIds = c.memberIds.filter((id) => id !== user.id);
    c.reads.delete(user.id);
    return this.#log({ type: 'member.removed', channel: this.#info(channelId), userId: user.id });
  }

  say(channelId: string, from: User): this {
    const id = String(this.#nextMessage++);
    const message: Message = {
      id,
      channelId,
      senderId: from.id,
      text: `message ${id}`,
      createdAt: new Date(Date.UTC(2026, 0, 1) + Number(id) * 1000).toISOString(),
    };
    this.#channels.get(channelId)!.messages.push(message);
    return this.#log({ type: 'message.created', message });
  }

  /**
   * A read cursor moves to the newest message, or `back` messages before it (read on another
   * device while scrolled up). Mine and DM partners' are logged; group members' are not.
   */
  read(channelId: string, user: User, back = 0): this {
    const c = this.#channels.get(channelId)!;
    const messageId = c.messages[c.messages.length - 1 - back]!.id;
    c.reads.set(user.id, messageId);
    return this.#log({ type: 'read.updated', channelId, userId: user.id, messageId });
  }

  /** I mute or unmute a channel (on any device of mine). */
  mute(channelId: string, muted: boolean): this {
    this.#channels.get(channelId)!.muted = muted;
    return this.#log({ type: 'channel.settings.updated', channelId, muted });
  }

  rename(user: User, displayName: string): this {
    const renamed = { ...user, displayName };
    this.#users.set(user.id, renamed);
    for (const r of this.#requests) {
      if (r.fromUserId === user.id) r.fromUser = renamed;
      if (r.toUserId === user.id) r.toUser = renamed;
    }
    return this.#log({ type: 'user.updated', user: renamed });
  }

  #log(body: EventBody): this {
    this.log.push({ ...body, seq: this.log.length + 1 } as SyncEvent);
    this.snapshots.push(this.#snapshot());
    return this;
  }

  #info(channelId: string, withReads = false): ChannelInfo {
    const c = this.#channels.get(channelId)!;
    return {
      id: c.id,
      kind: c.kind,
      ...(c.name ? { name: c.name } : {}),
      createdAt: '2026-01-01T00:00:00.000Z',
      members: c.memberIds.map((id) => {
        const read = withReads && id !== me.id ? c.reads.get(id) : undefined;
        return { ...this.#users.get(id)!, role: 'member' as const, ...(read ? { lastReadMessageId: read } : {}) };
      }),
    };
  }

  #snapshot(): Snapshot {
    const channels: Channel[] = [];
    const pages: Record<string, Message[]> = {};
    for (const c of this.#channels.values()) {
      if (!c.memberIds.includes(me.id)) continue;
      const myRead = c.reads.get(me.id);
      const last = c.messages[c.messages.length - 1];
      channels.push({
        ...this.#info(c.id, true),
        ...(last ? { lastMessage: last } : {}),
        ...(myRead ? { lastReadMessageId: myRead } : {}),
        ...(c.muted ? { muted: true as const } : {}),
        unreadCount: c.messages.filter((m) => m.senderId !== me.id && (!myRead || Number(m.id) > Number(myRead)))
          .length,
        unreadMentionCount: 0,
      });
      pages[c.id] = [...c.messages];
    }
    return {
      channels,
      friends: this.#friends.map((id) => ({ user: this.#users.get(id)!, presence: { status: 'offline' } })),
      requests: {
        incoming: this.#requests.filter((r) => r.toUserId === me.id).map((r) => ({ ...r })),
        outgoing: this.#requests.filter((r) => r.fromUserId === me.id).map((r) => ({ ...r })),
      },
      pages,
    };
  }
}

/** The state the app builds from REST answers alone, with every channel's latest page open. */
function load(snapshot: Snapshot): State {
  let state = withChannelList(initialState(me, 'online', []), snapshot.channels);
  state = withFriendLists(state, snapshot.friends, snapshot.requests);
  for (const [channelId, messages] of Object.entries(snapshot.pages)) {
    state = withHistory(state, channelId, { messages, loaded: true, hasOlder: false });
  }
  return state;
}

function replay(state: State, events: readonly SyncEvent[], ctx = away): { state: State; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const e of events) {
    const applied = applyEvent(state, e, ctx);
    state = applied.state;
    effects.push(...applied.effects);
  }
  return { state, effects };
}

/**
 * What the screen shows from the state. Presence comes apart from the log (it is resent after
 * every connect), membership notes belong to this session, and a member's read cursor shows
 * through `reads`, not through the member entry a channel event carried. Histories are compared
 * for the channels `opened` (a channel that appears live is loaded when it is opened).
 */
function view(state: State, opened: readonly string[] = Object.keys(state.histories)) {
  return {
    channelOrder: state.channelOrder,
    channels: Object.fromEntries(
      Object.entries(state.channels).map(([id, c]) => [
        id,
        { ...c, members: c.members.map(({ lastReadMessageId: _read, presence: _presence, ...m }) => m) },
      ]),
    ),
    histories: Object.fromEntries(opened.map((id) => [id, state.histories[id]?.messages])),
    reads: state.reads,
    users: state.users,
    friends: state.friends,
    incoming: state.incoming,
    outgoing: state.outgoing,
    me: state.me,
  };
}

/** A life of `me`: a friendship, a DM with replies and reads, a group that someone joins and leaves. */
function life(): World {
  return new World()
    .befriend(bob, me)
    .accept(bob)
    .open('c1', 'dm', [me, bob])
    .say('c1', bob)
    .say('c1', bob)
    .say('c1', me)
    .read('c1', me)
    .say('c1', bob)
    .read('c1', bob)
    .open('c2', 'group', [me, bob], 'Team')
    .mute('c2', true)
    .join('c2', carol)
    .say('c2', carol)
    .rename(bob, 'Robert')
    .befriend(me, carol)
    .say('c2', bob)
    .leave('c2', carol)
    .say('c1', bob)
    .mute('c1', true)
    .mute('c1', false)
    .read('c2', me)
    .say('c2', bob)
    .say('c2', bob)
    .say('c2', bob)
    .read('c2', me, 1);
}

describe('applyEvent', () => {
  it('replaying the log onto a stale snapshot gives the fresh snapshot, from every point', () => {
    const world = life();
    const latest = load(world.snapshots[world.log.length]!);
    const fresh = view(latest);
    expect(fresh.channelOrder).toEqual(['c2', 'c1']);
    expect(fresh.channels.c1!.unreadCount).toBe(2);
    expect(fresh.channels.c2!.unreadCount).toBe(1);
    expect(fresh.channels.c2!.lastReadMessageId).toBe('108');
    expect(fresh.channels.c2!.muted).toBe(true);
    expect(fresh.channels.c1!.muted).toBeUndefined();
    for (let k = 0; k <= world.log.length; k++) {
      const stale = load(world.snapshots[k]!);
      const opened = Object.keys(stale.histories);
      const { state } = replay(stale, world.log.slice(k));
      expect(view(state, opened), `snapshot after ${k} events, then the rest`).toEqual(view(latest, opened));
    }
  });

  it('asks the server to move the read cursor when I reply to unread messages, once', () => {
    const world = life();
    const { effects } = replay(load(world.snapshots[0]!), world.log);
    expect(effects).toEqual([{ type: 'markRead', channelId: 'c1', messageId: '102' }]);
  });

  it('changes nothing when an event is applied twice', () => {
    const world = life();
    let state = load(world.snapshots[0]!);
    for (const e of world.log) {
      state = applyEvent(state, e, away).state;
      const again = applyEvent(state, e, away);
      expect(again.state, `event ${e.seq} (${e.type}) again`).toEqual(state);
      expect(again.effects).toEqual([]);
    }
  });

  it('does not count messages that arrive while the channel is on screen at its newest', () => {
    const world = new World().open('c1', 'dm', [me, bob]).say('c1', bob);
    const start = { ...load(world.snapshots[1]!), activeChannelId: 'c1' };
    const viewing = replay(start, world.log.slice(1), { viewingLatest: true, removing: new Set() }).state;
    expect(viewing.channels.c1!.unreadCount).toBe(0);
    const elsewhere = replay(start, world.log.slice(1)).state;
    expect(elsewhere.channels.c1!.unreadCount).toBe(1);
  });

  it('asks for a channel it does not hold when a message for it arrives', () => {
    const world = new World().open('c1', 'dm', [me, bob]).say('c1', bob);
    const { effects } = replay(initialState(me, 'online', []), world.log.slice(1));
    expect(effects).toEqual([{ type: 'reloadChannel', channelId: 'c1' }]);
  });

  it('notes who was removed by me and who left, once per event', () => {
    const world = new World().open('c2', 'group', [me, bob, carol], 'Team').leave('c2', bob).leave('c2', carol);
    const removing = new Set([carol.id]);
    const { state, effects } = replay(load(world.snapshots[1]!), world.log.slice(1), {
      viewingLatest: false,
      removing,
    });
    expect(state.notes.c2!.map((n) => [n.kind, n.userId])).toEqual([
      ['left', bob.id],
      ['removed', carol.id],
    ]);
    expect(effects).toEqual([{ type: 'removalSeen', userId: carol.id }]);
  });
});
