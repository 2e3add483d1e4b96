/**
 * ParleyClient: one object per device, a small facade over three parts:
 * - the Connection (connection.ts): discovery, socket, hello, heartbeats, reconnects by the
 *   close-code table;
 * - the SyncEngine (sync-engine.ts): the log position, gap fills over GET /v1/sync, persistence;
 * - the SessionKeeper (session.ts): login, signup, resume, logout;
 * plus the outbox (outbox.ts). It turns what they report into the typed events below.
 *
 * Guarantees, given a server that keeps the v1 contract:
 * - every event of the user's log is applied once, in seq order (duplicates dropped, gaps
 *   filled over GET /v1/sync), and the applied seq is persisted after each event;
 * - `message` fires at most once per message id within a run;
 * - a message handed to `send` is retried with the same clientMsgId until the server acks it
 *   or refuses it for good, across reconnects and (with a persistent storage) restarts;
 * - only `unauthorized` (close 4001, HTTP 401) ends the session; every other failure is retried.
 */
import { ChatError } from '@parley/protocol';
import type {
  AuthResult,
  MentionsPage,
  Message,
  PresenceStatus,
  ReadyFrame,
  SearchPage,
  ServerFrame,
  SyncEvent,
  User,
} from '@parley/protocol';
import { ParleyApi, errorFromCode } from './api.js';
import type { FetchLike, LoginInput, SignupInput } from './api.js';
import type { BackoffOptions } from './backoff.js';
import { Connection } from './connection.js';
import type { ConnectionState, NetworkEvents } from './connection.js';
import { Emitter } from './emitter.js';
import type { Listener, Observable } from './emitter.js';
import { ChangeQueue } from './changes.js';
import type { MessageChangeKind, PendingChange } from './changes.js';
import { Outbox } from './outbox.js';
import type { OutboxMessage } from './outbox.js';
import { RecentIds } from './seq-tracker.js';
import { SessionKeeper } from './session.js';
import type { Session } from './session.js';
import { KeyWriter, MemoryStorage } from './storage.js';
import type { ClientStorage } from './storage.js';
import { SyncEngine, type StartedOver } from './sync-engine.js';
import type { WebSocketFactory } from './transport.js';

export type { ConnectionState, NetworkEvents } from './connection.js';
export type { Session } from './session.js';

export interface PresenceUpdate {
  userId: string;
  status: PresenceStatus;
  lastSeenAt?: string;
}

export interface ReadUpdate {
  channelId: string;
  userId: string;
  messageId: string;
}

export interface TypingUpdate {
  channelId: string;
  userId: string;
}

export type ChannelEvent = Extract<
  SyncEvent,
  { type: 'channel.created' | 'channel.updated' | 'member.added' | 'member.removed' }
>;
export type FriendEvent = Extract<SyncEvent, { type: 'friend.requested' | 'friend.added' | 'friend.removed' }>;
export type ReactionEvent = Extract<SyncEvent, { type: 'reaction.added' | 'reaction.removed' }>;

