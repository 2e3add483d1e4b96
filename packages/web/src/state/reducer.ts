/**
 * The app state and the pure rules that change it: `applyEvent(state, event)` folds one log event
 * into a snapshot, and the `with*` functions fold in the other inputs (a channel-list snapshot, a
 * profile, a read cursor). None of them performs I/O; what must happen outside the state (telling
 * the server about a read, fetching a channel we do not hold) comes back as `Effect`s for the
 * ChatStore to carry out. Every function returns the same snapshot when nothing changed, so
 * applying an event twice changes nothing.
 */
import { compareIds } from '@parley/protocol';
import type {
  Channel,
  ChannelInfo,
  ChannelMember,
  Friend,
  FriendRequest,
  Message,
  Presence,
  SyncEvent,
  User,
} from '@parley/protocol';
import type { ConnectionState, OutboxItem } from './backend';
import { withChangedMessage, withReaction, withServerCopy } from './message-changes';

export interface History {
  /** A contiguous window of the channel's messages, ascending by id. */
  messages: readonly Message[];
  /** More history exists before the first message. */
  hasOlder: boolean;
  /** The window does not reach the newest message (after a jump). */
  hasNewer: boolean;
  loadingOlder: boolean;
  loadingNewer: boolean;
  /** The first page has arrived. */
  loaded: boolean;
  error?: string;
  /** Bumped when the window is replaced (jump, reload) rather than extended. */
  generation: number;
  /**
   * Messages that arrived while the newest page was on its way: the server may have read that
   * page before they were stored, so they join it when it lands.
   */
  arrivedWhileLoading?: readonly Message[];
}

/** A line in a group's conversation about its membership (kept for this session). */
export interface MemberNote {
  key: string;
  kind: 'added' | 'removed' | 'left';
  userId: string;
  /** The newest message when it happened: the note goes right after it. */
  afterId?: string;
}

export interface State {
  me: User;
  connection: ConnectionState;
  /** Channels by id; `channelOrder` sorts them by recent activity. */
  channels: Readonly<Record<string, Channel>>;
  channelOrder: readonly string[];
  channelsLoaded: boolean;
  users: Readonly<Record<string, User>>;
  presence: Readonly<Record<string, Presence>>;
  friends: readonly string[];
  friendsLoaded: boolean;
  incoming: readonly FriendRequest[];
  outgoing: readonly FriendRequest[];
  histories: Readonly<Record<string, History>>;
  outbox: readonly OutboxItem[];
  /** channelId -> userId -> typing-until (ms). */
  typing: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** channelId -> userId -> last message id that member has read (other members only). */
  reads: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** channelId -> membership notes, oldest first. */
  notes: Readonly<Record<string, readonly MemberNote[]>>;
  /**
   * channelId -> ids of messages from others counted as unread since they arrived live (at most
   * 1000, like the server's count). A channel-list snapshot counts unread only up to its own
   * lastMessage; those that arrived after it was taken add to it, so a snapshot that lands after
   * live messages neither loses them nor counts them twice.
   */
  liveUnread: Readonly<Record<string, readonly string[]>>;
  /** The channel the user is looking at. */
  activeChannelId?: string;
}

/** What the reducer needs to know about the screen and this session, beyond the state. */
export interface EventContext {
  /** The active channel's newest messages are on screen (and the page is visible). */
  viewingLatest: boolean;
  /** Members this user is removing: their `member.removed` note says "was removed", not "left". */
  removing: ReadonlySet<string>;
}

/** Work outside the state that an input calls for. */
export type Effect =
  /** Move the server's read cursor (we replied, so we read what came before). */
  | { type: 'markRead'; channelId: string; messageId: string }
  /** A message arrived for a channel we do not hold: fetch it. */
  | { type: 'reloadChannel'; channelId: string }
  /** A removal we started has been seen in the log. */
  | { type: 'removalSeen'; userId: string };

export interface Applied {
  state: State;
  effects: Effect[];
}

export const emptyHistory: History = {
  messages: [],
  hasOlder: true,
  hasNewer: false,
  loadingOlder: false,
  loadingNewer: false,
  loaded: false,
  generation: 0,
};

const maxUnread = 1000;
const maxNotes = 50;

export function initialState(me: User, connection: ConnectionState, outbox: readonly OutboxItem[]): State {
  return {
    me,
    connection,
    channels: {},
    channelOrder: [],
    channelsLoaded: false,
    users: { [me.id]: me },
    presence: {},
    friends: [],
    friendsLoaded: false,
    incoming: [],
    outgoing: [],
    histories: {},
    outbox,
    typing: {},
    reads: {},
    notes: {},
    liveUnread: {},
  };
}

