/**
 * Multi-process fleet for the cluster tests: API, gateway and notifier roles as separate
 * processes (the built packages/server/dist/main.js) on a fresh PostgreSQL database and a
 * private redis-server of the fleet's own (which a test may kill and restart; the machine's
 * shared Redis is never touched), plus a minimal protocol client that behaves like the SDK: discovery,
 * resume with `since`, seq-ordered apply with gap fill, and resend of unacked sends.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { Message, SyncEvent } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '../../src/adapters/postgres/testing.js';
import { PrivateRedis } from '../../src/adapters/redis/testing.js';
import { freePort } from '../../src/testing.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

// ------------------------------------------------------------------ build

const serverDir = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = path.resolve(serverDir, '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the server (tsc -b) unless dist/main.js is newer than every source file. */
export function ensureBuilt(): void {
  const main = path.join(serverDir, 'dist/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(path.join(serverDir, 'src'))) return;
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'packages/server'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}

// ------------------------------------------------------------------ fleet

export interface FleetOptions {
  apis?: number;
  gateways?: number;
  notifiers?: number;
  env?: Record<string, string>;
}

/**
 * One server process (packages/server/dist/main.js), its output appended to `logFile` so a
 * failing test can show what the servers said.
 */
export class ServerProcess {
  child!: ChildProcess;
  #exited!: Promise<void>;

  constructor(
    readonly port: number,
    readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/v1/ws`;
  }

  /** Starts (or starts again, same port and settings) and waits for /healthz. */
  async start(): Promise<void> {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [path.join(serverDir, 'dist/main.js')], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`server exited with ${this.child.exitCode}:\n${this.tail()}`);
      try {
        if ((await fetch(`${this.baseUrl}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${this.tail()}`);
      await sleep(50);
    }
  }

  /** Sends the signal (default SIGKILL) and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.#exited;
  }

  restart(): Promise<void> {
    return this.start();
  }

  /** The last lines the process wrote. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

export interface Node {
  name: string;
  role: 'api' | 'gateway' | 'notifier';
  process: ServerProcess;
}

export class Fleet {
  readonly nodes: Node[] = [];
  readonly logDir = mkdtempSync(path.join(tmpdir(), 'parley-cluster-'));
  private constructor(
    readonly database: TestDatabase,
    /** The fleet's own Redis: `redis.restart(downMs)` is a Redis restart for this fleet only. */
    readonly redis: PrivateRedis,
    readonly env: Record<string, string>,
  ) {}

  readonly redisPrefix = 'parley:';

  static async start(options: FleetOptions = {}): Promise<Fleet> {
    ensureBuilt();
    const database = await createTestDatabase('cluster');
    let redis: PrivateRedis;
    try {
      redis = await PrivateRedis.start();
    } catch (error) {
      await database.drop().catch(() => undefined);
      throw error;
    }
    const env = {
      PARLEY_DATABASE_URL: database.url,
      PARLEY_REDIS_URL: redis.url,
      PARLEY_HEARTBEAT_MS: '500',
      PARLEY_HEARTBEAT_TIMEOUT_MS: '2000',
      PARLEY_PRESENCE_GRACE_MS: '200',
      PARLEY_GATEWAY_CAPACITY: '1000',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_SEND_RATE: '1000',
      PARLEY_SEND_BURST: '1000',
      // Every simulated user signs up and logs in from this one address.
      PARLEY_SIGNUP: 'open',
      PARLEY_SIGNUP_LIMIT: '1000000',
      PARLEY_LOGIN_LIMIT: '1000000',
      ...options.env,
    };
    const fleet = new Fleet(database, redis, env);
    const plan: Array<Node['role']> = [
      ...Array<Node['role']>(options.gateways ?? 2).fill('gateway'),
      ...Array<Node['role']>(options.apis ?? 2).fill('api'),
      ...Array<Node['role']>(options.notifiers ?? 1).fill('notifier'),
    ];
    try {
      // All at once: migrations and node-id leases must cope with processes starting together.
      const counts = { api: 0, gateway: 0, notifier: 0 };
      await Promise.all(plan.map((role) => fleet.#spawn(role, `${role}${++counts[role]}`)));
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  async #spawn(role: Node['role'], name: string): Promise<Node> {
    const port = await freePort();
    const env: Record<string, string> = {
      ...this.env,
      PARLEY_ROLE: role,
      PARLEY_HOST: '127.0.0.1',
      PARLEY_PORT: String(port),
      PARLEY_DATA_DIR: path.join(this.logDir, `data-${name}`),
    };
    if (role === 'gateway') env.PARLEY_ADVERTISE_URL = `ws://127.0.0.1:${port}/v1/ws`;
    const node: Node = { name, role, process: new ServerProcess(port, env, path.join(this.logDir, `${name}.log`)) };
    this.nodes.push(node);
    await node.process.start();
    return node;
  }

  byRole(role: Node['role']): Node[] {
    return this.nodes.filter((n) => n.role === role);
  }

  get apiUrls(): string[] {
    return this.byRole('api').map((n) => n.process.baseUrl);
  }

  /** This fleet's Redis connections and pub/sub channels, for a failure message. */
  async redisState(userIds: readonly string[] = []): Promise<string> {
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    try {
      const channels = (await client.pubsub('CHANNELS', `${this.redisPrefix}*`)) as string[];
      const clients = ((await client.client('LIST')) as string)
        .split('\n')
        .filter((line) => line.includes(`@${this.redisPrefix}`))
        .map((line) => line.replace(/^.*?(name=\S+).*?(sub=\d+).*?(cmd=\S+).*$/, '$1 $2 $3'));
      const numsub =
        userIds.length === 0
          ? []
          : ((await client.pubsub('NUMSUB', ...userIds.map((u) => `${this.redisPrefix}u:${u}`))) as unknown[]);
      return `pub/sub channels: ${channels.length}; subscribers per user topic: ${JSON.stringify(
        numsub.filter((_, i) => i % 2 === 1),
      )}\n${clients.join('\n')}`;
    } catch (error) {
      return `redis state unavailable: ${String(error)}`;
    } finally {
      client.disconnect();
    }
  }

  /** What every process said last, for a failure message. */
  logs(lines = 15): string {
    return this.nodes.map((n) => `--- ${n.name} (${n.process.baseUrl})\n${n.process.tail(lines)}`).join('\n');
  }

  /** Stops every process and the fleet's Redis, and removes the database and the logs. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.process.kill('SIGKILL').catch(() => undefined)));
    rmSync(this.logDir, { recursive: true, force: true });
    await this.database.drop().catch(() => undefined);
    await this.redis.stop().catch(() => undefined);
  }
}

// ------------------------------------------------------------------ HTTP

export async function api<T>(baseUrl: string, method: string, url: string, token?: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(baseUrl + url, {
    method,
    headers,
    signal: AbortSignal.timeout(10_000),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} -> ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Session {
  userId: string;
  token: string;
  username: string;
}

export async function signup(baseUrl: string, username: string): Promise<Session> {
  const result = await api<{ user: { id: string }; token: string }>(baseUrl, 'POST', '/v1/auth/signup', undefined, {
    username,
    password: 'correct horse battery',
  });
  return { userId: result.user.id, token: result.token, username };
}

// ------------------------------------------------------------------ client

type Frame = { op: string; [key: string]: unknown };

interface PendingSend {
  /** Written to a socket at least once. */
  written?: boolean;
  channelId: string;
  text: string;
  clientMsgId: string;
  resolve: (messageId: string) => void;
  reject: (error: Error) => void;
}

/**
 * A device. Applies events strictly in seq order (a seq at or below the applied one is a
 * duplicate and dropped; a jump is a gap, filled from GET /v1/sync), finds its gateway through
 * GET /v1/gateway on the API nodes, resumes with `since` and resends unacked messages with the
 * same clientMsgId after a reconnect.
 */
export class TestClient {
  seq = 0;
  readonly applied: SyncEvent[] = [];
  readonly messages = new Map<string, Message>();
  /** message.created events for an id already applied: a real duplicate (must stay 0). */
  duplicateMessages = 0;
  /** Events dropped because their seq was already applied (harmless; the SDK drops them too). */
  staleEvents = 0;
  gapFills = 0;
  reconnects = 0;
  acks = 0;
  /** An ack for a clientMsgId that was acked before: must stay 0. */
  duplicateAcks = 0;
  /** Sends written again after a reconnect because they had no ack yet. */
  resends = 0;
  /** When the socket last dropped, and when the client was ready again after it (Date.now()). */
  droppedAt: number | undefined;
  readyAgainAt: number | undefined;
  lastCloseCode: number | undefined;
  readonly #acked = new Set<string>();
  readonly sendErrors: string[] = [];
  /** false: stay disconnected when the socket drops (a device that went away with its gateway). */
  autoReconnect = true;
  /**
   * false: never fill a gap over HTTP (unlike the SDK), to show that the server alone delivers
   * everything; events after a gap then wait in the buffer and the test sees them missing.
   */
  fillGaps = true;
  gatewayNodeId: string | undefined;
  gatewayUrl: string | undefined;
  readonly gatewaysUsed: string[] = [];

  readonly #pending = new Map<string, PendingSend>();
  readonly #buffer = new Map<number, SyncEvent>();
  #ws: WebSocket | undefined;
  #ping: NodeJS.Timeout | undefined;
  #closed = false;
  #connecting: Promise<void> | undefined;
  #filling = false;
  #apiTurn = 0;

  constructor(
    readonly session: Session,
    readonly apiUrls: readonly string[],
  ) {}

  get userId(): string {
    return this.session.userId;
  }

  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN && this.gatewayNodeId !== undefined;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** For failure messages: what this client waits for. */
  debugState(): object {
    return {
      seq: this.seq,
      buffered: [...this.#buffer.keys()].slice(0, 5),
      bufferedCount: this.#buffer.size,
      filling: this.#filling,
      gapFills: this.gapFills,
      stale: this.staleEvents,
      acks: this.acks,
      sendErrors: this.sendErrors.slice(-3),
    };
  }

  #api(): string {
    return this.apiUrls[this.#apiTurn++ % this.apiUrls.length]!;
  }

  /** Connects through discovery; retries (any API node, any gateway) until `timeoutMs`. */
  connect(timeoutMs = 30_000): Promise<void> {
    this.#connecting ??= this.#connectLoop(timeoutMs).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connectLoop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (!this.#closed) {
      try {
        await this.#connectOnce();
        return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) throw new Error(`${this.session.username}: could not connect: ${String(lastError)}`);
      await sleep(100);
    }
  }

  /** Moves to the gateway at `url` now (bypassing discovery), resuming from the applied seq. */
  async moveTo(url: string): Promise<void> {
    const old = this.#ws;
    this.#ws = undefined; // so that closing it does not trigger a reconnect through discovery
    old?.terminate();
    await this.#connectOnce(url);
  }

  async #connectOnce(direct?: string): Promise<void> {
    const url =
      direct ?? (await api<{ url: string; nodeId: string }>(this.#api(), 'GET', '/v1/gateway', this.session.token)).url;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('no ready within 5 s'));
      }, 5_000);
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error('closed before ready'));
      });
      ws.once('open', () => ws.send(JSON.stringify({ op: 'hello', token: this.session.token, since: this.seq })));
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.op === 'ready') {
          clearTimeout(timer);
          this.#ws = ws;
          this.gatewayNodeId = String(frame.nodeId);
          this.gatewayUrl = url;
          this.gatewaysUsed.push(this.gatewayNodeId);
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', () => {});
          ws.on('close', (code) => this.#onClose(ws, code));
          const heartbeatMs = Number(frame.heartbeatMs) || 1_000;
          clearInterval(this.#ping);
          this.#ping = setInterval(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send('{"op":"ping"}');
          }, heartbeatMs);
          if (this.droppedAt !== undefined) this.readyAgainAt = Date.now();
          // Resend everything not acked, with the same clientMsgId: the server dedupes.
          for (const send of this.#pending.values()) {
            if (send.written) this.resends++;
            this.#write(send);
          }
          resolve();
          return;
        }
        this.#onFrame(frame);
      });
    });
  }

  #onClose(ws: WebSocket, code: number): void {
    if (this.#ws !== ws) return;
    this.droppedAt = Date.now();
    this.readyAgainAt = undefined;
    this.lastCloseCode = code;
    this.#ws = undefined;
    this.gatewayNodeId = undefined;
    this.gatewayUrl = undefined;
    clearInterval(this.#ping);
    if (this.#closed || !this.autoReconnect) return;
    this.reconnects++;
    void this.connect().catch(() => undefined);
  }

  #onFrame(frame: Frame): void {
    switch (frame.op) {
      case 'event': {
        const { op: _op, ...event } = frame;
        this.#offer(event as unknown as SyncEvent);
        break;
      }
      case 'ack': {
        if (this.#acked.has(String(frame.clientMsgId))) this.duplicateAcks++;
        this.#acked.add(String(frame.clientMsgId));
        const send = this.#pending.get(String(frame.clientMsgId));
        if (send !== undefined) {
          this.#pending.delete(send.clientMsgId);
          this.acks++;
          send.resolve(String(frame.messageId));
        }
        break;
      }
      case 'error': {
        if (typeof frame.clientMsgId === 'string') {
          const send = this.#pending.get(frame.clientMsgId);
          this.sendErrors.push(String(frame.code));
          if (send !== undefined && frame.code !== 'unavailable') {
            this.#pending.delete(send.clientMsgId);
            send.reject(new Error(`${String(frame.code)}: ${String(frame.message)}`));
          }
        }
        break;
      }
      default:
        break;
    }
  }

  #offer(event: SyncEvent): void {
    if (event.seq <= this.seq) {
      this.staleEvents++;
      return;
    }
    this.#buffer.set(event.seq, event);
    this.#drain();
    if (this.#buffer.size > 0 && this.fillGaps) void this.#fill();
  }

  #drain(): void {
    for (let next = this.#buffer.get(this.seq + 1); next !== undefined; next = this.#buffer.get(this.seq + 1)) {
      this.#buffer.delete(next.seq);
      this.seq = next.seq;
      this.applied.push(next);
      if (next.type === 'message.created') {
        if (this.messages.has(next.message.id)) this.duplicateMessages++;
        this.messages.set(next.message.id, next.message);
      }
    }
    for (const seq of this.#buffer.keys()) if (seq <= this.seq) this.#buffer.delete(seq);
  }

  /** Fills a gap from the log over HTTP (what the SDK does when a seq jumps). */
  async #fill(): Promise<void> {
    if (this.#filling) return;
    this.#filling = true;
    try {
      while (this.#buffer.size > 0 && !this.#closed) {
        this.gapFills++;
        await this.catchUp();
      }
    } catch {
      // Retried on the next event or by the test's final catchUp.
    } finally {
      this.#filling = false;
    }
  }

  /** Reads the log over HTTP from the applied seq to the head. Returns how many events it applied. */
  async catchUp(): Promise<number> {
    let applied = 0;
    for (;;) {
      const page = await api<{ events: SyncEvent[]; hasMore: boolean }>(
        this.#api(),
        'GET',
        `/v1/sync?since=${this.seq}&limit=100`,
        this.session.token,
      );
      const before = this.seq;
      for (const event of page.events) {
        if (event.seq > this.seq) this.#buffer.set(event.seq, event);
      }
      this.#drain();
      applied += this.seq - before;
      if (!page.hasMore || page.events.length === 0) return applied;
    }
  }

  /** Sends over the socket (now, or after the next reconnect); resolves with the acked id. */
  send(channelId: string, text: string): Promise<string> {
    const clientMsgId = randomUUID();
    return new Promise((resolve, reject) => {
      const send: PendingSend = { channelId, text, clientMsgId, resolve, reject };
      this.#pending.set(clientMsgId, send);
      if (this.connected) this.#write(send);
    });
  }

  #write(send: PendingSend): void {
    const ws = this.#ws;
    if (ws?.readyState !== WebSocket.OPEN) return;
    send.written = true;
    ws.send(JSON.stringify({ op: 'send', channelId: send.channelId, text: send.text, clientMsgId: send.clientMsgId }));
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#ping);
    this.#ws?.terminate();
    for (const send of this.#pending.values()) send.reject(new Error('client closed'));
    this.#pending.clear();
  }
}