export interface ClientEvents {
  /** A message in any of the user's channels (others' and this user's own, from every device), once per id. */
  message: Message;
  /** Someone's read cursor moved (this user's other devices, the peer in a DM, a member of a group). */
  read: ReadUpdate;
  presence: PresenceUpdate;
  typing: TypingUpdate;
  /** Channel created/updated, member added/removed. */
  channel: ChannelEvent;
  /** Friend request received, friend added/removed. */
  friend: FriendEvent;
  /** A user's profile changed (this user's, a friend's, a DM partner's or a group co-member's). */
  user: User;
  /**
   * A message was edited or deleted (a tombstone: `deletedAt`, text ''): the whole message as
   * it is now; replace yours by id (replaceMessage). May repeat: replacing twice changes nothing.
   */
  messageChanged: Message;
  /** Someone added or took back an emoji: apply it with applyReaction (idempotent). */
  reaction: ReactionEvent;
  /** A queued edit, delete or reaction changed state (added as pending, then done or failed). */
  change: PendingChange;
  /** This user blocked or unblocked someone (on this device or another). */
  block: { userId: string; blocked: boolean };
  /** Every applied log event, after the typed event above. */
  event: SyncEvent;
  /** An outbox message changed state (pending -> sent | failed, failed -> pending). */
  outbox: OutboxMessage;
  state: ConnectionState;
  ready: ReadyFrame;
  /**
   * The device's position in the log started over at `seq`: reload channels and recent history
   * from REST (what was read before may lack messages committed up to `seq`). `reason` is `new`
   * when the device connected with no position (a session from `useSession` with none stored;
   * `signup` and `login` give one), `lost` when the server no longer covered the position
   * (trimmed from the log, or the server was restored from a backup).
   */
  resync: { seq: number; reason: StartedOver };
  /**
   * A problem worth showing. Only `unauthorized` ends the session (log in again); the client then
   * stops. Anything else (e.g. `unavailable` while the server's storage is down) is retried by
   * the client itself, and the session is kept.
   */
  error: ChatError;
}

export interface ClientOptions {
  /** Server origin, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** Where session, seq and outbox live. Default: memory (nothing survives a restart). */
  storage?: ClientStorage;
  /** Creates sockets. Default: the global WebSocket; "@parley/client/node" passes `ws`. */
  webSocket?: WebSocketFactory;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Per HTTP request. Default 15 s. */
  requestTimeoutMs?: number;
  /** Reconnect backoff. Default 250 ms doubling to 5 s, half jittered. */
  backoff?: BackoffOptions;
  /**
   * Where "the network is back" comes from: an `online` event there reconnects at once instead
   * of waiting out the backoff. Default: the global scope when it has addEventListener (browsers).
   */
  network?: NetworkEvents;
  /** Ping interval; default: what the server says in `ready`. */
  heartbeatMs?: number;
  /** A socket with no frame this long after a ping is dead. Default: 2 x heartbeat, at least 1 s. */
  pongTimeoutMs?: number;
  /** From opening the socket to `ready`. Default 10 s. */
  connectTimeoutMs?: number;
  /** How long to wait for a replay to catch up with `ready.seq` before fetching /v1/sync. Default 1 s. */
  catchUpTimeoutMs?: number;
  /** Sent at login/signup. */
  deviceName?: string;
  /** Errors thrown by event listeners or the storage. Default: rethrown asynchronously. */
  onInternalError?: (error: unknown) => void;
}

/** The server refuses WebSocket frames above 1 MiB. */
const MAX_FRAME_BYTES = 1024 * 1024;
const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;
const seqKey = (userId: string) => `seq.${userId}`;
const outboxKey = (userId: string) => `outbox.${userId}`;
const changesKey = (userId: string) => `changes.${userId}`;

export class ParleyClient {
  readonly api: ParleyApi;
  readonly #storage: ClientStorage;
  readonly #events: Emitter<ClientEvents>;
  readonly #seen = new RecentIds(20_000);
  readonly #presence = new Map<string, PresenceUpdate>();
  readonly #reportError: (error: unknown) => void;
  readonly #outbox: Outbox;
  readonly #session: SessionKeeper;
  readonly #connection: Connection;
  readonly #sync: SyncEngine;
  #outboxWriter: KeyWriter | undefined;
  readonly #changes = new ChangeQueue();
  #changesWriter: KeyWriter | undefined;
  #changeTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The next ready's `resync` event, when that ready started the position over. */
  #startedOverAtReady: StartedOver | undefined;
  readonly #typingSentAt = new Map<string, number>();
  /** Why the connection stopped by itself (a `stop` close code or `unauthorized`), if it did. */
  #stoppedBy: ChatError | undefined;

