/** Typed REST client for every endpoint of the public API v1. Errors are ChatError with the server's code. */
import { ChatError, compareIds, isErrorCode } from '@parley/protocol';
import type {
  AdminUser,
  AdminUserPage,
  AuthConfig,
  AuthResult,
  Block,
  Channel,
  ChannelInfo,
  ChannelPage,
  CreatedInvite,
  Device,
  ErrorCode,
  Friend,
  FriendRequest,
  GatewayInfo,
  HistoryPage,
  Invite,
  MentionsPage,
  MeResult,
  Message,
  Presence,
  PushConfig,
  PushSettings,
  SearchPage,
  ServerStats,
  SyncPage,
  User,
  UserRole,
} from '@parley/protocol';

/** The subset of `fetch` the SDK uses; the global one in browsers and Node 20. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{
  status: number;
  ok: boolean;
  text(): Promise<string>;
}>;

export interface ApiOptions {
  /** Server origin, e.g. "https://chat.example.com" or "http://127.0.0.1:8080". */
  baseUrl: string;
  token?: string;
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Per-request timeout; a timed-out request fails with code `unavailable`. Default 15 s. */
  timeoutMs?: number;
}

export interface SignupInput {
  username: string;
  password: string;
  displayName?: string;
  deviceName?: string;
  /** Needed when the server's sign-up mode is `invite` (GET /v1/auth/config). */
  inviteCode?: string;
}
export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
  /** Keep your other devices signed in (by default they are signed out). */
  keepOtherDevices?: boolean;
}
export interface AdminUserQuery {
  query?: string;
  after?: string;
  limit?: number;
}
export interface LoginInput {
  username: string;
  password: string;
  deviceName?: string;
}
export interface ProfilePatch {
  displayName?: string;
  statusText?: string;
}
/** At most one of before, after and around. */
export interface HistoryQuery {
  before?: string;
  after?: string;
  around?: string;
  limit?: number;
}

type Query = Record<string, string | number | undefined>;

