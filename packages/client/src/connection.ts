/**
 * A device's live link to a gateway: discovery, socket, hello, ready, heartbeats, and
 * reconnects that follow the close-code table (docs/protocol.md) with jittered backoff. It knows
 * nothing of the update log or the outbox: it hands frames to its handler and says when a link
 * is ready, lost, or stopped for good.
 *
 * Guarantees:
 * - at most one attempt at a time; frames of an attempt that was replaced are ignored;
 * - while running, a lost link is always followed by another attempt (after the backoff, or at
 *   once when the network comes back), until `close()` or a terminal error;
 * - the handler hears `ready` before the state turns `online`, and `online` after it.
 */
import { ChatError, CloseCode, closeBehaviour } from '@parley/protocol';
import type { GatewayInfo, ReadyFrame, ServerFrame } from '@parley/protocol';
import { describe } from './api.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { ObservableValue } from './emitter.js';
import type { Observable } from './emitter.js';
import { OPEN, frameText, globalWebSocketFactory } from './transport.js';
import type { WebSocketFactory, WebSocketLike } from './transport.js';

/**
 * - `connecting`: first attempt after `connect()`.
 * - `online`: the socket is ready; events flow and the outbox drains.
 * - `reconnecting`: the connection was lost; waiting (backoff) or trying again.
 * - `offline`: not trying: not started, closed, or stopped by a terminal error (see the `error` event).
 */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

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

export interface ConnectionOptions {
  /** Where to connect (GET /v1/gateway). A rejection with `unauthorized` is terminal. */
  discover(): Promise<GatewayInfo>;
  /** Creates sockets. Default: the global WebSocket. */
  webSocket?: WebSocketFactory | undefined;
  backoff?: BackoffOptions | undefined;
  /** Ping interval; default: what the server says in `ready`. */
  heartbeatMs?: number | undefined;
  /** A socket with no frame this long after a ping is dead. Default: 2 x heartbeat, at least 1 s. */
  pongTimeoutMs?: number | undefined;
  /** From starting an attempt to `ready`. Default 10 s. */
  connectTimeoutMs?: number | undefined;
  /** `online` events here retry at once. Default: the global scope when it has addEventListener. */
  network?: NetworkEvents | undefined;
}

export interface ConnectionHandler {
  /** The hello frame for a socket that just opened; undefined sends nothing (the attempt times out). */
  hello(): object | undefined;
  /** A `ready` frame arrived; the state turns `online` right after this returns. */
  ready(frame: ReadyFrame): void;
  /** The link is online: the state is `online` and `connect()` has resolved. */
  online(frame: ReadyFrame): void;
  /** Any other frame of the current attempt; `ready` says whether that attempt got its `ready`. */
  frame(frame: ServerFrame, ready: boolean): void;
  /** The current attempt ended (its socket is gone); another follows unless stopped. */
  lost(): void;
  /** Stopped for good by a terminal error, such as `unauthorized`. */
  stopped(error: ChatError): void;
}

interface Attempt {
  gen: number;
  ws?: WebSocketLike;
  ready: boolean;
  heartbeat?: ReturnType<typeof setInterval>;
  pongTimer?: ReturnType<typeof setTimeout>;
  connectTimer?: ReturnType<typeof setTimeout>;
}

export class Connection {
  readonly #options: ConnectionOptions;
  readonly #handler: ConnectionHandler;
  readonly #state = new ObservableValue<ConnectionState>('offline');
  readonly #backoff: Backoff;
  readonly #network: NetworkEvents | undefined;
  #running = false;
  #everOnline = false;
  #gen = 0;
  #attempt: Attempt | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** The network is back: try now rather than after the backoff (a healthy socket is left alone). */
  readonly #onNetworkOnline = () => {
    if (this.#running && this.#state.value !== 'online') this.reconnect();
  };

  constructor(options: ConnectionOptions, handler: ConnectionHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#backoff = new Backoff(options.backoff);
    this.#network = options.network ?? globalNetworkEvents();
  }

  get state(): Observable<ConnectionState> {
    return this.#state;
  }

  /** Started and not stopped (by `close()` or a terminal error). */
  get running(): boolean {
    return this.#running;
  }

  /** The current attempt got its `ready`: frames may be sent. */
  get ready(): boolean {
    return this.#attempt?.ready ?? false;
  }

