/**
 * ParleyClient: one object per device. It owns the session, the socket (discovery, hello,
 * heartbeats, reconnects), the sync position and the outbox, and turns the update log into
 * events that are applied exactly once and in seq order.
 *
 * Guarantees, given a server that keeps the v1 contract:
 * - every event of the user's log is applied once, in seq order (duplicates dropped, gaps
 *   filled over GET /v1/sync), and the applied seq is persisted after each event;
 * - `message` fires at most once per message id within a run;
 * - a message handed to `send` is retried with the same clientMsgId until the server acks it
 *   or refuses it for good, across reconnects and (with a persistent storage) restarts.
 */
import { ChatError, CloseCode, closeBehaviour, limits } from '@parley/protocol';
import type { AuthResult, Message, PresenceStatus, ReadyFrame, ServerFrame, SyncEvent, User } from '@parley/protocol';
import { ParleyApi, describe, errorFromCode } from './api.js';
import type { FetchLike, LoginInput, SignupInput } from './api.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { Emitter, ObservableValue } from './emitter.js';
import type { Listener, Observable } from './emitter.js';
import { Outbox } from './outbox.js';
import type { OutboxMessage } from './outbox.js';
import { RecentIds, SeqTracker } from './seq-tracker.js';
import { KeyWriter, MemoryStorage } from './storage.js';
import type { ClientStorage } from './storage.js';
import { OPEN, frameText, globalWebSocketFactory } from './transport.js';
import type { WebSocketFactory, WebSocketLike } from './transport.js';

/**
 * - `connecting`: first attempt after `connect()`.
 * - `online`: the socket is ready; events flow and the outbox drains.
 * - `reconnecting`: the connection was lost; waiting (backoff) or trying again.
 * - `offline`: not trying: not started, closed, or stopped by a terminal error (see the `error` event).
 */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface Session {
  token: string;
  userId: string;
  deviceId: string;
  user?: User;
}

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
  /** Every applied log event, after the typed event above. */
  event: SyncEvent;
  /** An outbox message changed state (pending -> sent | failed, failed -> pending). */
  outbox: OutboxMessage;
  state: ConnectionState;
  ready: ReadyFrame;
  /** The log position was too old (or lost): reload channels and recent history from REST. */
  resync: { seq: number };
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

/** The browser's `window` fits: it fires `online` when the network comes back. */
export interface NetworkEvents {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

function globalNetworkEvents(): NetworkEvents | undefined {
  const scope = globalThis as Partial<NetworkEvents>;
  return typeof scope.addEventListener === 'function' && typeof scope.removeEventListener === 'function'
    ? (scope as NetworkEvents)
    : undefined;
}

/**
 * After a close that says "try again later" (4100 unavailable, 1011, a dropped connection), the
 * next attempt waits at least this long before jitter, even right after a good session.
 */
const LATER_MS = 1_000;

const KEY_SESSION = 'session';
/** The server refuses WebSocket frames above 1 MiB. */
const MAX_FRAME_BYTES = 1024 * 1024;
const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;
const seqKey = (userId: string) => `seq.${userId}`;
const outboxKey = (userId: string) => `outbox.${userId}`;

interface Attempt {
  gen: number;
  ws?: WebSocketLike;
  ready: boolean;
  /** The log head the server reported in this connection's ready frame. */
  readySeq?: number;
  /** This connection already started over from readySeq. */
  resynced?: boolean;
  heartbeat?: ReturnType<typeof setInterval>;
  pongTimer?: ReturnType<typeof setTimeout>;
  connectTimer?: ReturnType<typeof setTimeout>;
}

export class ParleyClient {
  readonly api: ParleyApi;
  readonly #options: ClientOptions;
  readonly #storage: ClientStorage;
  readonly #events: Emitter<ClientEvents>;
  readonly #state = new ObservableValue<ConnectionState>('offline');
  readonly #backoff: Backoff;
  readonly #seen = new RecentIds(20_000);
  readonly #presence = new Map<string, PresenceUpdate>();
  readonly #reportError: (error: unknown) => void;
  readonly #outbox: Outbox;

