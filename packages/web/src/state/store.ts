/**
 * The app's state: one immutable snapshot replaced on every change (React reads it with
 * useSyncExternalStore), fed by REST calls and the live event stream of a Backend.
 */
import { compareIds, limits } from '@parley/protocol';
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
import type { Backend, ConnectionState, OutboxItem } from './backend';

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
  /** The channel the user is looking at. */
  activeChannelId?: string;
}

const emptyHistory: History = {
  messages: [],
  hasOlder: true,
  hasNewer: false,
  loadingOlder: false,
  loadingNewer: false,
  loaded: false,
  generation: 0,
};

const pageSize = 50;
const typingTtlMs = 6_000;

export class ChatStore {
  state: State;
  readonly backend: Backend;
  readonly #listeners = new Set<() => void>();
  readonly #off: (() => void)[] = [];
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #lastTypingSent = new Map<string, number>();
  #viewing = false;
  #closed = false;

  constructor(backend: Backend, me: User) {
    this.backend = backend;
    this.state = {
      me,
      connection: backend.connection(),
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
      outbox: backend.outbox(),
      typing: {},
      reads: {},
      notes: {},
    };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): State => this.state;

  #set(patch: Partial<State>): void {
    if (this.#closed) return;
    this.state = { ...this.state, ...patch };
    this.#scheduleNotify();
  }

