/**
 * The app's state: one immutable snapshot replaced on every change (React reads it with
 * useSyncExternalStore), fed by REST calls and the live event stream of a Backend. The rules
 * that fold an input into the state live in `reducer.ts`; this class does the I/O around them
 * (requests, paging, timers) and carries out the effects the reducer asks for.
 */
import { compareIds, limits } from '@parley/protocol';
import type { ChannelInfo, Friend, Message, Presence, User } from '@parley/protocol';
import type { Backend, MessageChange } from './backend';
import {
  applyEvent,
  countUnread,
  emptyHistory,
  initialState,
  maxId,
  mergeMessages,
  withChannel,
  withChannelInfo,
  withMuted,
  withChannelList,
  withFriend,
  withFriendLists,
  withHistory,
  withMessage,
  withoutChannel,
  withRead,
  withUsers,
  type Applied,
  type EventContext,
  type History,
  type State,
} from './reducer';

export type { History, MemberNote, State } from './reducer';
export { mergeMessages, order } from './reducer';

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
    this.state = initialState(me, backend.connection(), backend.outbox());
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): State => this.state;

  #set(patch: Partial<State>): void {
    this.#replace({ ...this.state, ...patch });
  }

  #replace(next: State): void {
    if (this.#closed || next === this.state) return;
    this.state = next;
    this.#scheduleNotify();
  }

  /** Takes the reducer's new state and carries out the effects it asks for. */
  #commit({ state, effects }: Applied): void {
    this.#replace(state);
    for (const effect of effects) {
      switch (effect.type) {
        case 'markRead':
          this.backend.markRead(effect.channelId, effect.messageId);
          break;
        case 'reloadChannel':
          void this.#reloadChannel(effect.channelId);
          break;
        case 'removalSeen':
          this.#removing.delete(effect.userId);
          break;
      }
    }
  }

  #context(): EventContext {
    return { viewingLatest: this.#viewing && isVisible(), removing: this.#removing };
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
      b.on('event', (e) => this.#commit(applyEvent(this.state, e, this.#context()))),
      b.on('presence', (p) => this.#setPresence(p.userId, { status: p.status, lastSeenAt: p.lastSeenAt })),
      b.on('typing', (t) => this.#onTyping(t.channelId, t.userId)),
      b.on('read', (r) => this.#replace(withRead(this.state, r.channelId, r.userId, r.messageId))),
      b.on('user', (u) => this.#replace(withUsers(this.state, [u]))),
      b.on('connection', (connection) => {
        // Offline, we cannot know who is online: forget it rather than show a stale "Online".
        // The server sends everyone's presence again after the next `ready`.
        this.#set(connection === 'online' ? { connection } : { connection, presence: {} });
      }),
      b.on('outbox', (outbox) => this.#set({ outbox })),
      b.on('sent', (s) =>
        this.#commit(
          withMessage(
            this.state,
            {
              id: s.messageId,
              channelId: s.channelId,
              senderId: this.state.me.id,
              text: s.text,
              createdAt: s.createdAt,
              clientMsgId: s.clientMsgId,
            },
            this.#context(),
          ),
        ),
      ),
      b.on('ready', ({ resynced }) => {
        void this.refreshChannels();
        void this.refreshFriends();
        if (resynced) {
          // The position started over at this ready (none was stored, or the log no longer
          // covers it): history read before it may have gaps, so read it from REST again. The
          // open conversation stays on screen until its reload replaces it.
          const active = this.state.activeChannelId;
          const kept = active === undefined ? undefined : this.state.histories[active];
          this.#set({ histories: active === undefined || kept === undefined ? {} : { [active]: kept } });
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
    this.#replace(withChannelList(this.state, list));
  }

  async refreshFriends(): Promise<void> {
    const [friends, requests] = await Promise.all([
      this.backend.api.friends().catch(() => undefined),
      this.backend.api.friendRequests().catch(() => undefined),
    ]);
    this.#replace(withFriendLists(this.state, friends, requests));
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

  #setHistory(channelId: string, patch: Partial<History>): void {
    this.#replace(withHistory(this.state, channelId, patch));
  }

  /** Loads the newest page unless already loaded. */
  async openChannel(channelId: string): Promise<void> {
    const h = this.state.histories[channelId];
    if (h?.loaded || h?.loadingNewer) return;
    await this.loadLatest(channelId);
  }

  async loadLatest(channelId: string): Promise<void> {
    const token = this.#nextWindowToken(channelId);
    this.#setHistory(channelId, { loadingNewer: true, error: undefined, arrivedWhileLoading: [] });
    try {
      // hasMore, not the page's length, says whether more lie beyond: a page can stop at its byte budget.
      const { messages, hasMore } = await this.backend.api.historyPage(channelId, { limit: pageSize });
      if (this.#windowTokens.get(channelId) !== token) return;
      const arrived = this.history(channelId).arrivedWhileLoading ?? [];
      this.#setHistory(channelId, {
        messages: mergeMessages(mergeMessages([], messages), arrived),
        arrivedWhileLoading: undefined,
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
        this.#setHistory(channelId, {
          loadingNewer: false,
          error: describeError(error),
          arrivedWhileLoading: undefined,
        });
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
        this.#setHistory(channelId, {
          loadingNewer: false,
          error: describeError(error),
          arrivedWhileLoading: undefined,
        });
      }
      return false;
    }
  }

  // ---------- sending ----------

  send(channelId: string, text: string, replyToId?: string): void {
    this.backend.send(channelId, text, replyToId);
  }
  /** Edit, delete, react, unreact: the log events update the state. */
  changeMessage(change: MessageChange): void {
    this.backend.changeMessage(change);
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
    const unreadCount = last && compareIds(messageId, last) >= 0 ? 0 : countUnread(this.state, channelId, messageId);
    this.#replace(
      withChannel(this.state, {
        ...c,
        lastReadMessageId: maxId(c.lastReadMessageId, messageId)!,
        unreadCount,
        unreadMentionCount: Math.min(c.unreadMentionCount, unreadCount),
      }),
    );
    this.backend.markRead(channelId, messageId);
  }

  // ---------- people, friends, groups ----------

  async searchUsers(query: string): Promise<User[]> {
    const users = await this.backend.api.searchUsers(query);
    this.#replace(withUsers(this.state, users));
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
    this.#replace(withChannelInfo(this.state, channel, channel));
    return channel.id;
  }

  async createGroup(name: string, memberIds: string[]): Promise<string> {
    const channel = await this.backend.api.createGroup({ name, memberIds });
    this.#replace(withChannelInfo(this.state, channel, channel));
    return channel.id;
  }

  async addMember(channelId: string, userId: string): Promise<void> {
    const info = await this.backend.api.addMember(channelId, userId);
    if (info) this.#replace(withChannelInfo(this.state, info));
    else await this.#reloadChannel(channelId);
  }

  /** Members this user is removing: their `member.removed` note says "was removed". */
  readonly #removing = new Set<string>();

  async removeMember(channelId: string, userId: string): Promise<void> {
    if (userId !== this.state.me.id) this.#removing.add(userId);
    await this.backend.api.removeMember(channelId, userId);
    if (userId === this.state.me.id) this.#replace(withoutChannel(this.state, channelId));
    else await this.#reloadChannel(channelId);
  }

  async renameGroup(channelId: string, name: string): Promise<void> {
    const res = await this.backend.api.request<{ channel?: ChannelInfo } | undefined>(
      'PATCH',
      `/v1/channels/${encodeURIComponent(channelId)}`,
      { body: { name } },
    );
    if (res?.channel) this.#replace(withChannelInfo(this.state, res.channel));
    else await this.#reloadChannel(channelId);
  }

  /** Mutes or unmutes push notifications of a channel, for this user on every device. */
  async setMuted(channelId: string, muted: boolean): Promise<void> {
    await this.backend.api.request('PATCH', `/v1/channels/${encodeURIComponent(channelId)}/settings`, {
      body: { muted },
    });
    this.#replace(withMuted(this.state, channelId, muted));
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
    this.#replace(withFriend(this.state, friend.user, friend.presence));
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
      .then((u) => this.#replace(withUsers(this.state, [u])))
      .catch(() => undefined);
  }
  readonly #fetchingUsers = new Set<string>();

  // ---------- effects ----------

  async #reloadChannel(channelId: string): Promise<void> {
    try {
      const c = await this.backend.api.channel(channelId);
      this.#replace(withChannelInfo(this.state, c, c));
    } catch {
      // gone or forbidden: the member.removed event tidies up
    }
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
}

// ---------- helpers ----------

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