  #session: Session | undefined;
  #tracker = new SeqTracker<SyncEvent>(undefined);
  #seqWriter: KeyWriter | undefined;
  #outboxWriter: KeyWriter | undefined;
  readonly #sessionWriter: KeyWriter;

  #running = false;
  #everOnline = false;
  #gen = 0;
  #attempt: Attempt | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #filling = false;
  #fillFailures = 0;
  #resyncPending = false;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  readonly #typingSentAt = new Map<string, number>();
  readonly #network: NetworkEvents | undefined;
  /** The network is back: try now rather than after the backoff (a healthy socket is left alone). */
  readonly #onNetworkOnline = () => {
    if (this.#running && this.#state.value !== 'online') this.reconnect();
  };

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#reportError =
      options.onInternalError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
    this.#events = new Emitter<ClientEvents>(this.#reportError);
    this.#storage = options.storage ?? new MemoryStorage();
    this.api = new ParleyApi({ baseUrl: options.baseUrl, fetch: options.fetch, timeoutMs: options.requestTimeoutMs });
    this.#backoff = new Backoff(options.backoff);
    this.#network = options.network ?? globalNetworkEvents();
    this.#sessionWriter = new KeyWriter(this.#storage, KEY_SESSION, this.#reportError);
    this.#outbox = new Outbox({ onChange: (m) => this.#events.emit('outbox', m) });
    let initial = true;
    this.#state.subscribe((state) => {
      if (!initial) this.#events.emit('state', state);
      initial = false;
    });
  }

  // ---------------------------------------------------------------- session

  /** Creates an account and logs this device in. */
  async signup(input: SignupInput): Promise<AuthResult> {
    const result = await this.api.signup({ deviceName: this.#options.deviceName, ...input });
    await this.useSession({
      token: result.token,
      userId: result.user.id,
      deviceId: result.deviceId,
      user: result.user,
    });
    return result;
  }

  /** Logs in as a new device of an existing account. */
  async login(input: LoginInput): Promise<AuthResult> {
    const result = await this.api.login({ deviceName: this.#options.deviceName, ...input });
    await this.useSession({
      token: result.token,
      userId: result.user.id,
      deviceId: result.deviceId,
      user: result.user,
    });
    return result;
  }

  /** Picks up the session saved by a previous run (with its seq and outbox). Undefined if none. */
  async resume(): Promise<Session | undefined> {
    const raw = await this.#storage.get(KEY_SESSION);
    if (!raw) return undefined;
    let session: Session;
    try {
      session = JSON.parse(raw) as Session;
    } catch {
      return undefined;
    }
    if (typeof session.token !== 'string' || typeof session.userId !== 'string') return undefined;
    await this.useSession(session);
    return session;
  }

  /** Uses a known token (e.g. from your own login flow); loads that user's seq and outbox. */
  async useSession(session: Session): Promise<void> {
    if (this.#running) throw new Error('close() the client before switching sessions');
    this.#session = { ...session };
    this.api.token = session.token;
    this.#sessionWriter.set(JSON.stringify(this.#session));
    const [seqRaw, outboxRaw] = await Promise.all([
      this.#storage.get(seqKey(session.userId)),
      this.#storage.get(outboxKey(session.userId)),
    ]);
    const seq = seqRaw === undefined ? undefined : Number(seqRaw);
    this.#tracker = new SeqTracker<SyncEvent>(Number.isSafeInteger(seq) ? seq : undefined);
    this.#seqWriter = new KeyWriter(this.#storage, seqKey(session.userId), this.#reportError);
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
  }

  /** Revokes this device's token on the server and forgets the session, seq and outbox here. */
  async logout(): Promise<void> {
    const session = this.#session;
    let failure: unknown;
    try {
      if (session) await this.api.logout();
    } catch (error) {
      if (!(error instanceof ChatError && error.code === 'unauthorized')) failure = error;
    }
    await this.close();
    this.#outbox.clear();
    this.#sessionWriter.set(undefined);
    if (session) {
      this.#seqWriter?.set(undefined);
      this.#outboxWriter?.set(undefined);
    }
    await this.flush();
    this.#session = undefined;
    this.api.token = undefined;
    this.#tracker = new SeqTracker<SyncEvent>(undefined);
    if (failure) throw failure;
  }

  get session(): Session | undefined {
    return this.#session && { ...this.#session };
  }

  get userId(): string | undefined {
    return this.#session?.userId;
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
    return this.#state;
  }

  get state(): ConnectionState {
    return this.#state.value;
  }

  /** Highest seq applied from the user's update log (undefined before the first `ready`). */
  get seq(): number | undefined {
    return this.#tracker.applied;
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
    if (!this.#session) return Promise.reject(new ChatError('unauthorized', 'log in before connecting'));
    const online = this.#state.value === 'online' ? Promise.resolve() : this.#waitOnline();
    if (!this.#running) {
      this.#running = true;
      this.#everOnline = false;
      this.#backoff.reset();
      this.#network?.addEventListener('online', this.#onNetworkOnline);
      this.#open();
    }
    return online;
  }

  /** Drops the current socket and reconnects at once (e.g. when the browser says it is back online). */
  reconnect(): void {
    if (!this.#running) return;
    this.#backoff.reset();
    if (this.#attempt) this.#drop(this.#attempt.gen, 'reconnect requested', 0);
    else {
      clearTimeout(this.#reconnectTimer);
      this.#open();
    }
  }

  /** Stops: closes the socket, cancels timers and waits for storage writes. Keeps the session. */
  async close(): Promise<void> {
    this.#stopRunning();
    if (this.#attempt) this.#drop(this.#attempt.gen, 'closed', undefined, CloseCode.Normal);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#state.set('offline');
    this.#rejectWaiters(new ChatError('unavailable', 'client closed'));
    await this.flush();
  }

  /** Resolves when every storage write so far has completed. */
  async flush(): Promise<void> {
    await Promise.all([this.#sessionWriter.flush(), this.#seqWriter?.flush(), this.#outboxWriter?.flush()]);
  }

  #stopRunning(): void {
    if (this.#running) this.#network?.removeEventListener('online', this.#onNetworkOnline);
    this.#running = false;
  }

  #waitOnline(): Promise<void> {
    const online = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    // Not awaiting connect() is fine: terminal errors are also emitted as `error` events.
    online.catch(() => {});
    return online;
  }

  #rejectWaiters(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }

  #open(): void {
    if (!this.#running || this.#attempt) return;
    const factory = this.#options.webSocket ?? globalWebSocketFactory();
    if (!factory) {
      this.#terminal(new ChatError('internal', 'no WebSocket available: use "@parley/client/node" or pass webSocket'));
      return;
    }
    const attempt: Attempt = { gen: ++this.#gen, ready: false };
    this.#attempt = attempt;
    this.#state.set(this.#everOnline ? 'reconnecting' : 'connecting');
    const connectTimeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    attempt.connectTimer = setTimeout(() => this.#drop(attempt.gen, 'connect timeout'), connectTimeoutMs);

    this.api.gateway().then(
      (info) => {
        if (this.#attempt !== attempt) return;
        let ws: WebSocketLike;
        try {
          ws = factory(info.url);
        } catch (error) {
          this.#drop(attempt.gen, `cannot open ${info.url}: ${describe(error)}`);
          return;
        }
        attempt.ws = ws;
        ws.onopen = () => {
          if (this.#attempt !== attempt || !this.#session) return;
          const since = this.#resyncPending ? undefined : this.#tracker.applied;
          this.#sendFrame(
            ws,
            since === undefined
              ? { op: 'hello', token: this.#session.token }
              : { op: 'hello', token: this.#session.token, since },
          );
        };
        ws.onmessage = (event) => this.#onFrame(attempt, event.data);
        ws.onclose = (event) => this.#onClose(attempt, event.code, event.reason);
        ws.onerror = () => {}; // a close event follows
      },
      (error: unknown) => {
        if (this.#attempt !== attempt) return;
        if (error instanceof ChatError && error.code === 'unauthorized') this.#terminal(error);
        else this.#drop(attempt.gen, `discovery failed: ${describe(error)}`);
      },
    );
  }

  /**
   * Ends the attempt `gen` (ignored if it is not the current one): detaches and kills the
   * socket, and unless the client stopped, schedules the next attempt after `delayMs`
   * (default: the next backoff delay).
   */
  #drop(gen: number, _reason: string, delayMs?: number, closeCode?: number): void {
    const attempt = this.#attempt;
    if (!attempt || attempt.gen !== gen) return;
    this.#attempt = undefined;
    clearTimeout(attempt.connectTimer);
    clearTimeout(attempt.pongTimer);
    clearInterval(attempt.heartbeat);
    const ws = attempt.ws;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = () => {}; // ws emits 'error' when killed mid-handshake
      try {
        if (closeCode !== undefined && ws.readyState === OPEN) ws.close(closeCode);
        else if (ws.terminate) ws.terminate();
        else ws.close();
      } catch {
        // already closed
      }
    }
    this.#outbox.connectionLost();
    clearTimeout(this.#retryTimer);
    if (!this.#running) {
      this.#state.set('offline');
      return;
    }
    this.#state.set(this.#everOnline ? 'reconnecting' : 'connecting');
    const delay = delayMs ?? this.#backoff.next();
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
  }

  /** Stops for good (until `connect()` is called again) and reports why. */
  #terminal(error: ChatError): void {
    this.#stopRunning();
    if (this.#attempt) this.#drop(this.#attempt.gen, error.message);
    clearTimeout(this.#reconnectTimer);
    this.#state.set('offline');
    this.#rejectWaiters(error);
    this.#events.emit('error', error);
  }

  /** Follows the close-code table (docs/protocol.md, `closeBehaviour`). */
  #onClose(attempt: Attempt, code: number, reason: string): void {
    if (this.#attempt !== attempt) return;
    switch (closeBehaviour(code)) {
      case 'reconnect':
        // The backoff restarted at `ready`, so a good session that ends comes back quickly.
        this.#drop(attempt.gen, `closed ${code} ${reason}`);
        return;
      case 'backoff':
        this.#drop(attempt.gen, `closed ${code} ${reason}`, this.#backoff.next(LATER_MS));
        return;
      case 'stop':
        break;
    }
    const error =
      code === CloseCode.Unauthorized
        ? new ChatError('unauthorized', reason || 'the server refused the token')
        : new ChatError(
            code === CloseCode.ProtocolError ? 'invalid_request' : 'unavailable',
            `connection closed (${code}${reason ? `: ${reason}` : ''})`,
          );
    this.#terminal(error);
  }

  #sendFrame(ws: WebSocketLike, frame: object): boolean {
    if (ws.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  #onFrame(attempt: Attempt, data: unknown): void {
    if (this.#attempt !== attempt) return;
    const text = frameText(data);
    if (text === undefined) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    // Any frame proves the connection alive.
    clearTimeout(attempt.pongTimer);
    attempt.pongTimer = undefined;
    switch (frame.op) {
      case 'ready':
        this.#onReady(attempt, frame);
        return;
      case 'event': {
        if (!attempt.ready || this.#tracker.applied === undefined) return;
        const { op: _op, ...event } = frame;
        this.#offer(event as SyncEvent);
        return;
      }
      case 'ack':
        if (this.#outbox.ack(frame.clientMsgId, frame.messageId, frame.createdAt)) this.#persistOutbox();
        return;
      case 'error':
        this.#onErrorFrame(attempt, frame.code, frame.message, frame.clientMsgId);
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
        if (typeof head === 'number' && attempt.ready && this.#tracker.applied !== undefined) {
          this.#tracker.noteHead(head);
          this.#checkGap();
        }
        return;
      }
    }
  }

  #onReady(attempt: Attempt, frame: ReadyFrame): void {
    if (attempt.ready) return;
    attempt.ready = true;
    attempt.readySeq = frame.seq;
    clearTimeout(attempt.connectTimer);
    this.#backoff.reset();
    this.#everOnline = true;

    const applied = this.#tracker.applied;
    // Behind the server's head is normal; ahead of it means the server lost data (restored from
    // a backup): our position means nothing there any more, so start over like a resync.
    const resync = this.#resyncPending || (applied !== undefined && applied > frame.seq);
    if (resync || applied === undefined) {
      // A fresh device (or a reset) starts at the head: history comes from REST, not the log.
      this.#resyncPending = false;
      attempt.resynced = resync;
      this.#tracker.reset(frame.seq);
      this.#persistSeq();
    } else {
      this.#tracker.noteHead(frame.seq);
    }

    const heartbeatMs = this.#options.heartbeatMs ?? frame.heartbeatMs;
    const pongTimeoutMs = this.#options.pongTimeoutMs ?? Math.max(1_000, 2 * heartbeatMs);
    attempt.heartbeat = setInterval(() => {
      if (!attempt.ws || !this.#sendFrame(attempt.ws, { op: 'ping' })) return;
      attempt.pongTimer ??= setTimeout(() => this.#drop(attempt.gen, 'no pong'), pongTimeoutMs);
    }, heartbeatMs);

    this.#state.set('online');
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
    this.#events.emit('ready', frame);
    if (resync) this.#events.emit('resync', { seq: frame.seq });
    this.#drainOutbox();
    this.#checkGap();
  }

  #onErrorFrame(attempt: Attempt, code: string, message: string, clientMsgId: string | undefined): void {
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
        if (attempt.resynced) return; // already started over at ready
        if (attempt.ready && attempt.readySeq !== undefined) {
          attempt.resynced = true;
          // Sent right after ready when `since` is outside the kept log: the server goes live
          // from ready.seq on this connection, so continue from there.
          this.#tracker.reset(attempt.readySeq);
          this.#persistSeq();
          this.#checkGap();
          this.#events.emit('resync', { seq: attempt.readySeq });
        } else {
          this.#startResync();
        }
        return;
      case 'unauthorized':
        this.#terminal(error);
        return;
      default:
        if (!attempt.ready) return; // the close that follows decides
        this.#events.emit('error', error);
    }
  }

  /** Forgets the log position and reconnects without `since`; `resync` fires at the next ready. */
  #startResync(): void {
    this.#resyncPending = true;
    this.#tracker.reset(undefined);
    this.#seqWriter?.set(undefined);
    if (this.#attempt) this.#drop(this.#attempt.gen, 'resync', 0);
  }

  // ---------------------------------------------------------------- sync

  #offer(event: SyncEvent): void {
    const ready = this.#tracker.offer(event);
    if (ready.length === 0) {
      this.#checkGap();
      return;
    }
    for (const e of ready) this.#apply(e);
    this.#persistSeq();
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#checkGap();
  }

  #apply(event: SyncEvent): void {
    switch (event.type) {
      case 'message.created': {
        const message = event.message;
        if (
          message.senderId === this.#session?.userId &&
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
    }
    this.#events.emit('event', event);
  }

  /**
   * A gap with later events already buffered is real (the socket skipped a seq): fill it now.
   * A head that is merely ahead (after `ready`) is normally caught up by the replay: fill only
   * if the replay stalls for catchUpTimeoutMs.
   */
  #checkGap(): void {
    if (!this.#running || !this.#attempt?.ready || this.#filling) return;
    const gap = this.#tracker.gap();
    if (!gap) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
      return;
    }
    if (this.#tracker.buffered > 0 && this.#fillFailures === 0) {
      void this.#fill();
      return;
    }
    if (this.#gapTimer === undefined) {
      const delay = (this.#options.catchUpTimeoutMs ?? 1_000) * 2 ** Math.min(this.#fillFailures, 5);
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = undefined;
        void this.#fill();
      }, delay);
    }
  }

  /** Fetches the missing part of the log over GET /v1/sync and applies it. */
  async #fill(): Promise<void> {
    if (this.#filling) return;
    this.#filling = true;
    try {
      for (;;) {
        const gap = this.#tracker.gap();
        const since = this.#tracker.applied;
        if (!gap || since === undefined || !this.#running) break;
        const tracker = this.#tracker;
        const page = await this.api.sync(since, limits.maxSyncLimit);
        // Closed, logged out or reset meanwhile: this page belongs to a position we left.
        if (!this.#running || this.#tracker !== tracker || tracker.applied === undefined) break;
        for (const event of page.events) this.#offer(event);
        const progressed = (this.#tracker.applied ?? 0) > since;
        if (!progressed) {
          // The server does not have what we expected (yet): try again later, not in a loop.
          this.#fillFailures++;
          break;
        }
        if (progressed) this.#fillFailures = 0;
      }
    } catch (error) {
      if (error instanceof ChatError && error.code === 'resync_required') this.#startResync();
      else if (error instanceof ChatError && error.code === 'unauthorized') this.#terminal(error);
      else this.#fillFailures++;
    } finally {
      this.#filling = false;
    }
    this.#checkGap();
  }

  #persistSeq(): void {
    const applied = this.#tracker.applied;
    this.#seqWriter?.set(applied === undefined ? undefined : String(applied));
  }

  /** Fetches and applies everything in the log after the current position (e.g. on app focus). */
  async syncNow(): Promise<void> {
    const applied = this.#tracker.applied;
    if (applied === undefined) return;
    let page;
    try {
      page = await this.api.sync(applied, limits.maxSyncLimit);
    } catch (error) {
      if (error instanceof ChatError && error.code === 'unauthorized' && this.#running) this.#terminal(error);
      throw error;
    }
    if (this.#tracker.applied === undefined) return;
    for (const event of page.events) this.#offer(event);
    if (page.hasMore) {
      this.#tracker.noteHead(page.seq + 1);
      this.#checkGap();
    }
  }

  // ---------------------------------------------------------------- outbox

  /**
   * Queues a message and returns it at once as `pending` (or `failed` if the text breaks a
   * limit). It goes out as soon as the client is online and is retried with the same
   * clientMsgId until the server acks it; watch the `outbox` event for `sent`/`failed`.
   */
  send(channelId: string, text: string): OutboxMessage {
    if (!this.#session) throw new ChatError('unauthorized', 'log in before sending');
    const message = this.#outbox.add(channelId, text);
    this.#persistOutbox();
    this.#events.emit('outbox', message);
    this.#drainOutbox();
    return message;
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
    const ws = this.#attempt?.ready ? this.#attempt.ws : undefined;
    if (!ws) return;
    let failed = false;
    for (const m of this.#outbox.takeSendable()) {
      const frame = JSON.stringify({ op: 'send', channelId: m.channelId, text: m.text, clientMsgId: m.clientMsgId });
      if (frame.length > MAX_FRAME_BYTES / 3 && utf8Length(frame) > MAX_FRAME_BYTES) {
        // The server would close the socket (1009) and we would resend it forever.
        this.#outbox.reject(m.clientMsgId, new ChatError('payload_too_large', 'the message does not fit in a frame'));
        failed = true;
        continue;
      }
      if (ws.readyState === OPEN) ws.send(frame);
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

  // ---------------------------------------------------------------- read cursors and typing

  /** Moves this user's read cursor (over the socket when online, else over HTTP). */
  async markRead(channelId: string, messageId: string): Promise<void> {
    const ws = this.#attempt?.ready ? this.#attempt.ws : undefined;
    if (ws && this.#sendFrame(ws, { op: 'read', channelId, messageId })) return;
    await this.api.markRead(channelId, messageId);
  }

  /** Tells the channel this user is typing; throttled to one frame per 3 s per channel; dropped offline. */
  typing(channelId: string): void {
    const ws = this.#attempt?.ready ? this.#attempt.ws : undefined;
    if (!ws) return;
    const now = Date.now();
    if (now - (this.#typingSentAt.get(channelId) ?? 0) < 3_000) return;
    if (this.#sendFrame(ws, { op: 'typing', channelId })) this.#typingSentAt.set(channelId, now);
  }
}