/** Folds one log event into the state. */
export function applyEvent(state: State, e: SyncEvent, ctx: EventContext): Applied {
  switch (e.type) {
    case 'message.created': {
      const applied = withMessage(withServerCopy(state, e.message), e.message, ctx);
      return { ...applied, state: withoutTyping(applied.state, e.message.channelId, e.message.senderId) };
    }
    case 'read.updated':
      return only(withRead(state, e.channelId, e.userId, e.messageId));
    case 'user.updated':
      return only(withUsers(state, [e.user]));
    case 'channel.created':
    case 'channel.updated':
      return only(withChannelInfo(state, e.channel));
    case 'member.added': {
      const noted = e.userId === state.me.id ? state : withNote(state, e.channel.id, 'added', e.userId, e.seq);
      return only(withChannelInfo(noted, e.channel));
    }
    case 'member.removed': {
      if (e.userId === state.me.id) return only(withoutChannel(state, e.channel.id));
      const removed = ctx.removing.has(e.userId);
      const noted = withNote(state, e.channel.id, removed ? 'removed' : 'left', e.userId, e.seq);
      return {
        state: withChannelInfo(noted, e.channel),
        effects: removed ? [{ type: 'removalSeen', userId: e.userId }] : [],
      };
    }
    case 'channel.settings.updated':
      return only(withMuted(state, e.channelId, e.muted));
    case 'friend.requested':
      return only(withFriendRequest(state, e.request));
    case 'friend.added':
      return only(withFriend(state, e.friend, state.presence[e.friend.id]));
    case 'friend.removed': {
      const gone = e.userId;
      const friends = state.friends.filter((id) => id !== gone);
      const incoming = state.incoming.filter((r) => r.fromUserId !== gone);
      const outgoing = state.outgoing.filter((r) => r.toUserId !== gone);
      if (
        friends.length === state.friends.length &&
        incoming.length === state.incoming.length &&
        outgoing.length === state.outgoing.length
      ) {
        return only(state);
      }
      return only({ ...state, friends, incoming, outgoing });
    }
    // edits
    case 'message.updated':
    case 'message.deleted':
      return only(withChangedMessage(state, e.message));
    case 'reaction.added':
    case 'reaction.removed':
      return only(withReaction(state, e));
    default:
      return only(state);
  }
}

function only(state: State): Applied {
  return { state, effects: [] };
}

/** A message (live, replayed, or our own just accepted) joins its channel and, if loaded, its history. */
export function withMessage(state: State, m: Message, ctx: EventContext): Applied {
  let next = state;
  const h = state.histories[m.channelId];
  if (h?.loaded && !h.hasNewer && !h.messages.some((x) => x.id === m.id)) {
    next = withHistory(next, m.channelId, { messages: mergeMessages(h.messages, [m]) });
  }
  if (h?.arrivedWhileLoading) {
    const arrived = [...h.arrivedWhileLoading, m].slice(-maxUnread);
    next = withHistory(next, m.channelId, { arrivedWhileLoading: arrived });
  }
  const c = next.channels[m.channelId];
  if (!c) return { state: next, effects: [{ type: 'reloadChannel', channelId: m.channelId }] };
  const newer = !c.lastMessage || compareIds(m.id, c.lastMessage.id) > 0;
  if (!newer) return { state: next, effects: [] };
  const effects: Effect[] = [];
  const mine = m.senderId === next.me.id;
  const seen = mine || (next.activeChannelId === m.channelId && ctx.viewingLatest);
  const already = c.lastReadMessageId && compareIds(m.id, c.lastReadMessageId) <= 0;
  const channel: Channel = { ...c, lastMessage: m };
  if (mine) {
    // Replying means having read what came before: tell the server too, so the count does
    // not come back after a reload and the others see "Seen".
    const behind =
      !!c.lastMessage &&
      c.lastMessage.senderId !== m.senderId &&
      (!c.lastReadMessageId || compareIds(c.lastReadMessageId, c.lastMessage.id) < 0);
    if (c.unreadCount > 0 || behind) effects.push({ type: 'markRead', channelId: m.channelId, messageId: m.id });
    channel.lastReadMessageId = maxId(c.lastReadMessageId, m.id)!;
    channel.unreadCount = 0;
    channel.unreadMentionCount = 0;
  } else if (!seen && !already) {
    if (m.mentions?.includes(next.me.id)) channel.unreadMentionCount = Math.min(maxUnread, c.unreadMentionCount + 1);
    // The list snapshot's unreadCount already counts everything up to its lastMessage, so
    // only a message newer than that adds one (a replayed or late event is not counted twice).
    channel.unreadCount = Math.min(maxUnread, c.unreadCount + 1);
    const live = [...(next.liveUnread[m.channelId] ?? []), m.id].slice(-maxUnread);
    next = { ...next, liveUnread: { ...next.liveUnread, [m.channelId]: live } };
  }
  return { state: withChannel(next, channel), effects };
}

