/**
 * The gateway role: holds WebSockets, authenticates them with hello, turns frames into domain
 * calls, and routes the user's bus topic to every socket of that user.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ChatError, CloseCode, closeCodeFor, type ReadyFrame, type TypingEventFrame } from '@parley/protocol';
import { describeIssues, parseHelloFrame, parseSessionFrame } from '@parley/protocol/schemas';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Unsubscribe } from '../ports/bus.js';
import { rawErrorResponse } from '../api/http.js';
import { RENEW_EVERY_MS, type AccountService } from '../domain/accounts.js';
import type { ChannelService } from '../domain/channels.js';
import type { Clock } from '../domain/clock.js';
import { toChatError } from '../domain/errors.js';
import type { EventRouter, Logger } from '../domain/events.js';
import type { MessageService } from '../domain/messages.js';
import type { PresenceService } from '../domain/presence.js';
import type { BusPayload, LiveBus } from './bus-codec.js';
import { Connection, type ConnectionDeps } from './connection.js';
import { holdWrites } from './cork.js';

export interface GatewayOptions {
  nodeId: string;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  helloTimeoutMs: number;
  maxBufferedBytes: number;
  /** All sockets' unsent bytes together; past it, sockets holding a large share are closed with 4008. */
  maxProcessBufferedBytes: number;
  /** Sockets one account may hold here; more are refused at hello with 4101. */
  maxSocketsPerUser: number;
  /** Sockets from one client address here (before and after hello); more get HTTP 429 at the upgrade. */
  maxSocketsPerAddress: number;
  /** Bytes a socket may send between hello and ready; more close it with 4102. */
  maxEarlyBytes: number;
  /** A socket's reorder buffer bounds (default 1,000 events, 4 MiB); past them it reads the log. */
  maxPendingEvents?: number;
  maxPendingBytes?: number;
  maxPayloadBytes: number;
  typingThrottleMs: number;
}

export interface GatewayDeps {
  accounts: AccountService;
  channels: ChannelService;
  messages: MessageService;
  presence: PresenceService;
  events: EventRouter;
  /** The bus, through its codec: each user's topic arrives decoded. */
  live: LiveBus;
  clock: Clock;
  log: Logger & { debug(obj: object, msg?: string): void };
}

interface UserSockets {
  /**
   * Replaced, never changed in place, so a fan-out in progress is not disturbed. An array, not a
   * Set: most users have one socket here, and a Set costs about 170 bytes more.
   */
  connections: readonly Connection[];
  unsubscribe: Promise<Unsubscribe>;
  /** The highest seq known to be in this user's log: from the store, and from the bus since. */
  head: number;
  /** When `head` was last read from the store. */
  headReadAt: number;
  /** The store read under way, if any (one per user at a time). */
  headRead: Promise<void> | undefined;
}

const DEFAULT_MAX_PENDING_EVENTS = 1_000;
const DEFAULT_MAX_PENDING_BYTES = 4 * 1024 * 1024;

/** Users whose log heads are read at once after a bus reconnect. */
const RECONNECT_CONCURRENCY = 16;

/** Frames a client may send between hello and ready; more close the socket with 4102. */
const MAX_EARLY_FRAMES = 100;

/**
 * Longest a new session's first frames wait for its presence snapshot to leave with them
 * (holdWrites). On one machine that is a turn or two; with Redis away, presence may hang.
 */
const MAX_HELLO_HOLD_MS = 50;

/** How often the sockets' unsent bytes are added up for the process budget. */
const BUDGET_REFRESH_MS = 100;

export class Gateway {
  readonly #wss: WebSocketServer;
  readonly #users = new Map<string, UserSockets>();
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #offReconnect: () => void;
  /** Open sockets (before and after hello) per client address. */
  readonly #perAddress = new Map<string, number>();
  #processBuffered = { bytes: 0, at: -Infinity };
  #connectionCount = 0;
  #closing = false;
  readonly #connectionDeps: ConnectionDeps;
  /** One listener for every socket's errors (a closure per socket would live as long as it). */
  readonly #onSocketError = (error: Error): void => this.deps.log.debug({ err: error }, 'socket error');