  /**
   * Listeners hear about changes at most once per frame: a burst of events (a reconnect replay,
   * a busy group) renders once instead of once per event.
   */
  #notifyScheduled = false;
  #scheduleNotify(): void {
    if (this.#notifyScheduled) return;
    this.#notifyScheduled = true;
    const flush = () => {
      if (!this.#notifyScheduled) return;
      this.#notifyScheduled = false;
      for (const l of [...this.#listeners]) l();
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
      requestAnimationFrame(flush);
    }
    // rAF does not run in background tabs; a timer covers them (and whichever comes first wins).
    setTimeout(flush, 32);
  }

  /** Loads the lists and starts the live connection. */
  start(): void {
    const b = this.backend;
    this.#off.push(
      b.on('event', (e) => this.#apply(e)),
      b.on('presence', (p) => this.#setPresence(p.userId, { status: p.status, lastSeenAt: p.lastSeenAt })),
      b.on('typing', (t) => this.#onTyping(t.channelId, t.userId)),
      b.on('read', (r) => this.#applyRead(r.channelId, r.userId, r.messageId)),
      b.on('user', (u) => this.#noteUsers([u])),
      b.on('connection', (connection) => {
        // Offline, we cannot know who is online: forget it rather than show a stale "Online".
        // The server sends everyone's presence again after the next `ready`.
        this.#set(connection === 'online' ? { connection } : { connection, presence: {} });
      }),
      b.on('outbox', (outbox) => this.#set({ outbox })),
      b.on('sent', (s) =>
        this.#addMessage({
          id: s.messageId,
          channelId: s.channelId,
          senderId: this.state.me.id,
          text: s.text,
          createdAt: s.createdAt,
          clientMsgId: s.clientMsgId,
        }),
      ),
      b.on('ready', ({ resynced }) => {
        void this.refreshChannels();
        void this.refreshFriends();
        if (resynced) {
          // The log was too old to replay: what we hold may have gaps, so start from REST again.
          this.#set({ histories: {} });
          const active = this.state.activeChannelId;
          if (active) void this.loadLatest(active);
        }
      }),
    );
    void this.refreshChannels();
    void this.refreshFriends();
    b.start();
  }

  async close(options?: { logout?: boolean }): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    clearTimeout(this.#typingTimer);
    await this.backend.close(options);
    this.#closed = true;
  }

  // ---------- lists ----------

  async refreshChannels(): Promise<void> {
    const list = await this.backend.api.channels().catch(() => undefined);
    if (!list) return;
    const channels: Record<string, Channel> = {};
    const users = { ...this.state.users };
    const presence = { ...this.state.presence };
    const reads: Record<string, Readonly<Record<string, string>>> = {};
    for (const c of list) {
      channels[c.id] = mergeChannel(this.state.channels[c.id], c);
      reads[c.id] = mergeReads(this.state.reads[c.id], c.members, this.state.me.id);
      for (const m of c.members) {
        users[m.id] = stripMember(m);
        if (m.presence) presence[m.id] = m.presence;
      }
    }
    this.#set({ channels, users, presence, reads, channelOrder: order(channels), channelsLoaded: true });
    // Live messages may have reached channels we had not loaded; keep unread counts honest.
    for (const id of Object.keys(this.state.histories)) {
      if (!channels[id]) this.#dropHistory(id);
    }
  }

  async refreshFriends(): Promise<void> {
    const [friends, requests] = await Promise.all([
      this.backend.api.friends().catch(() => undefined),
      this.backend.api.friendRequests().catch(() => undefined),
    ]);
    const users = { ...this.state.users };
    const presence = { ...this.state.presence };
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
    this.#set({ ...patch, users, presence });
  }

  // ---------- the active channel ----------

  /** Which channel is on screen, and whether its newest messages are in view (for unread counts). */
  setActive(channelId: string | undefined, viewingLatest = false): void {
    this.#viewing = viewingLatest;
    if (this.state.activeChannelId !== channelId) this.#set({ activeChannelId: channelId });
  }

  history(channelId: string): History {
    return this.state.histories[channelId] ?? emptyHistory;
  }

  #setHistory(channelId: string, patch: Partial<History>): History {
    const next = { ...this.history(channelId), ...patch };
    this.#set({ histories: { ...this.state.histories, [channelId]: next } });
    return next;
  }

  #dropHistory(channelId: string): void {
    const histories = { ...this.state.histories };
    delete histories[channelId];
    this.#set({ histories });
  }

  /** Loads the newest page unless already loaded. */
  async openChannel(channelId: string): Promise<void> {
    const h = this.state.histories[channelId];
    if (h?.loaded || h?.loadingNewer) return;
    await this.loadLatest(channelId);
  }

  async loadLatest(channelId: string): Promise<void> {
    const token = this.#nextWindowToken(channelId);
    this.#setHistory(channelId, { loadingNewer: true, error: undefined });
    try {
      // hasMore, not the page's length, says whether more lie beyond: a page can stop at its byte budget.
      const { messages, hasMore } = await this.backend.api.historyPage(channelId, { limit: pageSize });
      if (this.#windowTokens.get(channelId) !== token) return;
      this.#setHistory(channelId, {
        messages: mergeMessages([], messages),
        hasOlder: hasMore,
        hasNewer: false,
        loaded: true,
        loadingNewer: false,
        loadingOlder: false,
        generation: this.history(channelId).generation + 1,
      });
      this.#notePeople(messages);
    } catch (error) {
      if (this.#windowTokens.get(channelId) === token) {
        this.#setHistory(channelId, { loadingNewer: false, error: describeError(error) });
      }
    }
  }

  /** Replacing a window (latest, jump) invalidates requests made for the previous one. */
  readonly #windowTokens = new Map<string, number>();
  #nextWindowToken(channelId: string): number {
    const token = (this.#windowTokens.get(channelId) ?? 0) + 1;
    this.#windowTokens.set(channelId, token);
    return token;
  }

  loadOlder(channelId: string): Promise<void> {
    return this.#loadPage(channelId, 'older');
  }

  loadNewer(channelId: string): Promise<void> {
    return this.#loadPage(channelId, 'newer');
  }

  /**
   * Extends the window by one page before its first message or after its last. An answer for a
   * window that was replaced meanwhile (jump, latest) is dropped.
   */
  async #loadPage(channelId: string, direction: 'older' | 'newer'): Promise<void> {
    const older = direction === 'older';
    const h = this.history(channelId);
    if (!h.loaded || (older ? !h.hasOlder || h.loadingOlder : !h.hasNewer || h.loadingNewer)) return;
    const edge = older ? h.messages[0] : h.messages[h.messages.length - 1];
    if (!edge) {
      if (older) this.#setHistory(channelId, { hasOlder: false });
      return;
    }
    this.#setHistory(channelId, older ? { loadingOlder: true } : { loadingNewer: true });
    try {
      const { messages: page, hasMore: more } = await this.backend.api.historyPage(
        channelId,
        older ? { before: edge.id, limit: pageSize } : { after: edge.id, limit: pageSize },
      );
      const cur = this.history(channelId);
      if (cur.generation !== h.generation || !(older ? cur.loadingOlder : cur.loadingNewer)) return;
      this.#setHistory(channelId, {
        messages: mergeMessages(cur.messages, page),
        ...(older ? { hasOlder: more, loadingOlder: false } : { hasNewer: more, loadingNewer: false }),
      });
      this.#notePeople(page);
    } catch (error) {
      if (this.history(channelId).generation === h.generation) {
        this.#setHistory(channelId, {
          ...(older ? { loadingOlder: false } : { loadingNewer: false }),
          error: describeError(error),
        });
      }
    }
  }

  /** Replaces the window with the messages around `messageId` (a permalink or the first unread). */
  async jumpTo(channelId: string, messageId: string): Promise<boolean> {
    const cur = this.history(channelId);
    if (cur.messages.some((m) => m.id === messageId)) return true;
    const token = this.#nextWindowToken(channelId);
    this.#setHistory(channelId, { loadingNewer: true, error: undefined });
    try {
      const page = await this.backend.api.messages(channelId, { around: messageId, limit: pageSize });
      if (this.#windowTokens.get(channelId) !== token) return false;
      const latest = this.state.channels[channelId]?.lastMessage?.id;
      const last = page[page.length - 1];
      this.#setHistory(channelId, {
        messages: mergeMessages([], page),
        hasOlder: page.length > 0,
        hasNewer: !!latest && !!last && compareIds(last.id, latest) < 0,
        loaded: true,
        loadingNewer: false,
        loadingOlder: false,
        generation: this.history(channelId).generation + 1,
      });
      this.#notePeople(page);
      return page.some((m) => m.id === messageId);
    } catch (error) {
      if (this.#windowTokens.get(channelId) === token) {
        this.#setHistory(channelId, { loadingNewer: false, error: describeError(error) });
      }
      return false;
    }
  }

  // ---------- sending ----------

  send(channelId: string, text: string): void {
    this.backend.send(channelId, text);
  }
  retry(clientMsgId: string): void {
    this.backend.retry(clientMsgId);
  }
  discard(clientMsgId: string): void {
    this.backend.discard(clientMsgId);
  }

  /** Throttled typing notice (one every 3 s per channel). */
  typing(channelId: string): void {
    const now = Date.now();
    if (now - (this.#lastTypingSent.get(channelId) ?? 0) < 3_000) return;
    this.#lastTypingSent.set(channelId, now);
    this.backend.typing(channelId);
  }

  /** Moves the read cursor forward to `messageId` (never back). */
  markRead(channelId: string, messageId: string): void {
    const c = this.state.channels[channelId];
    if (!c) return;
    if (c.lastReadMessageId && compareIds(messageId, c.lastReadMessageId) <= 0) {
      if (c.unreadCount === 0) return;
    }
    const last = c.lastMessage?.id;
    const unreadCount = last && compareIds(messageId, last) >= 0 ? 0 : this.#countUnread(channelId, messageId);
    this.#putChannel({ ...c, lastReadMessageId: maxId(c.lastReadMessageId, messageId), unreadCount });
    this.backend.markRead(channelId, messageId);
  }

  #countUnread(channelId: string, after: string): number {
    const h = this.state.histories[channelId];
    const c = this.state.channels[channelId];
    if (!h || !c) return 0;
    let n = 0;
    for (const m of h.messages) if (compareIds(m.id, after) > 0 && m.senderId !== this.state.me.id) n++;
    return h.hasNewer ? Math.max(n, c.unreadCount) : n;
  }

  // ---------- people, friends, groups ----------

  async searchUsers(query: string): Promise<User[]> {
    const users = await this.backend.api.searchUsers(query);
    this.#noteUsers(users);
    return users.filter((u) => u.id !== this.state.me.id);
  }

  /** A fresher copy of our own profile (from GET /v1/me). */
  updateLocalMe(me: User): void {
    this.#set({ me, users: { ...this.state.users, [me.id]: me } });
  }

  async updateProfile(patch: { displayName?: string; statusText?: string }): Promise<void> {
    const me = await this.backend.api.updateMe(patch);
    this.#set({ me, users: { ...this.state.users, [me.id]: me } });
  }

  async openDm(userId: string): Promise<string> {
    const channel = await this.backend.api.openDm(userId);
    this.#upsertInfo(channel, channel);
    return channel.id;
  }

  async createGroup(name: string, memberIds: string[]): Promise<string> {
    const channel = await this.backend.api.createGroup({ name, memberIds });
    this.#upsertInfo(channel, channel);
    return channel.id;
  }

  async addMember(channelId: string, userId: string): Promise<void> {
    const info = await this.backend.api.addMember(channelId, userId);
    if (info) this.#upsertInfo(info);
    else await this.#reloadChannel(channelId);
  }

  /** Members this user is removing: their `member.removed` note says "was removed". */
  readonly #removing = new Set<string>();

  async removeMember(channelId: string, userId: string): Promise<void> {
    if (userId !== this.state.me.id) this.#removing.add(userId);
    await this.backend.api.removeMember(channelId, userId);
    if (userId === this.state.me.id) this.#removeChannel(channelId);
    else await this.#reloadChannel(channelId);
  }

  async renameGroup(channelId: string, name: string): Promise<void> {
    const res = await this.backend.api.request<{ channel?: ChannelInfo } | undefined>(
      'PATCH',
      `/v1/channels/${encodeURIComponent(channelId)}`,
      { body: { name } },
    );
    if (res?.channel) this.#upsertInfo(res.channel);
    else await this.#reloadChannel(channelId);
  }

  async setRole(channelId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    await this.backend.api.request(
      'PATCH',
      `/v1/channels/${encodeURIComponent(channelId)}/members/${encodeURIComponent(userId)}`,
      { body: { role } },
    );
    await this.#reloadChannel(channelId);
  }

  async sendFriendRequest(userId: string): Promise<void> {
    const request = await this.backend.api.sendFriendRequest(userId);
    if (!this.state.outgoing.some((r) => r.id === request.id)) {
      this.#set({ outgoing: [...this.state.outgoing, request] });
    }
    // Mutual requests may turn into a friendship at once.
    void this.refreshFriends();
  }

  async acceptFriendRequest(requestId: string): Promise<void> {
    const friend = await this.backend.api.acceptFriendRequest(requestId);
    this.#addFriend(friend.user, friend.presence);
  }

  /** Declines an incoming request or withdraws an outgoing one. */
  async dropFriendRequest(requestId: string): Promise<void> {
    await this.backend.api.request('DELETE', `/v1/friends/requests/${encodeURIComponent(requestId)}`);
    this.#set({
      incoming: this.state.incoming.filter((r) => r.id !== requestId),
      outgoing: this.state.outgoing.filter((r) => r.id !== requestId),
    });
  }

  async removeFriend(userId: string): Promise<void> {
    await this.backend.api.removeFriend(userId);
    this.#set({ friends: this.state.friends.filter((id) => id !== userId) });
  }

  /** A user's profile, fetched once if we have not seen it (senders who left a group). */
  ensureUser(userId: string): void {
    if (this.state.users[userId] || this.#fetchingUsers.has(userId)) return;
    this.#fetchingUsers.add(userId);
    this.backend.api
      .user(userId)
      .then((u) => this.#noteUsers([u]))
      .catch(() => undefined);
  }
  readonly #fetchingUsers = new Set<string>();

  // ---------- events ----------

  #apply(e: SyncEvent): void {
    switch (e.type) {
      case 'message.created':
        this.#addMessage(e.message);
        this.#clearTyping(e.message.channelId, e.message.senderId);
        break;
      case 'read.updated':
        this.#applyRead(e.channelId, e.userId, e.messageId);
        break;
      case 'user.updated':
        this.#noteUsers([e.user]);
        break;
      case 'channel.created':
      case 'channel.updated':
        this.#upsertInfo(e.channel);
        break;
      case 'member.added':
        if (e.userId !== this.state.me.id) this.#addNote(e.channel.id, 'added', e.userId, e.seq);
        this.#upsertInfo(e.channel);
        break;
      case 'member.removed':
        if (e.userId === this.state.me.id) this.#removeChannel(e.channel.id);
        else {
          this.#addNote(e.channel.id, this.#removing.delete(e.userId) ? 'removed' : 'left', e.userId, e.seq);
          this.#upsertInfo(e.channel);
        }
        break;
      case 'friend.requested': {
        const r = e.request;
        this.#noteUsers([r.fromUser, r.toUser]);
        if (r.toUserId === this.state.me.id) {
          if (!this.state.incoming.some((x) => x.id === r.id)) this.#set({ incoming: [...this.state.incoming, r] });
        } else if (!this.state.outgoing.some((x) => x.id === r.id)) {
          this.#set({ outgoing: [...this.state.outgoing, r] });
        }
        break;
      }
      case 'friend.added':
        this.#addFriend(e.friend, this.state.presence[e.friend.id]);
        break;
      case 'friend.removed':
        this.#set({
          friends: this.state.friends.filter((id) => id !== e.userId),
          incoming: this.state.incoming.filter((r) => r.fromUserId !== e.userId),
          outgoing: this.state.outgoing.filter((r) => r.toUserId !== e.userId),
        });
        break;
    }
  }

  #addNote(channelId: string, kind: MemberNote['kind'], userId: string, seq: number): void {
    const key = `note:${seq}`;
    const cur = this.state.notes[channelId] ?? [];
    if (cur.some((n) => n.key === key)) return;
    const note: MemberNote = { key, kind, userId };
    const afterId = this.state.channels[channelId]?.lastMessage?.id;
    if (afterId) note.afterId = afterId;
    this.#set({ notes: { ...this.state.notes, [channelId]: [...cur, note].slice(-50) } });
  }

  /** A read cursor moved (never back): ours (from another device) or another member's. */
  #applyRead(channelId: string, userId: string, messageId: string): void {
    if (userId === this.state.me.id) {
      const c = this.state.channels[channelId];
      if (c && (!c.lastReadMessageId || compareIds(messageId, c.lastReadMessageId) > 0)) {
        const last = c.lastMessage?.id;
        const unreadCount = last && compareIds(messageId, last) >= 0 ? 0 : this.#countUnread(channelId, messageId);
        this.#putChannel({ ...c, lastReadMessageId: messageId, unreadCount });
      }
      return;
    }
    const cur = this.state.reads[channelId] ?? {};
    const prev = cur[userId];
    if (!prev || compareIds(messageId, prev) > 0) {
      this.#set({ reads: { ...this.state.reads, [channelId]: { ...cur, [userId]: messageId } } });
    }
  }

  #addFriend(user: User, presence: Presence | undefined): void {
    const friends = this.state.friends.includes(user.id) ? this.state.friends : [...this.state.friends, user.id];
    this.#set({
      friends,
      users: { ...this.state.users, [user.id]: user },
      presence: presence ? { ...this.state.presence, [user.id]: presence } : this.state.presence,
      incoming: this.state.incoming.filter((r) => r.fromUserId !== user.id),
      outgoing: this.state.outgoing.filter((r) => r.toUserId !== user.id),
    });
  }

  #addMessage(m: Message): void {
    const c = this.state.channels[m.channelId];
    const h = this.state.histories[m.channelId];
    if (h?.loaded && !h.hasNewer && !h.messages.some((x) => x.id === m.id)) {
      this.#setHistory(m.channelId, { messages: mergeMessages(h.messages, [m]) });
    }
    if (!c) {
      void this.#reloadChannel(m.channelId);
      return;
    }
    const newer = !c.lastMessage || compareIds(m.id, c.lastMessage.id) > 0;
    const mine = m.senderId === this.state.me.id;
    const seen = mine || (this.state.activeChannelId === m.channelId && this.#viewing && isVisible());
    const already = c.lastReadMessageId && compareIds(m.id, c.lastReadMessageId) <= 0;
    const next: Channel = { ...c };
    if (newer) next.lastMessage = m;
    if (mine && newer) {
      // Replying means having read what came before: tell the server too, so the count does
      // not come back after a reload and the others see "Seen".
      const behind =
        !!c.lastMessage &&
        c.lastMessage.senderId !== m.senderId &&
        (!c.lastReadMessageId || compareIds(c.lastReadMessageId, c.lastMessage.id) < 0);
      if (c.unreadCount > 0 || behind) {
        this.backend.markRead(m.channelId, m.id);
      }
      next.lastReadMessageId = maxId(c.lastReadMessageId, m.id);
      next.unreadCount = 0;
    } else if (newer && !seen && !already) {
      // The list snapshot's unreadCount already counts everything up to its lastMessage, so
      // only a message newer than that adds one (a replayed or late event is not counted twice).
      next.unreadCount = Math.min(1000, c.unreadCount + 1);
    }
    this.#putChannel(next);
  }

  async #reloadChannel(channelId: string): Promise<void> {
    try {
      const c = await this.backend.api.channel(channelId);
      this.#upsertInfo(c, c);
    } catch {
      // gone or forbidden: the member.removed event tidies up
    }
  }

  #upsertInfo(info: ChannelInfo, full?: Channel): void {
    const cur = this.state.channels[info.id];
    const base: Channel = full ?? cur ?? { ...info, unreadCount: 0 };
    const next: Channel = {
      ...base,
      ...info,
      lastMessage: newest(cur?.lastMessage, full?.lastMessage),
      unreadCount: cur ? cur.unreadCount : (full?.unreadCount ?? 0),
      lastReadMessageId: maxId(cur?.lastReadMessageId, full?.lastReadMessageId),
    };
    if (!next.lastMessage) delete next.lastMessage;
    if (!next.lastReadMessageId) delete next.lastReadMessageId;
    const users = { ...this.state.users };
    const presence = { ...this.state.presence };
    // DM members carry their read cursor, so "Seen" survives a reload (live read.updated moves it on).
    for (const m of info.members) {
      users[m.id] = stripMember(m);
      if (m.presence) presence[m.id] = m.presence;
    }
    const readers = mergeReads(this.state.reads[info.id], info.members, this.state.me.id);
    this.#set({ users, presence, reads: { ...this.state.reads, [info.id]: readers } });
    this.#putChannel(next);
  }

  #putChannel(c: Channel): void {
    const channels = { ...this.state.channels, [c.id]: c };
    this.#set({ channels, channelOrder: order(channels) });
  }

  #removeChannel(channelId: string): void {
    const channels = { ...this.state.channels };
    delete channels[channelId];
    const histories = { ...this.state.histories };
    delete histories[channelId];
    this.#set({ channels, histories, channelOrder: order(channels) });
  }

  #setPresence(userId: string, p: Presence): void {
    this.#set({ presence: { ...this.state.presence, [userId]: p } });
  }

  #onTyping(channelId: string, userId: string): void {
    if (userId === this.state.me.id) return;
    const cur = this.state.typing[channelId] ?? {};
    this.#set({ typing: { ...this.state.typing, [channelId]: { ...cur, [userId]: Date.now() + typingTtlMs } } });
    this.#scheduleTypingSweep();
  }

  #clearTyping(channelId: string, userId: string): void {
    const cur = this.state.typing[channelId];
    if (!cur?.[userId]) return;
    const next = { ...cur };
    delete next[userId];
    this.#set({ typing: { ...this.state.typing, [channelId]: next } });
  }

  #scheduleTypingSweep(): void {
    clearTimeout(this.#typingTimer);
    let soonest = Infinity;
    for (const byUser of Object.values(this.state.typing)) {
      for (const until of Object.values(byUser)) soonest = Math.min(soonest, until);
    }
    if (soonest === Infinity) return;
    this.#typingTimer = setTimeout(
      () => {
        const now = Date.now();
        const typing: Record<string, Record<string, number>> = {};
        for (const [cid, byUser] of Object.entries(this.state.typing)) {
          const kept = Object.fromEntries(Object.entries(byUser).filter(([, until]) => until > now));
          if (Object.keys(kept).length) typing[cid] = kept;
        }
        this.#set({ typing });
        this.#scheduleTypingSweep();
      },
      Math.max(50, soonest - Date.now() + 10),
    );
  }

  #notePeople(messages: readonly Message[]): void {
    for (const m of messages) if (!this.state.users[m.senderId]) this.ensureUser(m.senderId);
  }

  #noteUsers(users: readonly User[]): void {
    let changed = false;
    const next = { ...this.state.users };
    for (const u of users) {
      const cur = next[u.id];
      if (!cur || cur.displayName !== u.displayName || cur.statusText !== u.statusText) {
        next[u.id] = u;
        changed = true;
      }
    }
    if (!changed) return;
    const patch: Partial<State> = { users: next };
    const mine = next[this.state.me.id];
    if (mine && mine !== this.state.me) patch.me = mine;
    // Channel titles and member lists show names from the channel's members: keep them current.
    let channels: Record<string, Channel> | undefined;
    for (const c of Object.values(this.state.channels)) {
      if (!c.members.some((m) => next[m.id] !== this.state.users[m.id])) continue;
      channels ??= { ...this.state.channels };
      channels[c.id] = {
        ...c,
        members: c.members.map((m) => {
          const u = next[m.id];
          if (!u || u === this.state.users[m.id]) return m;
          const member = { ...m, displayName: u.displayName };
          if (u.statusText) member.statusText = u.statusText;
          else delete member.statusText;
          return member;
        }),
      };
    }
    if (channels) patch.channels = channels;
    this.#set(patch);
  }
}