/** A read cursor moved (never back): ours (from another device) or another member's. */
export function withRead(state: State, channelId: string, userId: string, messageId: string): State {
  if (userId === state.me.id) {
    const c = state.channels[channelId];
    if (!c || (c.lastReadMessageId && compareIds(messageId, c.lastReadMessageId) <= 0)) return state;
    const last = c.lastMessage?.id;
    const unreadCount = last && compareIds(messageId, last) >= 0 ? 0 : countUnread(state, channelId, messageId);
    const unreadMentionCount = Math.min(c.unreadMentionCount, unreadCount);
    return withChannel(state, { ...c, lastReadMessageId: messageId, unreadCount, unreadMentionCount });
  }
  const cur = state.reads[channelId] ?? {};
  const prev = cur[userId];
  if (prev && compareIds(messageId, prev) <= 0) return state;
  return { ...state, reads: { ...state.reads, [channelId]: { ...cur, [userId]: messageId } } };
}

/**
 * Unread messages from others after `after`, as far as we can tell: from the loaded history, or,
 * for a channel not opened here, from the messages counted live (a read on another device).
 */
export function countUnread(state: State, channelId: string, after: string): number {
  const h = state.histories[channelId];
  const c = state.channels[channelId];
  if (!c) return 0;
  if (!h?.loaded) return (state.liveUnread[channelId] ?? []).filter((id) => compareIds(id, after) > 0).length;
  let n = 0;
  for (const m of h.messages) if (compareIds(m.id, after) > 0 && m.senderId !== state.me.id) n++;
  return h.hasNewer ? Math.max(n, c.unreadCount) : n;
}

/** Profiles seen anywhere: kept, and copied into the channel member lists that show them. */
export function withUsers(state: State, users: readonly User[]): State {
  let changed = false;
  const next = { ...state.users };
  for (const u of users) {
    const cur = next[u.id];
    if (!cur || cur.displayName !== u.displayName || cur.statusText !== u.statusText) {
      next[u.id] = u;
      changed = true;
    }
  }
  if (!changed) return state;
  const patch: Partial<State> = { users: next };
  const mine = next[state.me.id];
  if (mine && mine !== state.me) patch.me = mine;
  // Channel titles and member lists show names from the channel's members: keep them current.
  let channels: Record<string, Channel> | undefined;
  for (const c of Object.values(state.channels)) {
    if (!c.members.some((m) => next[m.id] !== state.users[m.id])) continue;
    channels ??= { ...state.channels };
    channels[c.id] = {
      ...c,
      members: c.members.map((m) => {
        const u = next[m.id];
        if (!u || u === state.users[m.id]) return m;
        const member = { ...m, displayName: u.displayName };
        if (u.statusText) member.statusText = u.statusText;
        else delete member.statusText;
        return member;
      }),
    };
  }
  if (channels) patch.channels = channels;
  return { ...state, ...patch };
}

/**
 * A channel's description (from an event or a REST answer; `full` when the answer carries the
 * whole channel): what we hold keeps its newer message, unread count and read cursor.
 */
/** The user muted or unmuted a channel (here or on another device: channel.settings.updated). */
export function withMuted(state: State, channelId: string, muted: boolean): State {
  const cur = state.channels[channelId];
  if (cur === undefined || (cur.muted === true) === muted) return state;
  const next: Channel = { ...cur };
  if (muted) next.muted = true;
  else delete next.muted;
  return withChannel(state, next);
}