  constructor(
    private readonly options: GatewayOptions,
    private readonly deps: GatewayDeps,
  ) {
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, perMessageDeflate: false });
    // A handshake ws refuses (bad key, version, method) gets the documented error shape.
    this.#wss.on('wsClientError', (error: Error, socket: Duplex) => {
      refuseUpgrade(socket, new ChatError('invalid_request', `not a WebSocket handshake: ${error.message}`));
    });
    this.#sweepTimer = setInterval(() => this.#sweepSilent(), Math.min(1000, options.heartbeatMs));
    this.#sweepTimer.unref();
    this.#offReconnect = deps.live.onReconnect(() => void this.#catchUpAll());
    // One for every connection (none of it is per socket): a connection's memory is its own state.
    this.#connectionDeps = {
      readLog: (userId, since, limit) => deps.messages.sync(userId, since, limit),
      maxBufferedBytes: options.maxBufferedBytes,
      // A socket holding a sixteenth of the budget (at most 1 MiB) counts as slow when it is spent.
      slowShareBytes: Math.min(1024 * 1024, options.maxProcessBufferedBytes / 16),
      overProcessBudget: () => this.#overProcessBudget(),
      maxPendingEvents: options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      onError: (error) => deps.log.warn({ err: error }, 'log replay failed'),
    };
  }

  /** Live sockets that completed hello. */
  get connectionCount(): number {
    return this.#connectionCount;
  }

  /** `address`: the client's address (as the trusted proxies tell it), for the per-address cap. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, address: string): void {
    if (this.#closing) {
      refuseUpgrade(socket, new ChatError('unavailable', 'the server is shutting down; reconnect through /v1/gateway'));
      return;
    }
    if ((this.#perAddress.get(address) ?? 0) >= this.options.maxSocketsPerAddress) {
      refuseUpgrade(socket, new ChatError('rate_limited', 'too many sockets from this address; try again later'));
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, address));
  }

  /**
   * Whether the process's sockets together hold more unsent bytes than its budget (added up at
   * most every BUDGET_REFRESH_MS, so a send costs no walk over every socket).
   */
  #overProcessBudget(): boolean {
    const now = this.deps.clock.now();
    if (now - this.#processBuffered.at >= BUDGET_REFRESH_MS) {
      let bytes = 0;
      for (const ws of this.#wss.clients) bytes += ws.bufferedAmount;
      this.#processBuffered = { bytes, at: now };
    }
    return this.#processBuffered.bytes > this.options.maxProcessBufferedBytes;
  }

  /**
   * A new socket. Its listeners are made here, not in handleUpgrade's callback: a closure keeps
   * its whole scope chain alive, and one made there held the upgrade request (headers and all)
   * for the socket's life, 1.1 of the 7.7 KiB a connection held on the heap. One `close`
   * listener does all of a socket's leaving (its address's count, its session's unregistering):
   * each listener is a closure, its scope and a slot held for the socket's life.
   */
  #accept(ws: WebSocket, address: string): void {
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    // The timer and the early frames are let go once used: these listeners live as long as the socket.
    let helloTimer: NodeJS.Timeout | undefined = setTimeout(
      () => ws.close(CloseCode.HelloTimeout, 'hello timeout'),
      this.options.helloTimeoutMs,
    );
    // Frames that a client sends right behind its hello wait until the session is ready.
    let session: Connection | 'awaiting hello' | 'starting' = 'awaiting hello';
    /** Set once hello authenticated it (before it is registered), so a close unregisters it. */
    let authenticated: Connection | undefined;
    // `on`, not `once`, for an event that fires once anyway: `once` wraps the listener in a bound
    // function and a state object, some 180 bytes for the socket's life.
    ws.on('close', () => {
      clearTimeout(helloTimer);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
      if (authenticated !== undefined) void this.#unregister(authenticated);
    });
    ws.on('error', this.#onSocketError);
    let early: [RawData, boolean][] | undefined = [];
    let earlyBytes = 0;
    ws.on('message', (data, isBinary) => {
      if (session instanceof Connection) {
        this.#onFrame(session, data, isBinary);
      } else if (session === 'starting') {
        earlyBytes += rawLength(data);
        if (early !== undefined && early.length < MAX_EARLY_FRAMES && earlyBytes <= this.options.maxEarlyBytes) {
          early.push([data, isBinary]);
        } else if (ws.readyState === ws.OPEN) {
          // Dropping them silently would lose sends the client believes are on their way.
          early = undefined;
          ws.close(CloseCode.TooMuchBeforeReady, 'too much before ready');
        }
      } else {
        session = 'starting';
        clearTimeout(helloTimer);
        helloTimer = undefined;
        const refuse = (error: unknown) => this.#refuse(ws, error);
        this.#authenticate(ws, data, isBinary).then((hello) => {
          if (hello === undefined) return;
          authenticated = hello.connection;
          this.#start(hello.connection, hello.since).then((connection) => {
            if (connection === undefined) return;
            session = connection;
            const waiting = early ?? [];
            early = undefined;
            for (const [frame, binary] of waiting) this.#onFrame(connection, frame, binary);
          }, refuse);
        }, refuse);
      }
    });
  }

  /**
   * Checks the hello frame and its token; the session's Connection (not yet registered) and the
   * client's position, or undefined if refused. Apart from #start, so that the frame and what was
   * parsed from it are let go before the session's own reads.
   */
  async #authenticate(
    ws: WebSocket,
    data: RawData,
    isBinary: boolean,
  ): Promise<{ connection: Connection; since: number | undefined } | undefined> {
    const parsed = isBinary ? undefined : parseHelloFrame(parseJson(data));
    if (parsed === undefined || !parsed.success) {
      const message = parsed ? describeIssues(parsed.error) : 'frames are JSON text';
      ws.send(JSON.stringify({ op: 'error', code: 'invalid_request', message: `expected hello: ${message}` }));
      ws.close(CloseCode.ProtocolError, 'expected hello');
      return;
    }
    const { token, since } = parsed.data;
    let device;
    try {
      device = await this.deps.accounts.authenticate(token);
    } catch (error) {
      // `unauthorized` only when the token was looked up and is unknown or revoked; a storage
      // failure is `unavailable`, and the client keeps its session and tries again later.
      this.#refuse(ws, error);
      return;
    }
    if (ws.readyState !== ws.OPEN) return;
    if ((this.#users.get(device.userId)?.connections.length ?? 0) >= this.options.maxSocketsPerUser) {
      const message = `this account already has ${this.options.maxSocketsPerUser} sockets on this server`;
      ws.send(JSON.stringify({ op: 'error', code: 'rate_limited', message }));
      ws.close(CloseCode.TooManySockets, 'too many sockets');
      return;
    }
    const connection = new Connection(
      ws,
      newConnId(),
      device.userId,
      device.deviceId,
      this.#connectionDeps,
      this.deps.clock.now(),
    );
    return { connection, since };
  }

  /** Registers an authenticated session, sends ready, starts replay; the live Connection, or undefined if it closed. */
  async #start(connection: Connection, since: number | undefined): Promise<Connection | undefined> {
    const { ws, userId, deviceId } = connection;
    // Subscribe before reading the head so that nothing committed after it is missed.
    await this.#register(connection);
    if (ws.readyState !== ws.OPEN) return;

    const { head, floor } = await this.deps.messages.logBounds(userId);
    this.#learnHead(userId, head, true);
    const resync = since !== undefined && (since < floor || since > head);
    const ready: ReadyFrame = {
      op: 'ready',
      userId,
      deviceId,
      seq: head,
      heartbeatMs: this.options.heartbeatMs,
      nodeId: this.options.nodeId,
    };
    // Ready, the replay and the presence snapshot leave together (released after #announce).
    const release = holdWrites(ws, MAX_HELLO_HOLD_MS);
    connection.send(JSON.stringify(ready));
    if (resync) {
      connection.send(
        JSON.stringify({
          op: 'error',
          code: 'resync_required',
          message: 'the log no longer covers your position; reload channels and history, then continue from ready.seq',
        }),
      );
    }
    connection.startLive(since === undefined || resync ? head : since, head);
    void this.#announce(connection).finally(release);
    return connection;
  }

  /** Presence for a new session: online to its audience, and the current picture to it. */
  async #announce(connection: Connection): Promise<void> {
    try {
      const audience = await this.deps.presence.connected(this.#lease(connection));
      connection.leaseTouchedAt = this.deps.clock.now();
      // Closed while we were announcing it: make sure the lease does not outlive the socket.
      if (!connection.open) await this.deps.presence.disconnected(this.#lease(connection));
      else await this.#sendPresenceSnapshot(connection, audience);
    } catch (error) {
      // Presence is best-effort (e.g. Redis restarting): the socket still serves messages.
      this.deps.log.warn({ err: error }, 'presence unavailable at hello');
    }
  }

  #lease(connection: Connection) {
    return { userId: connection.userId, connId: connection.connId, nodeId: this.options.nodeId };
  }

  async #sendPresenceSnapshot(connection: Connection, audience: ReadonlySet<string>): Promise<void> {
    const presence = await this.deps.presence.presenceOf([...audience]);
    for (const [userId, p] of presence) connection.send(JSON.stringify({ op: 'presence', userId, ...p }));
  }

  async #register(connection: Connection): Promise<void> {
    let sockets = this.#users.get(connection.userId);
    if (sockets === undefined) {
      const entry: UserSockets = {
        connections: [connection],
        unsubscribe: this.deps.live.subscribe(connection.userId, (payload) => this.#route(entry, payload)),
        head: 0,
        headReadAt: -Infinity,
        headRead: undefined,
      };
      sockets = entry;
      this.#users.set(connection.userId, sockets);
    } else {
      sockets.connections = sockets.connections.concat(connection);
    }
    this.#connectionCount++;
    await sockets.unsubscribe;
  }

  async #unregister(connection: Connection): Promise<void> {
    const sockets = this.#users.get(connection.userId);
    const at = sockets?.connections.indexOf(connection) ?? -1;
    if (sockets === undefined || at < 0) return;
    sockets.connections = sockets.connections.toSpliced(at, 1);
    this.#connectionCount--;
    if (sockets.connections.length === 0) {
      this.#users.delete(connection.userId);
      await (
        await sockets.unsubscribe
      )();
    }
    try {
      await this.deps.presence.disconnected(this.#lease(connection));
    } catch (error) {
      this.deps.log.warn({ err: error }, 'presence update on disconnect failed');
    }
  }

  /** Records a log head; one `fromStore` also restarts the interval of the periodic check. */
  #learnHead(userId: string, head: number, fromStore: boolean): void {
    const sockets = this.#users.get(userId);
    if (sockets === undefined) return;
    if (head > sockets.head) sockets.head = head;
    if (fromStore) sockets.headReadAt = this.deps.clock.now();
  }

  /**
   * The user's log head as this gateway knows it, for pong: read from the store at hello and
   * raised by every event the bus brings, so answering a ping costs no store round trip. An
   * event the bus lost is not in it; hence the store is read again once per heartbeat timeout
   * of a pinging user (the answer goes into the next pong, and the sockets are filled up to it).
   */
  #knownHead(connection: Connection): number {
    const sockets = this.#users.get(connection.userId);
    if (sockets === undefined) return connection.lastSeq;
    if (this.deps.clock.now() - sockets.headReadAt >= this.options.heartbeatTimeoutMs) {
      void this.#checkHead(connection.userId, sockets);
    }
    return Math.max(sockets.head, connection.lastSeq);
  }

  /**
   * Reads the user's log head from the store and brings every socket of the user up to it.
   * The bus is at-most-once: this is how an event it lost still reaches the devices.
   */
  #checkHead(userId: string, sockets: UserSockets): Promise<void> {
    sockets.headRead ??= (async () => {
      sockets.headReadAt = this.deps.clock.now();
      try {
        const { head } = await this.deps.messages.logBounds(userId);
        this.#learnHead(userId, head, true);
        for (const connection of sockets.connections) connection.fillTo(head);
      } catch (error) {
        this.deps.log.warn({ err: error }, 'log head check failed');
      } finally {
        sockets.headRead = undefined;
      }
    })();
    return sockets.headRead;
  }

  /** After a bus outage: every connected user's log may have entries the bus did not deliver. */
  async #catchUpAll(): Promise<void> {
    const users = [...this.#users.entries()];
    this.deps.log.warn({ users: users.length }, 'bus reconnected; catching up every socket from the log');
    let next = 0;
    const worker = async () => {
      while (next < users.length && !this.#closing) {
        const [userId, sockets] = users[next++]!;
        await this.#checkHead(userId, sockets);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECONNECT_CONCURRENCY, users.length) }, worker));
  }

  /** A bus payload for one user: fan it out to that user's sockets here. */
  #route(sockets: UserSockets, payload: BusPayload): void {
    const { connections } = sockets;
    switch (payload.kind) {
      case 'control':
        for (const connection of connections) {
          if (connection.deviceId === payload.control.deviceId)
            connection.ws.close(CloseCode.Unauthorized, 'logged out');
        }
        return;
      case 'ephemeral':
        for (const connection of connections) connection.send(payload.frame);
        return;
      case 'event': {
        const { seq, frame } = payload;
        if (seq > sockets.head) sockets.head = seq;
        for (const connection of connections) connection.offer(seq, frame);
        return;
      }
    }
  }

  #onFrame(connection: Connection, data: RawData, isBinary: boolean): void {
    connection.lastHeardAt = this.deps.clock.now();
    const json = isBinary ? undefined : parseJson(data);
    const parsed = isBinary ? undefined : parseSessionFrame(json);
    if (parsed === undefined || !parsed.success) {
      const message = parsed ? describeIssues(parsed.error) : 'frames are JSON text';
      // Echo the clientMsgId of a malformed send, so the client knows which send failed.
      const clientMsgId = (json as { clientMsgId?: unknown } | undefined)?.clientMsgId;
      connection.send(
        JSON.stringify({
          op: 'error',
          code: 'invalid_request',
          message,
          ...(typeof clientMsgId === 'string' ? { clientMsgId } : {}),
        }),
      );
      return;
    }
    const frame = parsed.data;
    switch (frame.op) {
      case 'ping': {
        connection.send(`{"op":"pong","seq":${this.#knownHead(connection)}}`);
        // The lease lives for the heartbeat timeout; renewing it a few times per lifetime is enough.
        const now = connection.lastHeardAt;
        if (now - connection.leaseTouchedAt >= this.options.heartbeatTimeoutMs / 3) {
          connection.leaseTouchedAt = now;
          void this.deps.presence.heartbeat(this.#lease(connection)).catch(() => undefined);
        }
        // A socket open for days keeps its token alive, as requests would.
        if (now - connection.tokenUsedAt >= RENEW_EVERY_MS) {
          connection.tokenUsedAt = now;
          void this.deps.accounts.tokenUsed(connection.deviceId).catch(() => undefined);
        }
        return;
      }
      case 'send':
        if (this.#closing) {
          // Shutting down: not stored, so the client resends it after reconnecting elsewhere.
          this.#sendError(
            connection,
            new ChatError('unavailable', 'the server is shutting down; send again after reconnecting'),
            frame.clientMsgId,
          );
          return;
        }
        this.deps.messages.send(connection.userId, connection.deviceId, frame).then(
          (message) =>
            connection.send(
              JSON.stringify({
                op: 'ack',
                clientMsgId: frame.clientMsgId,
                messageId: message.id,
                createdAt: message.createdAt,
              }),
            ),
          (error: unknown) => this.#sendError(connection, error, frame.clientMsgId),
        );
        return;
      case 'read':
        this.deps.channels
          .markRead(connection.userId, frame.channelId, frame.messageId)
          .catch((error: unknown) => this.#sendError(connection, error));
        return;
      case 'typing':
        void this.#typing(connection, frame.channelId).catch((error: unknown) => this.#sendError(connection, error));
        return;
    }
  }

  async #typing(connection: Connection, channelId: string): Promise<void> {
    const now = this.deps.clock.now();
    const sentAt = (connection.typingSentAt ??= new Map());
    const last = sentAt.get(channelId);
    if (last !== undefined && now - last < this.options.typingThrottleMs) return;
    sentAt.set(channelId, now);
    const { channel } = await this.deps.channels.requireMember(connection.userId, channelId);
    const frame: TypingEventFrame = { op: 'typing', channelId, userId: connection.userId };
    const others = channel.members.map((m) => m.userId).filter((id) => id !== connection.userId);
    await this.deps.events.publishEphemeral(others, frame);
  }

  /** Ends a session that could not start: an error frame, then the close code the error calls for. */
  #refuse(ws: WebSocket, error: unknown): void {
    const chatError = this.#logged(error, 'hello failed');
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify({ op: 'error', code: chatError.code, message: chatError.message }));
    ws.close(closeCodeFor(chatError.code), chatError.code);
  }

  #logged(error: unknown, what: string): ChatError {
    const chatError = toChatError(error);
    if (chatError.code === 'internal') this.deps.log.error({ err: error }, what);
    else if (chatError.code === 'unavailable') this.deps.log.warn({ err: error }, `${what}: unavailable`);
    return chatError;
  }

  #sendError(connection: Connection, error: unknown, clientMsgId?: string): void {
    const chatError = this.#logged(error, 'frame handling failed');
    connection.send(
      JSON.stringify({
        op: 'error',
        code: chatError.code,
        message: chatError.message,
        ...(clientMsgId === undefined ? {} : { clientMsgId }),
      }),
    );
  }

  /** Closes sockets that sent nothing (no ping) within the heartbeat timeout. */
  #sweepSilent(): void {
    const deadline = this.deps.clock.now() - this.options.heartbeatTimeoutMs;
    for (const { connections } of this.#users.values()) {
      for (const connection of connections) {
        if (connection.lastHeardAt >= deadline) continue;
        connection.ws.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
        // A vanished peer never answers the close handshake: drop the socket shortly after.
        setTimeout(() => connection.ws.terminate(), 1000).unref();
      }
    }
  }

  /**
   * The first step of a graceful stop: refuses new sockets and new sends (with `unavailable`:
   * the client resends after reconnecting), while the sockets stay open for the acks of the
   * sends already taken.
   */
  stopAccepting(): void {
    this.#closing = true;
    clearInterval(this.#sweepTimer);
    this.#offReconnect();
  }

  /**
   * Closes every socket with "going away" so clients reconnect elsewhere; sockets that have not
   * finished the closing handshake by `deadline` (Date.now() time) are cut.
   */
  async close(deadline = Date.now() + 2_000): Promise<void> {
    this.stopAccepting();
    for (const ws of this.#wss.clients) ws.close(CloseCode.GoingAway, 'server shutting down');
    while (this.#wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** Answers an upgrade request that will not become a WebSocket, in the documented error shape. */
function refuseUpgrade(socket: Duplex, error: ChatError): void {
  if (socket.writable) socket.end(rawErrorResponse(error));
  else socket.destroy();
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function parseJson(data: RawData): unknown {
  try {
    return JSON.parse(data.toString());
  } catch {
    return undefined;
  }
}

/** Random per process, so that ids stay unique across restarts of a node (see newConnId). */
const connIdPrefix = randomBytes(6).readUIntBE(0, 6).toString(36).slice(0, 6);
let connIdCount = 0;

/**
 * A connection's id, unique across nodes (presence leases pair it with the node id) and
 * restarts. Neither randomUUID, which Node builds from 16 concatenated pieces whose tree (kept
 * for the socket's life as the id and in the lease's key) took 450 bytes, nor randomBytes, a
 * system call per hello: a prefix and a counter, under 13 characters, which V8 keeps flat.
 */
function newConnId(): string {
  return connIdPrefix + (connIdCount++).toString(36);
}