// ---------- helpers (exported for tests) ----------

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

function mergeChannel(cur: Channel | undefined, fresh: Channel): Channel {
  if (!cur) return fresh;
  const lastMessage = newest(cur.lastMessage, fresh.lastMessage);
  const merged: Channel = { ...fresh };
  if (lastMessage) merged.lastMessage = lastMessage;
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

function maxId(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareIds(a, b) >= 0 ? a : b;
}

function stripMember(m: User & { role?: unknown; presence?: unknown }): User {
  const u: User = { id: m.id, username: m.username, displayName: m.displayName };
  if (m.statusText) u.statusText = m.statusText;
  return u;
}

function isVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState === 'visible';
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A display name for a channel as seen by `meId`. */
export function channelTitle(c: ChannelInfo, meId: string): string {
  if (c.kind === 'group') return c.name ?? c.members.map((m) => m.displayName).join(', ');
  const other = c.members.find((m) => m.id !== meId) ?? c.members[0];
  return other?.displayName || other?.username || '?';
}

/** The other member of a DM. */
export function dmPeer(c: ChannelInfo, meId: string): User | undefined {
  return c.kind === 'dm' ? (c.members.find((m) => m.id !== meId) ?? c.members[0]) : undefined;
}

export const maxTextLength = limits.maxTextCodePoints;
export type { Friend };