export class ParleyApi {
  readonly baseUrl: string;
  token: string | undefined;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(options: ApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    // Browsers reject a fetch called with another `this` ("Illegal invocation"): bind it.
    const fetchImpl = options.fetch ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
    if (!fetchImpl) throw new Error('no fetch available: pass options.fetch');
    this.#fetch = fetchImpl;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  // ---- auth and profile ----
  signup(input: SignupInput): Promise<AuthResult> {
    return this.request('POST', '/v1/auth/signup', { body: input, auth: false });
  }
  login(input: LoginInput): Promise<AuthResult> {
    return this.request('POST', '/v1/auth/login', { body: input, auth: false });
  }
  async logout(): Promise<void> {
    await this.request('POST', '/v1/auth/logout');
  }
  async me(): Promise<User> {
    return (await this.request<{ user: User }>('GET', '/v1/me')).user;
  }
  async updateMe(patch: ProfilePatch): Promise<User> {
    return (await this.request<{ user: User }>('PATCH', '/v1/me', { body: patch })).user;
  }
  async user(userId: string): Promise<User> {
    return (await this.request<{ user: User }>('GET', `/v1/users/${enc(userId)}`)).user;
  }
  async searchUsers(query: string, limit?: number): Promise<User[]> {
    return (await this.request<{ users: User[] }>('GET', '/v1/users', { query: { query, limit } })).users;
  }
  /** Current presence of up to 500 users (for large groups, whose changes are not pushed). */
  async presence(userIds: readonly string[]): Promise<({ userId: string } & Presence)[]> {
    return (
      await this.request<{ presence: ({ userId: string } & Presence)[] }>('GET', '/v1/presence', {
        query: { userIds: userIds.join(',') },
      })
    ).presence;
  }

  // ---- accounts: sign-up mode, your account, devices, blocks, invites ----
  /** Who may sign up here (no sign-in needed). */
  authConfig(): Promise<AuthConfig> {
    return this.request('GET', '/v1/auth/config', { auth: false });
  }
  /** Your profile and your server-wide role. */
  account(): Promise<MeResult> {
    return this.request('GET', '/v1/me');
  }
  /** Other devices are signed out unless `keepOtherDevices`. */
  async changePassword(input: PasswordChange): Promise<void> {
    await this.request('POST', '/v1/me/password', { body: input });
  }
  async devices(): Promise<Device[]> {
    return (await this.request<{ devices: Device[] }>('GET', '/v1/me/devices')).devices;
  }
  async signOutDevice(deviceId: string): Promise<void> {
    await this.request('DELETE', `/v1/me/devices/${enc(deviceId)}`);
  }
  async signOutOtherDevices(): Promise<void> {
    await this.request('POST', '/v1/me/devices/sign-out-others');
  }
  /** Deletes your account for good (asks for your password). */
  async deleteAccount(password: string): Promise<void> {
    await this.request('DELETE', '/v1/me', { body: { password } });
  }
  /** Your data (profile, devices, friends, blocks, every message you sent) as JSON text. */
  exportData(): Promise<string> {
    return this.request('GET', '/v1/me/export', { raw: true });
  }
  async blocks(): Promise<Block[]> {
    return (await this.request<{ blocks: Block[] }>('GET', '/v1/me/blocks')).blocks;
  }
  async block(userId: string): Promise<void> {
    await this.request('PUT', `/v1/me/blocks/${enc(userId)}`);
  }
  async unblock(userId: string): Promise<void> {
    await this.request('DELETE', `/v1/me/blocks/${enc(userId)}`);
  }
  createInvite(options: { expiresInHours?: number; maxUses?: number } = {}): Promise<CreatedInvite> {
    return this.request('POST', '/v1/invites', { body: options });
  }
  async invites(): Promise<Invite[]> {
    return (await this.request<{ invites: Invite[] }>('GET', '/v1/invites')).invites;
  }
  async revokeInvite(inviteId: string): Promise<void> {
    await this.request('DELETE', `/v1/invites/${enc(inviteId)}`);
  }

  // ---- administration (administrators only; everyone else gets `forbidden`) ----
  adminUsers(query: AdminUserQuery = {}): Promise<AdminUserPage> {
    return this.request('GET', '/v1/admin/users', { query: { ...query } });
  }
  async adminCreateUser(input: {
    username: string;
    password: string;
    displayName?: string;
    role?: UserRole;
  }): Promise<AdminUser> {
    return (await this.request<{ user: AdminUser }>('POST', '/v1/admin/users', { body: input })).user;
  }
  async adminUpdateUser(userId: string, patch: { role?: UserRole; deactivated?: boolean }): Promise<AdminUser> {
    return (await this.request<{ user: AdminUser }>('PATCH', `/v1/admin/users/${enc(userId)}`, { body: patch })).user;
  }
  async adminResetPassword(userId: string, newPassword: string): Promise<void> {
    await this.request('POST', `/v1/admin/users/${enc(userId)}/password`, { body: { newPassword } });
  }
  async adminDeleteUser(userId: string): Promise<void> {
    await this.request('DELETE', `/v1/admin/users/${enc(userId)}`);
  }
  adminStats(days?: number): Promise<ServerStats> {
    return this.request('GET', '/v1/admin/stats', { query: { days } });
  }

  // ---- friends ----
  async sendFriendRequest(userId: string): Promise<FriendRequest> {
    return (await this.request<{ request: FriendRequest }>('POST', '/v1/friends/requests', { body: { userId } }))
      .request;
  }
  friendRequests(): Promise<{ incoming: FriendRequest[]; outgoing: FriendRequest[] }> {
    return this.request('GET', '/v1/friends/requests');
  }
  async acceptFriendRequest(requestId: string): Promise<Friend> {
    return (await this.request<{ friend: Friend }>('POST', `/v1/friends/requests/${enc(requestId)}/accept`)).friend;
  }
  async declineFriendRequest(requestId: string): Promise<void> {
    await this.request('DELETE', `/v1/friends/requests/${enc(requestId)}`);
  }
  async friends(): Promise<Friend[]> {
    return (await this.request<{ friends: Friend[] }>('GET', '/v1/friends')).friends;
  }
  async removeFriend(userId: string): Promise<void> {
    await this.request('DELETE', `/v1/friends/${enc(userId)}`);
  }

  // ---- channels ----
  /** The DM channel with `userId`; the same pair always gets the same channel. */
  async openDm(userId: string): Promise<Channel> {
    return (await this.request<{ channel: Channel }>('POST', '/v1/dms', { body: { userId } })).channel;
  }
  async createGroup(input: { name: string; memberIds: string[] }): Promise<Channel> {
    return (await this.request<{ channel: Channel }>('POST', '/v1/groups', { body: input })).channel;
  }
  /**
   * Every channel you are in, most recent activity first, read page by page. A `lastMessage`
   * with `textTruncated` carries only a preview of its text, for a list; never show it as the
   * message (history and `message.created` carry the whole text).
   */
  async channels(): Promise<Channel[]> {
    const byId = new Map<string, Channel>();
    let newestRead: string | undefined;
    let pages = 0;
    for (let before: string | undefined; ; pages++) {
      const page = await this.channelPage(before === undefined ? {} : { before });
      for (const channel of page.channels) byId.set(channel.id, channel);
      newestRead ??= page.channels[0] && activityOf(page.channels[0]);
      if (!page.hasMore || page.nextBefore === undefined) break;
      before = page.nextBefore;
    }
    // A channel that gained a message while the later pages were read moved ahead of the first
    // one: read the front again, up to where the first read began.
    for (let before: string | undefined; pages > 0 && newestRead !== undefined;) {
      const page = await this.channelPage(before === undefined ? {} : { before });
      const moved = page.channels.filter((c) => compareIds(activityOf(c), newestRead!) > 0);
      for (const channel of moved) byId.set(channel.id, channel);
      if (moved.length < page.channels.length || !page.hasMore || page.nextBefore === undefined) break;
      before = page.nextBefore;
    }
    return [...byId.values()].sort((a, b) => compareIds(activityOf(b), activityOf(a)));
  }
  /** One page of your channels: pass a page's `nextBefore` as `before` for the next. */
  async channelPage(query: { before?: string; limit?: number } = {}): Promise<ChannelPage> {
    const { before, limit } = query;
    return this.request<ChannelPage>('GET', '/v1/channels', { query: { before, limit } });
  }
  async channel(channelId: string): Promise<Channel> {
    return (await this.request<{ channel: Channel }>('GET', `/v1/channels/${enc(channelId)}`)).channel;
  }
  /** Renames a group (owner/admin). */
  async renameGroup(channelId: string, name: string): Promise<ChannelInfo> {
    return (await this.request<{ channel: ChannelInfo }>('PATCH', `/v1/channels/${enc(channelId)}`, { body: { name } }))
      .channel;
  }
  /** Adds a member to a group; resolves to the updated channel. */
  async addMember(channelId: string, userId: string): Promise<ChannelInfo> {
    return (
      await this.request<{ channel: ChannelInfo }>('POST', `/v1/channels/${enc(channelId)}/members`, {
        body: { userId },
      })
    ).channel;
  }
  /** Makes a member admin or plain member (owner only). */
  async setMemberRole(channelId: string, userId: string, role: 'admin' | 'member'): Promise<ChannelInfo> {
    return (
      await this.request<{ channel: ChannelInfo }>('PATCH', `/v1/channels/${enc(channelId)}/members/${enc(userId)}`, {
        body: { role },
      })
    ).channel;
  }
  /** Removes a member (owner/admin), or leaves when `userId` is yourself. */
  async removeMember(channelId: string, userId: string): Promise<void> {
    await this.request('DELETE', `/v1/channels/${enc(channelId)}/members/${enc(userId)}`);
  }
  /** A page of history in ascending id order. */
  async messages(channelId: string, query: HistoryQuery = {}): Promise<Message[]> {
    const { before, after, around, limit } = query;
    return (
      await this.request<{ messages: Message[] }>('GET', `/v1/channels/${enc(channelId)}/messages`, {
        query: { before, after, around, limit },
      })
    ).messages;
  }
  /**
   * A page of history in ascending id order, with `hasMore`: a page can end before `limit`
   * (its byte budget), so only `hasMore: false` means there is nothing further that way.
   */
  async historyPage(channelId: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    const { before, after, around, limit } = query;
    return this.request<HistoryPage>('GET', `/v1/channels/${enc(channelId)}/messages`, {
      query: { before, after, around, limit },
    });
  }
  /** Sends over HTTP (same pipeline and idempotency as the socket). Prefer `ParleyClient.send`. */
  async postMessage(
    channelId: string,
    input: { text: string; clientMsgId: string; replyToId?: string },
  ): Promise<Message> {
    return (
      await this.request<{ message: Message }>('POST', `/v1/channels/${enc(channelId)}/messages`, { body: input })
    ).message;
  }
  /** The sender edits a message (sending the same text again changes nothing). Prefer `ParleyClient.edit`. */
  async editMessage(channelId: string, messageId: string, text: string): Promise<Message> {
    return (
      await this.request<{ message: Message }>('PATCH', `/v1/channels/${enc(channelId)}/messages/${enc(messageId)}`, {
        body: { text },
      })
    ).message;
  }
  /** Deletes a message (a tombstone stays); deleting it again changes nothing. Prefer `ParleyClient.delete`. */
  async deleteMessage(channelId: string, messageId: string): Promise<void> {
    await this.request('DELETE', `/v1/channels/${enc(channelId)}/messages/${enc(messageId)}`);
  }
  /** Adds (`add`) or takes back this user's emoji on a message; idempotent. Prefer `ParleyClient.react`. */
  async setReaction(channelId: string, messageId: string, emoji: string, add: boolean): Promise<Message> {
    return (
      await this.request<{ message: Message }>(
        add ? 'PUT' : 'DELETE',
        `/v1/channels/${enc(channelId)}/messages/${enc(messageId)}/reactions/${enc(emoji)}`,
      )
    ).message;
  }
  async markRead(channelId: string, messageId: string): Promise<void> {
    await this.request('POST', `/v1/channels/${enc(channelId)}/read`, { body: { messageId } });
  }

  // ---- search and mentions ----
  /**
   * Messages matching every word of `q` in your channels (or in `channelId`), newest first, each
   * with its highlighted ranges. Pass the last result's message id as `before` for the next page.
   */
  async search(q: string, query: { channelId?: string; before?: string; limit?: number } = {}): Promise<SearchPage> {
    const { channelId, before, limit } = query;
    return this.request<SearchPage>('GET', '/v1/search', { query: { q, channelId, before, limit } });
  }
  /** Messages that mention you, in channels you are still in, newest first. */
  async mentions(query: { before?: string; limit?: number } = {}): Promise<MentionsPage> {
    const { before, limit } = query;
    return this.request<MentionsPage>('GET', '/v1/mentions', { query: { before, limit } });
  }
  // ---- push notifications (mute, previews, registrations) ----
  /** Mutes or unmutes a channel's push notifications for this user (all devices; mentions still notify). */
  async setChannelMuted(channelId: string, muted: boolean): Promise<void> {
    await this.request('PATCH', `/v1/channels/${enc(channelId)}/settings`, { body: { muted } });
  }
  pushConfig(): Promise<PushConfig> {
    return this.request('GET', '/v1/push/config');
  }
  pushSettings(): Promise<PushSettings> {
    return this.request('GET', '/v1/push/settings');
  }
  setPushSettings(settings: PushSettings): Promise<PushSettings> {
    return this.request('PATCH', '/v1/push/settings', { body: settings });
  }
  /** Registers this device: a Web Push subscription, or a phone's APNs / FCM token. */
  async registerPush(
    registration:
      { endpoint: string; keys: { p256dh: string; auth: string } } | { provider: 'apns' | 'fcm'; token: string },
  ): Promise<void> {
    await this.request('POST', '/v1/push/subscriptions', { body: registration });
  }
  async unregisterPush(which: { endpoint: string } | { provider: 'apns' | 'fcm'; token: string }): Promise<void> {
    await this.request('DELETE', '/v1/push/subscriptions', { body: which });
  }

  // ---- sync and discovery ----
  /** The update log after `since`. Fails with `resync_required` when that part was trimmed. */
  sync(since: number, limit?: number): Promise<SyncPage> {
    return this.request('GET', '/v1/sync', { query: { since, limit } });
  }
  gateway(): Promise<GatewayInfo> {
    return this.request('GET', '/v1/gateway');
  }

  /** Any call; resolves to the parsed JSON body (undefined for 204). */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; auth?: boolean; raw?: boolean } = {},
  ): Promise<T> {
    let url = this.baseUrl + path;
    if (options.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(options.query)) {
        if (value !== undefined) params.set(key, String(value));
      }
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;

    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timer = setTimeout(() => controller?.abort(), this.#timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await this.#fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: controller?.signal,
      });
      status = res.status;
      text = await res.text();
    } catch (cause) {
      throw new ChatError('unavailable', `${method} ${path} failed: ${describe(cause)}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    if (options.raw && status >= 200 && status < 300) return text as T;
    const body = parseJson(text);
    if (status >= 200 && status < 300) return body as T;
    throw errorFromResponse(status, body, `${method} ${path}`);
  }
}

/** Maps an HTTP error response to a ChatError, keeping the server's code when it sends one. */
export function errorFromResponse(status: number, body: unknown, what: string): ChatError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const message = typeof error?.message === 'string' ? error.message : `${what}: HTTP ${status}`;
  const code: ErrorCode = isErrorCode(error?.code) ? error.code : codeForStatus(status);
  return new ChatError(code, message);
}

/** A ChatError for a code that arrived on the socket (unknown codes become `internal`). */
export function errorFromCode(code: string, message: string): ChatError {
  return new ChatError(isErrorCode(code) ? code : 'internal', message);
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 410:
      return 'resync_required';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return 'internal';
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Where a channel stands in the list: its last message, or its creation while it has none. */
function activityOf(channel: Channel): string {
  return channel.lastMessage?.id ?? channel.id;
}
