/**
 * Plain helpers for tests that talk to the real server over HTTP and WebSocket.
 */
import type { AuthResult, ServerFrame } from '@parley/protocol';
import WebSocket from 'ws';

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

/** One HTTP call; `body` is the parsed JSON (or undefined for 204). */
export async function http<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] = 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

let userCounter = 0;
export async function signup(baseUrl: string, name = 'user', deviceName?: string): Promise<AuthResult> {
  userCounter++;
  const username = `${name}${userCounter}_${process.pid % 1000}`;
  const result = await http<AuthResult>(baseUrl, 'POST', '/v1/auth/signup', {
    body: { username, password: 'correct horse battery', ...(deviceName ? { deviceName } : {}) },
  });
  if (result.status !== 201) throw new Error(`signup failed: ${JSON.stringify(result.body)}`);
  return result.body;
}

export async function login(baseUrl: string, username: string): Promise<AuthResult> {
  const result = await http<AuthResult>(baseUrl, 'POST', '/v1/auth/login', {
    body: { username, password: 'correct horse battery' },
  });
  if (result.status !== 200) throw new Error(`login failed: ${JSON.stringify(result.body)}`);
  return result.body;
}

type Frame = ServerFrame & Record<string, any>;

/** A WebSocket that records every frame and lets a test wait for the one it expects. */
export class TestSocket {
  readonly frames: Frame[] = [];
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly #taken = new Set<number>();
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static async open(wsUrl: string): Promise<TestSocket> {
    const ws = new WebSocket(wsUrl);
    const socket = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return socket;
  }

  /** Opens, says hello and waits for ready. */
  static async connect(wsUrl: string, token: string, since?: number): Promise<TestSocket> {
    const socket = await TestSocket.open(wsUrl);
    socket.send({ op: 'hello', token, ...(since === undefined ? {} : { since }) });
    await socket.next((f) => f.op === 'ready');
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame not yet taken by `next` that matches (waiting for it if needed). */
  next(match: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const index = this.frames.findIndex((frame, i) => !this.#taken.has(i) && match(frame));
    if (index >= 0) {
      this.#taken.add(index);
      return Promise.resolve(this.frames[index]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for a frame; last frames: ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      );
      this.#waiters.push({
        match: (frame) => match(frame),
        resolve: (frame) => {
          clearTimeout(timer);
          this.#taken.add(this.frames.lastIndexOf(frame));
          resolve(frame);
        },
      });
    });
  }

  /** Sends a message and waits for its ack (or error). */
  async sendMessage(channelId: string, text: string, clientMsgId = `c${Math.random()}`): Promise<Frame> {
    this.send({ op: 'send', channelId, text, clientMsgId });
    return this.next((f) => (f.op === 'ack' || f.op === 'error') && f.clientMsgId === clientMsgId);
  }

  events(type?: string): Frame[] {
    return this.frames.filter((f) => f.op === 'event' && (type === undefined || f.type === type));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/** Waits until `check` returns true, polling; fails after the timeout. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