export function withChannelInfo(state: State, info: ChannelInfo, full?: Channel): State {
  const cur = state.channels[info.id];
  const base: Channel = full ?? cur ?? { ...info, unreadCount: 0, unreadMentionCount: 0 };
  const next: Channel = {
    ...base,
    ...info,
    lastMessage: newest(cur?.lastMessage, full?.lastMessage),
    unreadCount: cur ? cur.unreadCount : (full?.unreadCount ?? 0),
    unreadMentionCount: cur ? cur.unreadMentionCount : (full?.unreadMentionCount ?? 0),
    lastReadMessageId: maxId(cur?.lastReadMessageId, full?.lastReadMessageId),
  };
  if (!next.lastMessage) delete next.lastMessage;
  if (!next.lastReadMessageId) delete next.lastReadMessageId;
  const users = { ...state.users };
  const presence = { ...state.presence };
  // DM members carry their read cursor, so "Seen" survives a reload (live read.updated moves it on).
  for (const m of info.members) {
    users[m.id] = stripMember(m);
    if (m.presence) presence[m.id] = m.presence;
  }
  const readers = mergeReads(state.reads[info.id], info.members, state.me.id);
  return withChannel({ ...state, users, presence, reads: { ...state.reads, [info.id]: readers } }, next);
}

/** The channel list from the server, merged into what we hold (see `mergeChannel`). */
export function withChannelList(state: State, list: readonly Channel[]): State {
  const channels: Record<string, Channel> = {};
  const users = { ...state.users };
  const presence = { ...state.presence };
  const reads: Record<string, Readonly<Record<string, string>>> = {};
  for (const c of list) {
    channels[c.id] = mergeChannel(state.channels[c.id], c, state.liveUnread[c.id]);
    reads[c.id] = mergeReads(state.reads[c.id], c.members, state.me.id);
    for (const m of c.members) {
      users[m.id] = stripMember(m);
      if (m.presence) presence[m.id] = m.presence;
    }
  }
  // A channel no longer listed takes its loaded history with it.
  const histories = Object.fromEntries(Object.entries(state.histories).filter(([id]) => channels[id]));
  return {
    ...state,
    channels,
    users,
    presence,
    reads,
    histories,
    channelOrder: order(channels),
    channelsLoaded: true,
  };
}

export function withChannel(state: State, c: Channel): State {
  if (state.channels[c.id] === c) return state;
  const channels = { ...state.channels, [c.id]: c };
  return { ...state, channels, channelOrder: order(channels) };
}

export function withoutChannel(state: State, channelId: string): State {
  if (!state.channels[channelId] && !state.histories[channelId]) return state;
  const channels = { ...state.channels };
  delete channels[channelId];
  const histories = { ...state.histories };
  delete histories[channelId];
  return { ...state, channels, histories, channelOrder: order(channels) };
}

export function withHistory(state: State, channelId: string, patch: Partial<History>): State {
  const next = { ...(state.histories[channelId] ?? emptyHistory), ...patch };
  return { ...state, histories: { ...state.histories, [channelId]: next } };
}

function withNote(state: State, channelId: string, kind: MemberNote['kind'], userId: string, seq: number): State {
  const key = `note:${seq}`;
  const cur = state.notes[channelId] ?? [];
  if (cur.some((n) => n.key === key)) return state;
  const note: MemberNote = { key, kind, userId };
  const afterId = state.channels[channelId]?.lastMessage?.id;
  if (afterId) note.afterId = afterId;
  return { ...state, notes: { ...state.notes, [channelId]: [...cur, note].slice(-maxNotes) } };
}

export function withFriendRequest(state: State, r: FriendRequest): State {
  const next = withUsers(state, [r.fromUser, r.toUser]);
  if (r.toUserId === next.me.id) {
    return next.incoming.some((x) => x.id === r.id) ? next : { ...next, incoming: [...next.incoming, r] };
  }
  return next.outgoing.some((x) => x.id === r.id) ? next : { ...next, outgoing: [...next.outgoing, r] };
}

/** The friend list and pending requests from the server (either may be missing if its request failed). */
export function withFriendLists(
  state: State,
  friends: readonly Friend[] | undefined,
  requests: { incoming: readonly FriendRequest[]; outgoing: readonly FriendRequest[] } | undefined,
): State {
  const users = { ...state.users };
  const presence = { ...state.presence };
  const patch: Partial<State> = {};
  if (friends) {
    for (const f of friends) {
      users[f.user.id] = f.user;
      presence[f.user.id] = f.presence;
    }
    patch.friends = friends.map((f) => f.user.id);
    patch.friendsLoaded = true;
  }
  if (requests) {
    for (const r of [...requests.incoming, ...requests.outgoing]) {
      users[r.fromUser.id] ??= r.fromUser;
      users[r.toUser.id] ??= r.toUser;
    }
    patch.incoming = requests.incoming;
    patch.outgoing = requests.outgoing;
  }
  return { ...state, ...patch, users, presence };
}