  constructor(options: ClientOptions) {
    this.#reportError =
      options.onInternalError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
    this.#events = new Emitter<ClientEvents>(this.#reportError);
    this.#storage = options.storage ?? new MemoryStorage();
    this.api = new ParleyApi({ baseUrl: options.baseUrl, fetch: options.fetch, timeoutMs: options.requestTimeoutMs });
    this.#session = new SessionKeeper(this.api, this.#storage, options.deviceName, this.#reportError);
    this.#outbox = new Outbox({ onChange: (m) => this.#events.emit('outbox', m) });
    this.#connection = new Connection(
      {
        discover: () => this.api.gateway(),
        webSocket: options.webSocket,
        backoff: options.backoff,
        heartbeatMs: options.heartbeatMs,
        pongTimeoutMs: options.pongTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        network: options.network,
      },
      {
        hello: () => {
          const token = this.#session.token;
          if (token === undefined) return undefined;
          const since = this.#sync.helloSince();
          return since === undefined ? { op: 'hello', token } : { op: 'hello', token, since };
        },
        ready: (frame) => {
          this.#startedOverAtReady = this.#sync.ready(frame.seq);
        },
        online: (frame) => this.#onOnline(frame),
        frame: (frame, ready) => this.#onFrame(frame, ready),
        lost: () => {
          this.#sync.linkLost();
          this.#outbox.connectionLost();
          clearTimeout(this.#retryTimer);
        },
        stopped: (error) => {
          this.#stoppedBy = error;
          this.#events.emit('error', error);
        },
      },
    );
    this.#sync = new SyncEngine(
      { sync: (since, limit) => this.api.sync(since, limit), catchUpTimeoutMs: options.catchUpTimeoutMs },
      {
        deliver: (event) => this.#apply(event),
        restart: () => this.#connection.restart(),
        unauthorized: (error) => this.#connection.fail(error),
        resynced: (seq) => this.#events.emit('resync', { seq, reason: 'lost' }),
        running: () => this.#connection.running,
        live: () => this.#connection.ready,
      },
    );
    let initial = true;
    this.#connection.state.subscribe((state) => {
      if (!initial) this.#events.emit('state', state);
      initial = false;
    });
  }

  // ---------------------------------------------------------------- session

  /** Creates an account and logs this device in. */
  async signup(input: SignupInput): Promise<AuthResult> {
    return this.#newDevice(await this.#session.signup(input));
  }

  /** Logs in as a new device of an existing account. */
  async login(input: LoginInput): Promise<AuthResult> {
    return this.#newDevice(await this.#session.login(input));
  }

  /** A device just created: its session, starting where the log stood then (AuthResult.seq). */
  async #newDevice({ result, session }: { result: AuthResult; session: Session }): Promise<AuthResult> {
    await this.useSession(session);
    this.#sync.startAt(result.seq);
    return result;
  }

  /** Picks up the session saved by a previous run (with its seq and outbox). Undefined if none. */
  async resume(): Promise<Session | undefined> {
    const session = await this.#session.stored();
    if (session === undefined) return undefined;
    await this.useSession(session);
    return session;
  }

  /** Uses a known token (e.g. from your own login flow); loads that user's seq and outbox. */
  async useSession(session: Session): Promise<void> {
    if (this.#connection.running) throw new Error('close() the client before switching sessions');
    this.#session.use(session);
    const [seqRaw, outboxRaw, changesRaw] = await Promise.all([
      this.#storage.get(seqKey(session.userId)),
      this.#storage.get(outboxKey(session.userId)),
      this.#storage.get(changesKey(session.userId)),
    ]);
    const seq = seqRaw === undefined ? undefined : Number(seqRaw);
    this.#sync.use(
      Number.isSafeInteger(seq) ? seq : undefined,
      new KeyWriter(this.#storage, seqKey(session.userId), this.#reportError),
    );
    this.#outboxWriter = new KeyWriter(this.#storage, outboxKey(session.userId), this.#reportError);
    this.#outbox.clear();
    this.#seen.clear();
    if (outboxRaw) {
      try {
        this.#outbox.restore(JSON.parse(outboxRaw) as OutboxMessage[]);
      } catch (error) {
        this.#reportError(error);
      }
    }
    this.#changesWriter = new KeyWriter(this.#storage, changesKey(session.userId), this.#reportError);
    this.#changes.clear();
    if (changesRaw) {
      try {
        this.#changes.restore(JSON.parse(changesRaw) as PendingChange[]);
      } catch (error) {
        this.#reportError(error);
      }
    }
  }

  /** Revokes this device's token on the server and forgets the session, seq and outbox here. */
  async logout(): Promise<void> {
    const hadSession = this.#session.current !== undefined;
    const failure = await this.#session.revoke();
    await this.close();
    this.#outbox.clear();
    this.#changes.clear();
    this.#session.erase();
    if (hadSession) {
      this.#sync.forget();
      this.#outboxWriter?.set(undefined);
      this.#changesWriter?.set(undefined);
    }
    await this.flush();
    this.#session.forget();
    this.#sync.detach();
    if (failure) throw failure;
  }

  get session(): Session | undefined {
    return this.#session.current;
  }

  get userId(): string | undefined {
    return this.#session.userId;
  }

  // ---------------------------------------------------------------- events and state

  on<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(type, listener);
  }

  once<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.once(type, listener);
  }

  off<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): void {
    this.#events.off(type, listener);
  }

  /** The connection state, for a status indicator. */
  get connection(): Observable<ConnectionState> {
    return this.#connection.state;
  }

  get state(): ConnectionState {
    return this.#connection.state.value;
  }

  /** Highest seq applied from the user's update log (undefined before the first `ready`). */
  get seq(): number | undefined {
    return this.#sync.applied;
  }

  /** Last known presence of a user (from presence frames since this run started). */
  presenceOf(userId: string): PresenceUpdate | undefined {
    return this.#presence.get(userId);
  }

  /** Pending and failed messages, oldest first. */
  get outbox(): OutboxMessage[] {
    return this.#outbox.list();
  }

  // ---------------------------------------------------------------- connection

  /**
   * Starts connecting and keeps the connection up until `close()`. Resolves when online
   * (waits through any number of retries); rejects on a terminal error such as `unauthorized`,
   * or when the client is closed first. Leaving the promise unawaited is safe: terminal errors
   * are emitted as `error` events too.
   */
  connect(): Promise<void> {
    if (!this.#session.current) return Promise.reject(new ChatError('unauthorized', 'log in before connecting'));
    this.#stoppedBy = undefined;
    return this.#connection.start();
  }

  /**
   * Drops the current socket and reconnects at once (e.g. a "Retry now" button). After a close
   * code that says "do not reconnect until the user acts" this is the user acting, and it starts
   * again; after `unauthorized` (log in again) or `close()` it does nothing.
   */
  reconnect(): void {
    const stoppedBy = this.#stoppedBy;
    if (!this.#connection.running && stoppedBy !== undefined && stoppedBy.code !== 'unauthorized') {
      void this.connect().catch(() => {}); // failures arrive as `error` events
      return;
    }
    this.#connection.reconnect();
  }

  /** Stops: closes the socket, cancels timers and waits for storage writes. Keeps the session. */
  async close(): Promise<void> {
    this.#stoppedBy = undefined;
    this.#connection.close();
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#changeTimer);
    this.#sync.stop();
    await this.flush();
  }

  /** Resolves when every storage write so far has completed. */
  async flush(): Promise<void> {
    await Promise.all([
      this.#session.flush(),
      this.#sync.flush(),
      this.#outboxWriter?.flush(),
      this.#changesWriter?.flush(),
    ]);
  }

  #onOnline(frame: ReadyFrame): void {
    this.#events.emit('ready', frame);
    const reason = this.#startedOverAtReady;
    this.#startedOverAtReady = undefined;
    if (reason !== undefined) this.#events.emit('resync', { seq: frame.seq, reason });
    this.#drainOutbox();
    this.#drainChanges();
    this.#sync.checkGap();
  }

  #onFrame(frame: ServerFrame, ready: boolean): void {
    switch (frame.op) {
      case 'ready':
        return; // the connection handles it
      case 'event': {
        if (!ready) return;
        const { op: _op, ...event } = frame;
        this.#sync.offerLive(event as SyncEvent);
        return;
      }
      case 'ack':
        if (this.#outbox.ack(frame.clientMsgId, frame.messageId, frame.createdAt)) this.#persistOutbox();
        return;
      case 'error':
        this.#onErrorFrame(ready, frame.code, frame.message, frame.clientMsgId);
        return;
      case 'presence': {
        const update: PresenceUpdate = { userId: frame.userId, status: frame.status };
        if (frame.lastSeenAt !== undefined) update.lastSeenAt = frame.lastSeenAt;
        this.#presence.set(frame.userId, update);
        this.#events.emit('presence', update);
        return;
      }
      case 'typing':
        this.#events.emit('typing', { channelId: frame.channelId, userId: frame.userId });
        return;
      case 'read':
        // Ephemeral: a group member moved their read cursor (not in the log, so no seq).
        this.#events.emit('read', { channelId: frame.channelId, userId: frame.userId, messageId: frame.messageId });
        return;
      case 'pong': {
        // The log head: above the applied seq means an event was lost on the way; fill from /v1/sync.
        // (Servers before the head was added send a bare pong.)
        const head: unknown = frame.seq;
        if (typeof head === 'number' && ready) this.#sync.noteHead(head);
        return;
      }
    }
  }

  #onErrorFrame(ready: boolean, code: string, message: string, clientMsgId: string | undefined): void {
    const error = errorFromCode(code, message);
    if (clientMsgId !== undefined) {
      const result = this.#outbox.reject(clientMsgId, error);
      if (!result) return;
      if (result.state === 'failed') this.#persistOutbox();
      else this.#scheduleRetry();
      return;
    }
    switch (error.code) {
      case 'resync_required':
        this.#sync.resyncRequired();
        return;
      case 'unauthorized':
        this.#connection.fail(error);
        return;
      default:
        if (!ready) return; // the close that follows decides
        this.#events.emit('error', error);
    }
  }

  // ---------------------------------------------------------------- sync

  #apply(event: SyncEvent): void {
    switch (event.type) {
      case 'message.created': {
        const message = event.message;
        if (
          message.senderId === this.#session.userId &&
          message.clientMsgId !== undefined &&
          this.#outbox.ack(message.clientMsgId, message.id, message.createdAt)
        ) {
          // The ack was lost (e.g. the socket died right after the commit): the log tells us instead.
          this.#persistOutbox();
        }
        if (this.#seen.add(message.id)) this.#events.emit('message', message);
        break;
      }
      case 'read.updated':
        this.#events.emit('read', { channelId: event.channelId, userId: event.userId, messageId: event.messageId });
        break;
      case 'channel.created':
      case 'channel.updated':
      case 'member.added':
      case 'member.removed':
        this.#events.emit('channel', event);
        break;
      case 'friend.requested':
      case 'friend.added':
      case 'friend.removed':
        this.#events.emit('friend', event);
        break;
      case 'user.updated':
        this.#events.emit('user', event.user);
        break;
      case 'message.updated':
      case 'message.deleted':
        this.#events.emit('messageChanged', event.message);
        break;
      case 'reaction.added':
      case 'reaction.removed':
        this.#events.emit('reaction', event);
        break;
      case 'user.blocked':
      case 'user.unblocked':
        this.#events.emit('block', { userId: event.userId, blocked: event.type === 'user.blocked' });
        break;
      case 'channel.settings.updated':
        // This user muted or unmuted a channel (maybe on another device): the `event` below carries it.
        break;
    }
    this.#events.emit('event', event);
  }

  /** Fetches and applies everything in the log after the current position (e.g. on app focus). */
  syncNow(): Promise<void> {
    return this.#sync.syncNow();
  }

  // ---------------------------------------------------------------- outbox

  /**
   * Queues a message and returns it at once as `pending` (or `failed` if the text breaks a
   * limit). It goes out as soon as the client is online and is retried with the same
   * clientMsgId until the server acks it; watch the `outbox` event for `sent`/`failed`.
   */
  send(channelId: string, text: string, options: { replyToId?: string } = {}): OutboxMessage {
    if (!this.#session.current) throw new ChatError('unauthorized', 'log in before sending');
    const message = this.#outbox.add(channelId, text, undefined, options.replyToId);
    this.#persistOutbox();
    this.#events.emit('outbox', message);
    this.#drainOutbox();
    return message;
  }

  /** Sends `text` as an answer to `replyToId` (a message of the same channel), with send's guarantees. */
  reply(channelId: string, replyToId: string, text: string): OutboxMessage {
    return this.send(channelId, text, { replyToId });
  }

  /** Sends a failed message again. */
  retry(clientMsgId: string): OutboxMessage | undefined {
    const message = this.#outbox.retry(clientMsgId);
    if (message) {
      this.#persistOutbox();
      this.#drainOutbox();
    }
    return message;
  }

  /** Drops a failed (or pending) message from the outbox. */
  discard(clientMsgId: string): boolean {
    const removed = this.#outbox.discard(clientMsgId);
    if (removed) this.#persistOutbox();
    return removed;
  }

  /** Resolves when the message with this clientMsgId is sent (or failed, or discarded). */
  settled(clientMsgId: string): Promise<OutboxMessage | undefined> {
    const current = this.#outbox.get(clientMsgId);
    if (!current || current.state === 'failed') return Promise.resolve(current);
    return new Promise((resolve) => {
      const off = this.#events.on('outbox', (m) => {
        if (m.clientMsgId === clientMsgId && m.state !== 'pending') {
          off();
          resolve(m);
        }
      });
    });
  }

  #drainOutbox(): void {
    if (!this.#connection.ready) return;
    let failed = false;
    for (const m of this.#outbox.takeSendable()) {
      const frame = JSON.stringify({
        op: 'send',
        channelId: m.channelId,
        text: m.text,
        clientMsgId: m.clientMsgId,
        ...(m.replyToId === undefined ? {} : { replyToId: m.replyToId }),
      });
      if (frame.length > MAX_FRAME_BYTES / 3 && utf8Length(frame) > MAX_FRAME_BYTES) {
        // The server would close the socket (1009) and we would resend it forever.
        this.#outbox.reject(m.clientMsgId, new ChatError('payload_too_large', 'the message does not fit in a frame'));
        failed = true;
        continue;
      }
      this.#connection.sendText(frame);
    }
    if (failed) this.#persistOutbox();
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    const at = this.#outbox.nextRetryAt();
    if (at === undefined) return;
    this.#retryTimer = setTimeout(() => this.#drainOutbox(), Math.max(0, at - Date.now()));
  }

  #persistOutbox(): void {
    this.#outboxWriter?.set(JSON.stringify(this.#outbox.list()));
  }

  // ---------------------------------------------------------------- search and mentions

  /**
   * Messages matching every word of `q` (any language: `회의` finds `회의는`), in your channels
   * or in `channelId`, newest first, with the matched ranges of each text. Open a result with
   * `api.historyPage(channelId, { around: message.id })`.
   */
  search(q: string, query: { channelId?: string; before?: string; limit?: number } = {}): Promise<SearchPage> {
    return this.api.search(q, query);
  }

  /** Messages that mention you, in channels you are still in, newest first. */
  mentions(query: { before?: string; limit?: number } = {}): Promise<MentionsPage> {
    return this.api.mentions(query);
  }

  // ---------------------------------------------------------------- changes to sent messages

  /**
   * Queues an edit of one of this user's messages and returns it as `pending`. Like `send`, it
   * waits for the connection, survives restarts (with a persistent storage) and is retried until
   * the server answers; the `change` event says when it is `done` or `failed` (e.g. `forbidden`).
   * The new text reaches every device as a `messageChanged` event.
   */
  edit(channelId: string, messageId: string, text: string): PendingChange {
    return this.#queueChange({ kind: 'edit', channelId, messageId, text });
  }

  /** Queues deleting a message (this user's, or any in a group this user owns or administers). */
  delete(channelId: string, messageId: string): PendingChange {
    return this.#queueChange({ kind: 'delete', channelId, messageId });
  }

  /** Queues this user's reaction with one emoji. */
  react(channelId: string, messageId: string, emoji: string): PendingChange {
    return this.#queueChange({ kind: 'react', channelId, messageId, emoji });
  }

  /** Queues taking back this user's reaction with one emoji. */
  unreact(channelId: string, messageId: string, emoji: string): PendingChange {
    return this.#queueChange({ kind: 'unreact', channelId, messageId, emoji });
  }

  /** Queued changes not yet done, in the order they go out. */
  get pendingChanges(): PendingChange[] {
    return this.#changes.list();
  }

  #queueChange(change: {
    kind: MessageChangeKind;
    channelId: string;
    messageId: string;
    text?: string;
    emoji?: string;
  }) {
    if (!this.#session.current) throw new ChatError('unauthorized', 'log in before changing messages');
    const pending = this.#changes.add(change);
    this.#persistChanges();
    this.#events.emit('change', pending);
    this.#drainChanges();
    return pending;
  }

  /** Sends the queue's head (one at a time, in order) while online. */
  #drainChanges(): void {
    if (!this.#connection.ready) return;
    const change = this.#changes.take();
    if (change === undefined) {
      this.#scheduleChangeRetry();
      return;
    }
    const { channelId, messageId } = change;
    const call =
      change.kind === 'edit'
        ? this.api.editMessage(channelId, messageId, change.text ?? '')
        : change.kind === 'delete'
          ? this.api.deleteMessage(channelId, messageId)
          : this.api.setReaction(channelId, messageId, change.emoji ?? '', change.kind === 'react');
    call.then(
      () => this.#settleChange(change.id, undefined),
      (error: unknown) =>
        this.#settleChange(
          change.id,
          error instanceof ChatError ? error : new ChatError('unavailable', String(error), { cause: error }),
        ),
    );
  }

  #settleChange(id: string, error: ChatError | undefined): void {
    if (error?.code === 'unauthorized') {
      this.#connection.fail(error);
      return;
    }
    const settled = this.#changes.settle(id, error);
    if (settled !== undefined) {
      this.#persistChanges();
      this.#events.emit('change', settled);
      this.#drainChanges();
      return;
    }
    this.#scheduleChangeRetry();
  }

  #scheduleChangeRetry(): void {
    clearTimeout(this.#changeTimer);
    const at = this.#changes.nextRetryAt();
    if (at !== undefined) this.#changeTimer = setTimeout(() => this.#drainChanges(), Math.max(0, at - Date.now()));
  }

  #persistChanges(): void {
    this.#changesWriter?.set(JSON.stringify(this.#changes.list()));
  }

  // ---------------------------------------------------------------- read cursors and typing

  /** Moves this user's read cursor (over the socket when online, else over HTTP). */
  async markRead(channelId: string, messageId: string): Promise<void> {
    if (this.#connection.send({ op: 'read', channelId, messageId })) return;
    await this.api.markRead(channelId, messageId);
  }

  /** Tells the channel this user is typing; throttled to one frame per 3 s per channel; dropped offline. */
  typing(channelId: string): void {
    if (!this.#connection.ready) return;
    const now = Date.now();
    if (now - (this.#typingSentAt.get(channelId) ?? 0) < 3_000) return;
    if (this.#connection.send({ op: 'typing', channelId })) this.#typingSentAt.set(channelId, now);
  }
}