  /**
   * Starts connecting (if not running) and keeps the link up until `close()`. Resolves when
   * online; rejects on a terminal error or when closed first.
   */
  start(): Promise<void> {
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

  /** Drops the current socket and tries again at once. */
  reconnect(): void {
    if (!this.#running) return;
    this.#backoff.reset();
    if (this.#attempt) this.#drop(this.#attempt.gen, 'reconnect requested', 0);
    else {
      clearTimeout(this.#reconnectTimer);
      this.#open();
    }
  }

  /** Drops the current socket and tries again at once, without resetting the backoff. */
  restart(): void {
    if (this.#attempt) this.#drop(this.#attempt.gen, 'restart', 0);
  }

  /** Stops: closes the socket (1000) and cancels the next attempt. */
  close(): void {
    this.#stopRunning();
    if (this.#attempt) this.#drop(this.#attempt.gen, 'closed', undefined, CloseCode.Normal);
    clearTimeout(this.#reconnectTimer);
    this.#state.set('offline');
    this.#rejectWaiters(new ChatError('unavailable', 'client closed'));
  }

  /** Stops for good (until started again) and reports why to the handler. */
  fail(error: ChatError): void {
    this.#stopRunning();
    if (this.#attempt) this.#drop(this.#attempt.gen, error.message);
    clearTimeout(this.#reconnectTimer);
    this.#state.set('offline');
    this.#rejectWaiters(error);
    this.#handler.stopped(error);
  }

  /** Sends on the ready socket; false when there is none (or it refused). */
  send(frame: object): boolean {
    return this.sendText(JSON.stringify(frame));
  }

  sendText(text: string): boolean {
    const ws = this.#attempt?.ready ? this.#attempt.ws : undefined;
    if (!ws || ws.readyState !== OPEN) return false;
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  #stopRunning(): void {
    if (this.#running) this.#network?.removeEventListener('online', this.#onNetworkOnline);
    this.#running = false;
  }

  #waitOnline(): Promise<void> {
    const online = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    // Not awaiting start() is fine: terminal errors also reach the handler.
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
      this.fail(new ChatError('internal', 'no WebSocket available: use "@parley/client/node" or pass webSocket'));
      return;
    }
    const attempt: Attempt = { gen: ++this.#gen, ready: false };
    this.#attempt = attempt;
    this.#state.set(this.#everOnline ? 'reconnecting' : 'connecting');
    const connectTimeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    attempt.connectTimer = setTimeout(() => this.#drop(attempt.gen, 'connect timeout'), connectTimeoutMs);

    this.#options.discover().then(
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
          if (this.#attempt !== attempt) return;
          const hello = this.#handler.hello();
          if (hello !== undefined) this.#sendOn(ws, hello);
        };
        ws.onmessage = (event) => this.#onMessage(attempt, event.data);
        ws.onclose = (event) => this.#onClose(attempt, event.code, event.reason);
        ws.onerror = () => {}; // a close event follows
      },
      (error: unknown) => {
        if (this.#attempt !== attempt) return;
        if (error instanceof ChatError && error.code === 'unauthorized') this.fail(error);
        else this.#drop(attempt.gen, `discovery failed: ${describe(error)}`);
      },
    );
  }

  #sendOn(ws: WebSocketLike, frame: object): boolean {
    if (ws.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Ends the attempt `gen` (ignored if it is not the current one): detaches and kills the
   * socket, and unless stopped, schedules the next attempt after `delayMs` (default: the next
   * backoff delay).
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
    this.#handler.lost();
    if (!this.#running) {
      this.#state.set('offline');
      return;
    }
    this.#state.set(this.#everOnline ? 'reconnecting' : 'connecting');
    const delay = delayMs ?? this.#backoff.next();
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
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
    this.fail(error);
  }

  #onMessage(attempt: Attempt, data: unknown): void {
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
    if (frame.op === 'ready') this.#onReady(attempt, frame);
    else this.#handler.frame(frame, attempt.ready);
  }

  #onReady(attempt: Attempt, frame: ReadyFrame): void {
    if (attempt.ready) return;
    attempt.ready = true;
    clearTimeout(attempt.connectTimer);
    this.#backoff.reset();
    this.#everOnline = true;
    this.#handler.ready(frame);
    // The handler may have ended this attempt (e.g. a storage error): nothing more to do then.
    if (this.#attempt !== attempt) return;

    const heartbeatMs = this.#options.heartbeatMs ?? frame.heartbeatMs;
    const pongTimeoutMs = this.#options.pongTimeoutMs ?? Math.max(1_000, 2 * heartbeatMs);
    attempt.heartbeat = setInterval(() => {
      if (!attempt.ws || !this.#sendOn(attempt.ws, { op: 'ping' })) return;
      attempt.pongTimer ??= setTimeout(() => this.#drop(attempt.gen, 'no pong'), pongTimeoutMs);
    }, heartbeatMs);

    this.#state.set('online');
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
    this.#handler.online(frame);
  }
}