export function withFriend(state: State, user: User, presence: Presence | undefined): State {
  const friends = state.friends.includes(user.id) ? state.friends : [...state.friends, user.id];
  return {
    ...state,
    friends,
    users: { ...state.users, [user.id]: user },
    presence: presence ? { ...state.presence, [user.id]: presence } : state.presence,
    incoming: state.incoming.filter((r) => r.fromUserId !== user.id),
    outgoing: state.outgoing.filter((r) => r.toUserId !== user.id),
  };
}

export function withoutTyping(state: State, channelId: string, userId: string): State {
  const cur = state.typing[channelId];
  if (!cur?.[userId]) return state;
  const next = { ...cur };
  delete next[userId];
  return { ...state, typing: { ...state.typing, [channelId]: next } };
}

// ---------- helpers ----------

/** Merges pages into a window: ascending by id, no duplicates. */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return existing as Message[];
  const last = existing[existing.length - 1];
  const first = incoming[0]!;
  // The common cases, appending or prepending a sorted page, without a full sort.
  if (!last || compareIds(first.id, last.id) > 0) {
    if (isSorted(incoming)) return [...existing, ...incoming];
  }
  const byId = new Map<string, Message>();
  for (const m of existing) byId.set(m.id, m);
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
}

function isSorted(ms: readonly Message[]): boolean {
  for (let i = 1; i < ms.length; i++) if (compareIds(ms[i - 1]!.id, ms[i]!.id) >= 0) return false;
  return true;
}

/** Channel ids by recent activity: newest last message (or creation) first. */
export function order(channels: Readonly<Record<string, Channel>>): string[] {
  const stamp = (c: Channel) => c.lastMessage?.createdAt ?? c.createdAt ?? '';
  return Object.values(channels)
    .sort((a, b) => {
      const sa = stamp(a);
      const sb = stamp(b);
      if (sa !== sb) return sa < sb ? 1 : -1;
      return compareIds(b.lastMessage?.id ?? b.id, a.lastMessage?.id ?? a.id);
    })
    .map((c) => c.id);
}

/**
 * A channel-list snapshot merged into what we hold. The snapshot's unreadCount is the truth up to
 * its lastMessage and read cursor; messages counted live after that (`liveUnread`) add to it,
 * and a read cursor we moved since it was taken wins.
 */
function mergeChannel(cur: Channel | undefined, fresh: Channel, liveUnread: readonly string[] = []): Channel {
  if (!cur) return fresh;
  const lastMessage = newest(cur.lastMessage, fresh.lastMessage);
  const merged: Channel = { ...fresh };
  if (lastMessage) merged.lastMessage = lastMessage;
  const readAhead =
    !!cur.lastReadMessageId &&
    (!fresh.lastReadMessageId || compareIds(cur.lastReadMessageId, fresh.lastReadMessageId) > 0);
  if (readAhead) {
    merged.lastReadMessageId = cur.lastReadMessageId!;
    merged.unreadCount = cur.unreadCount;
    merged.unreadMentionCount = Math.min(fresh.unreadMentionCount, cur.unreadCount);
    return merged;
  }
  const after = (id: string, than: string | undefined) => !than || compareIds(id, than) > 0;
  const arrivedSince = liveUnread.filter(
    (id) => after(id, fresh.lastMessage?.id) && after(id, fresh.lastReadMessageId),
  ).length;
  merged.unreadCount = Math.min(maxUnread, fresh.unreadCount + arrivedSince);
  return merged;
}

/**
 * Other members' read cursors: what we knew, moved forward by a snapshot's `lastReadMessageId`s
 * (the server knows them for DMs and groups; live moves arrive as `read`).
 */
function mergeReads(
  known: Readonly<Record<string, string>> | undefined,
  members: readonly ChannelMember[],
  meId: string,
): Readonly<Record<string, string>> {
  const readers: Record<string, string> = { ...known };
  for (const m of members) {
    if (m.id === meId || !m.lastReadMessageId) continue;
    readers[m.id] = maxId(readers[m.id], m.lastReadMessageId) ?? m.lastReadMessageId;
  }
  return readers;
}

function newest(a: Message | undefined, b: Message | undefined): Message | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareIds(a.id, b.id) >= 0 ? a : b;
}

export function maxId(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareIds(a, b) >= 0 ? a : b;
}

function stripMember(m: User & { role?: unknown; presence?: unknown }): User {
  const u: User = { id: m.id, username: m.username, displayName: m.displayName };
  if (m.statusText) u.statusText = m.statusText;
  return u;
}
