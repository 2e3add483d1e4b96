/**
 * The black-box harness: drives a Parley deployment only through its public HTTP and WebSocket
 * API (docs/protocol.md), given a base URL; the socket URL comes from discovery (GET /v1/gateway).
 * Nothing here imports server internals, so the same helpers serve the embedded server, a fleet
 * of processes on PostgreSQL + Redis, or any deployment an operator points them at.
 */
import { randomUUID } from 'node:crypto';
import type { AuthResult } from '@parley/protocol';
import WebSocket from 'ws';

/** Where a deployment answers: its API base URL and the socket URL discovery announces. */
export interface Endpoint {
  baseUrl: string;
  wsUrl: string;
}

/** The socket URL a deployment announces through service discovery. */
export async function discoverWs(baseUrl: string, token?: string): Promise<string> {
  const res = await http(baseUrl, 'GET', '/v1/gateway', token === undefined ? {} : { token });
  if (res.status !== 200 || typeof res.body?.url !== 'string') {
    throw new Error(`GET /v1/gateway: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.url;
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
  raw: string;
  contentType: string | null;
}

export async function http<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const raw = await response.text();
  let parsed: any = undefined;
  if (raw) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, body: parsed, raw, contentType: response.headers.get('content-type') };
}

/** A user name that is unique across runs against the same external server. */
export function uniqueName(prefix = 'u'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`.slice(0, 32);
}

export const PASSWORD = 'correct horse battery';

/** Signs a new user up (password PASSWORD); the username starts with `name`. */
export async function signup(baseUrl: string, name = 'user', deviceName?: string): Promise<AuthResult> {
  const result = await http<AuthResult>(baseUrl, 'POST', '/v1/auth/signup', {
    body: { username: uniqueName(name), password: PASSWORD, ...(deviceName ? { deviceName } : {}) },
  });
  if (result.status !== 201) throw new Error(`signup failed: ${result.status} ${result.raw}`);
  return result.body;
}

/** Logs in as an existing user (password PASSWORD): a new device. */
export async function login(baseUrl: string, username: string, deviceName?: string): Promise<AuthResult> {
  const result = await http<AuthResult>(baseUrl, 'POST', '/v1/auth/login', {
    body: { username, password: PASSWORD, ...(deviceName ? { deviceName } : {}) },
  });
  if (result.status !== 200) throw new Error(`login failed: ${result.status} ${result.raw}`);
  return result.body;
}

export interface Device {
  user: { id: string; username: string; displayName: string; statusText?: string };
  token: string;
  deviceId: string;
  /** The user's log head when the device was created (AuthResult.seq). */
  seq: number;
}

export class Client {
  constructor(
    readonly target: Endpoint,
    readonly device: Device,
  ) {}
  get id(): string {
    return this.device.user.id;
  }
  get token(): string {
    return this.device.token;
  }
  get username(): string {
    return this.device.user.username;
  }
  req<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
    return http<T>(this.target.baseUrl, method, path, { token: this.token, ...(body === undefined ? {} : { body }) });
  }
  /**
   * Opens a socket where discovery (GET /v1/gateway) sends this device, says hello and waits for
   * ready. On a fleet, successive devices may land on different gateways.
   */
  async connect(since?: number): Promise<Sock> {
    return Sock.connect(await discoverWs(this.target.baseUrl, this.token), this.token, since);
  }
  /** Logs in again: a second device of the same user. */
  async newDevice(deviceName = 'second'): Promise<Client> {
    const res = await http(this.target.baseUrl, 'POST', '/v1/auth/login', {
      body: { username: this.username, password: PASSWORD, deviceName },
    });
    if (res.status !== 200) throw new Error(`login: ${res.status} ${res.raw}`);
    return new Client(this.target, res.body);
  }
}

export async function newUser(target: Endpoint, prefix = 'u', extra: Record<string, unknown> = {}): Promise<Client> {
  const res = await http(target.baseUrl, 'POST', '/v1/auth/signup', {
    body: { username: uniqueName(prefix), password: PASSWORD, ...extra },
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${res.raw}`);
  return new Client(target, res.body);
}

/** One new user per name, as a tuple of the same length. */
export async function named<const N extends readonly string[]>(
  target: Endpoint,
  names: N,
): Promise<{ -readonly [K in keyof N]: Client }> {
  return (await Promise.all(names.map((n) => newUser(target, n)))) as unknown as { -readonly [K in keyof N]: Client };
}

export async function newUsers(target: Endpoint, n: number, prefix = 'u'): Promise<Client[]> {
  const out: Client[] = [];
  // A few at a time: password hashing is deliberately expensive.
  for (let i = 0; i < n; i += 8) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(8, n - i) }, () => newUser(target, prefix)))));
  }
  return out;
}

export async function dm(a: Client, b: Client): Promise<string> {
  const res = await a.req('POST', '/v1/dms', { userId: b.id });
  if (res.status !== 200 && res.status !== 201) throw new Error(`dm: ${res.status} ${res.raw}`);
  return res.body.channel.id;
}

export async function group(owner: Client, members: Client[], name = 'group'): Promise<string> {
  const res = await owner.req('POST', '/v1/groups', { name, memberIds: members.map((m) => m.id) });
  if (res.status !== 201) throw new Error(`group: ${res.status} ${res.raw}`);
  return res.body.channel.id;
}

export async function befriend(a: Client, b: Client): Promise<void> {
  const req = await a.req('POST', '/v1/friends/requests', { userId: b.id });
  if (req.status !== 201) throw new Error(`friend request: ${req.status} ${req.raw}`);
  const acc = await b.req('POST', `/v1/friends/requests/${req.body.request.id}/accept`);
  if (acc.status !== 200) throw new Error(`accept: ${acc.status} ${acc.raw}`);
}

/** Sends over HTTP; returns the stored message. */
export async function post(
  c: Client,
  channelId: string,
  text: string,
  clientMsgId: string = randomUUID(),
): Promise<any> {
  const res = await c.req('POST', `/v1/channels/${channelId}/messages`, { text, clientMsgId });
  if (res.status !== 201) throw new Error(`send: ${res.status} ${res.raw}`);
  return res.body.message;
}

export async function history(c: Client, channelId: string, query = ''): Promise<HttpResult> {
  return c.req('GET', `/v1/channels/${channelId}/messages${query ? `?${query}` : ''}`);
}

/** Every message of a channel, oldest first, paging backwards with `before`. */
export async function allMessages(c: Client, channelId: string): Promise<any[]> {
  const out: any[] = [];
  let before = '';
  for (;;) {
    const res = await history(c, channelId, `limit=100${before}`);
    if (res.status !== 200) throw new Error(`history: ${res.status} ${res.raw}`);
    out.unshift(...res.body.messages);
    if (res.body.messages.length === 0) break;
    before = `&before=${res.body.messages[0].id}`;
  }
  return out;
}

/** Numeric comparison of decimal-string ids. */
export function cmpId(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isAscending(ids: string[]): boolean {
  return ids.every((id, i) => i === 0 || cmpId(ids[i - 1]!, id) < 0);
}

/** A server frame as received: every frame has an `op`; the rest is checked by the test. */
export type Frame = { op: string } & Record<string, any>;

/** Frames for an error message, long texts cut short. */
export function brief(frames: Frame[]): string {
  return JSON.stringify(frames, (_k, v) =>
    typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length})` : v,
  );
}

/** A WebSocket that records every frame and lets a test wait for the frames it expects. */
export class Sock {
  readonly frames: Frame[] = [];
  readonly nonJson: string[] = [];
  #cursor = 0;
  readonly #taken = new Set<number>();
  #listeners = new Set<() => void>();
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  ready: Frame | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      try {
        this.frames.push(JSON.parse(text));
      } catch {
        this.nonJson.push(text);
      }
      for (const l of [...this.#listeners]) l();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
        for (const l of [...this.#listeners]) l();
      }),
    );
  }

  static async open(wsUrl: string): Promise<Sock> {
    const ws = new WebSocket(wsUrl);
    const sock = new Sock(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return sock;
  }

  static async connect(wsUrl: string, token: string, since?: number): Promise<Sock> {
    const sock = await Sock.open(wsUrl);
    sock.send({ op: 'hello', token, ...(since === undefined ? {} : { since }) });
    sock.ready = await sock.waitFor((f) => f.op === 'ready' || f.op === 'error');
    if (sock.ready.op !== 'ready') throw new Error(`hello refused: ${JSON.stringify(sock.ready)}`);
    return sock;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits until `check()` holds, re-evaluated on every frame and on close. */
  until<T>(check: () => T | undefined | false, what = 'condition', timeoutMs = 5000): Promise<T> {
    const first = check();
    if (first) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
      const listener = () => {
        const value = check();
        if (value) {
          clearTimeout(timer);
          this.#listeners.delete(listener);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        // A socket the server closed answers nothing more: say so, rather than look like a hang.
        const closed = this.closeCode === undefined ? '' : ` (the socket closed with ${this.closeCode})`;
        reject(new Error(`timed out waiting for ${what}${closed}; last frames: ${brief(this.frames.slice(-6))}`));
      }, timeoutMs);
      this.#listeners.add(listener);
    });
  }

  /** The first frame after the last one taken by waitFor that matches (consumes it). */
  async waitFor(match: (f: Frame) => boolean, timeoutMs = 5000, what = 'frame'): Promise<Frame> {
    const found = await this.until(
      () => {
        for (let i = this.#cursor; i < this.frames.length; i++) if (match(this.frames[i]!)) return { i };
        return undefined;
      },
      what,
      timeoutMs,
    );
    this.#cursor = found.i + 1;
    return this.frames[found.i]!;
  }

  /**
   * The first recorded frame (from the start) that matches and that `next` has not returned
   * before; waits for it. Unlike `waitFor` it does not keep a cursor, so frames may be taken in
   * any order.
   */
  async next(match: (f: Frame) => boolean, timeoutMs = 5000, what = 'frame'): Promise<Frame> {
    const found = await this.until(
      () => {
        for (let i = 0; i < this.frames.length; i++) if (!this.#taken.has(i) && match(this.frames[i]!)) return { i };
        return undefined;
      },
      what,
      timeoutMs,
    );
    this.#taken.add(found.i);
    return this.frames[found.i]!;
  }

  /** Sends a message and takes (with `next`) its ack or error. */
  async sendMessage(channelId: string, text: string, clientMsgId: string = randomUUID()): Promise<Frame> {
    this.send({ op: 'send', channelId, text, clientMsgId });
    return this.next((f) => (f.op === 'ack' || f.op === 'error') && f.clientMsgId === clientMsgId);
  }

  /** Any recorded frame (from the start) matching; waits for it. Does not consume. */
  seen(match: (f: Frame) => boolean, timeoutMs = 5000, what = 'frame'): Promise<Frame> {
    return this.until(() => this.frames.find(match), what, timeoutMs);
  }

  /** Sends a message and waits for its ack or error. */
  async sendMsg(channelId: string, text: string, clientMsgId: string = randomUUID(), timeoutMs = 5000): Promise<Frame> {
    this.send({ op: 'send', channelId, text, clientMsgId });
    return this.seen(
      (f) => (f.op === 'ack' || f.op === 'error') && f.clientMsgId === clientMsgId,
      timeoutMs,
      `ack of ${clientMsgId}`,
    );
  }

  events(type?: string): Frame[] {
    return this.frames.filter((f) => f.op === 'event' && (type === undefined || f.type === type));
  }

  /** Waits for the message.created event of a message id. */
  gotMessage(messageId: string, timeoutMs = 5000): Promise<Frame> {
    return this.seen(
      (f) => f.op === 'event' && f.type === 'message.created' && f.message?.id === messageId,
      timeoutMs,
      `message ${messageId}`,
    );
  }

  /** A round trip: ping, wait for the pong that follows (frames from before are in by then). */
  async roundTrip(): Promise<void> {
    const pongs = this.frames.filter((f) => f.op === 'pong').length;
    this.send({ op: 'ping' });
    await this.until(() => this.frames.filter((f) => f.op === 'pong').length > pongs, 'pong');
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  /** Pings every intervalMs until closed (the heartbeat a real client keeps). */
  keepAlive(intervalMs: number): this {
    const timer = setInterval(() => {
      if (this.open) this.send({ op: 'ping' });
    }, intervalMs);
    void this.closed.then(() => clearInterval(timer));
    this.#stopKeepAlive = () => clearInterval(timer);
    return this;
  }

  stopKeepAlive(): void {
    this.#stopKeepAlive();
  }

  #stopKeepAlive: () => void = () => {};

  /** Presence frames about a user, in arrival order. */
  presenceOf(userId: string): Frame[] {
    return this.frames.filter((f) => f.op === 'presence' && f.userId === userId);
  }

  /** Drops the TCP connection without a closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}

/** The name the older in-process tests use for the same socket. */
export { Sock as TestSocket };

export async function closeAll(socks: Sock[]): Promise<void> {
  await Promise.all(socks.map((s) => s.close()));
}

/** Polls a check (sync or async) until it holds; returns its value. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error shape of the contract: {error: {code, message}}. */
export function errorCode(res: HttpResult): string | undefined {
  return typeof res.body?.error?.code === 'string' ? res.body.error.code : undefined;
}

/** A string of exactly n Unicode code points. */
export function codePoints(n: number, unit = 'a'): string {
  return Array.from({ length: n }, () => unit).join('');
}

export function cpLength(s: string): number {
  return [...s].length;
}
