/** Shared pieces of the browser tests: Debian's Chromium through playwright-core, and API helpers. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@parley/server';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import WebSocket from 'ws';

export const chromiumPath = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Server settings for browser suites: presence moves in about a second and sends are never rate-limited. */
export const browserSuiteEnv = {
  PARLEY_HEARTBEAT_MS: '1000',
  PARLEY_HEARTBEAT_TIMEOUT_MS: '3000',
  PARLEY_PRESENCE_GRACE_MS: '300',
  PARLEY_SEND_RATE: '100000',
  PARLEY_SEND_BURST: '100000',
} as const;

export const desktop: BrowserContextOptions = {
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  locale: 'en-US',
  timezoneId: 'UTC',
  colorScheme: 'light',
};

export const mobile: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
  timezoneId: 'UTC',
  colorScheme: 'light',
};

export async function newPage(
  browser: Browser,
  baseUrl: string,
  options: BrowserContextOptions = desktop,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ...options, baseURL: baseUrl });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

/** Signs up through the UI and waits for the app shell. */
export async function signUpUI(page: Page, username: string, password = 'correct horse'): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'New message' }).waitFor();
}

export async function logInUI(page: Page, username: string, password = 'correct horse'): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'New message' }).waitFor();
}

/** The rows of the open conversation's message list. */
export const messageRows = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');

/**
 * The row whose own text contains `text`: not a quote of it, and not the row's whole text, which
 * runs on into the time ("Overnight 1" sent at 10:56 reads "Overnight 110:56").
 */
export const messageRow = (page: Page, text: string) =>
  messageRows(page).filter({ has: page.locator('.bubble > .text', { hasText: text }) });

export interface ApiUser {
  id: string;
  token: string;
  username: string;
}

/** A tiny REST client for seeding data without the UI. */
export function api(baseUrl: string) {
  const call = async <T>(method: string, path: string, token?: string, body?: unknown): Promise<T> => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    call,
    async signup(username: string, displayName?: string, password = 'correct horse'): Promise<ApiUser> {
      const r = await call<{ user: { id: string }; token: string }>('POST', '/v1/auth/signup', undefined, {
        username,
        password,
        displayName,
      });
      return { id: r.user.id, token: r.token, username };
    },
    async dm(a: ApiUser, b: ApiUser): Promise<string> {
      return (await call<{ channel: { id: string } }>('POST', '/v1/dms', a.token, { userId: b.id })).channel.id;
    },
    async group(owner: ApiUser, name: string, members: ApiUser[]): Promise<string> {
      const r = await call<{ channel: { id: string } }>('POST', '/v1/groups', owner.token, {
        name,
        memberIds: members.map((m) => m.id),
      });
      return r.channel.id;
    },
    async send(from: ApiUser, channelId: string, text: string): Promise<string> {
      const r = await call<{ message: { id: string } }>('POST', `/v1/channels/${channelId}/messages`, from.token, {
        text,
        clientMsgId: `seed-${Math.random().toString(36).slice(2)}-${Date.now()}`,
      });
      return r.message.id;
    },
    async befriend(a: ApiUser, b: ApiUser): Promise<void> {
      const r = await call<{ request: { id: string } }>('POST', '/v1/friends/requests', a.token, { userId: b.id });
      await call('POST', `/v1/friends/requests/${r.request.id}/accept`, b.token);
    },
  };
}

/**
 * The server as `npm start` runs it: packages/server/dist/main.js serving packages/web/dist,
 * as a child process whose log goes to a file, restartable on the same port and data.
 */
export interface BuiltServer {
  baseUrl: string;
  wsUrl: string;
  logFile: string;
  /** Stops the process (SIGTERM: a graceful shutdown, or SIGKILL) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and data directory; resolves once /healthz answers. */
  start(): Promise<void>;
  /** The log so far (pino JSON lines). */
  log(): string;
  close(): Promise<void>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const serverMain = path.join(repoRoot, 'packages/server/dist/main.js');
export const webIndex = path.join(repoRoot, 'packages/web/dist/index.html');

/**
 * Why the browser suites cannot run here ('' when they can): Chromium or the built server and web
 * app missing. Under CI that is an error, never a silent skip.
 */
export const browserSuiteMissing = !existsSync(chromiumPath)
  ? `no Chromium at ${chromiumPath} (apt-get install chromium)`
  : !existsSync(webIndex) || !existsSync(serverMain)
    ? 'the server or packages/web/dist is not built (npm run build)'
    : '';
if (browserSuiteMissing && process.env.CI) throw new Error(`web e2e cannot run: ${browserSuiteMissing}`);

/** Waits for what a page shows, polling as a person would look again. */
export const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 50 });

export async function startBuiltServer(env: Record<string, string> = {}): Promise<BuiltServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-web-e2e-'));
  const logFile = path.join(dataDir, 'server.log');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited = Promise.resolve();
  const start = async () => {
    const out = openSync(logFile, 'a');
    child = spawn(process.execPath, [serverMain], {
      env: {
        ...process.env,
        PARLEY_LOG_LEVEL: 'info',
        PARLEY_PASSWORD_HASH_COST: '10',
        // The suite signs people up freely; other sign-up modes are asked for by the test.
        PARLEY_SIGNUP: 'open',
        // The suite signs many people up and in from one address.
        PARLEY_SIGNUP_LIMIT: '1000000',
        PARLEY_LOGIN_LIMIT: '1000000',
        // To check that a test fails without a fix: serve another build of the app.
        ...(process.env.PARLEY_E2E_WEB_DIR ? { PARLEY_WEB_DIR: process.env.PARLEY_E2E_WEB_DIR } : {}),
        ...env,
        PARLEY_HOST: '127.0.0.1',
        PARLEY_PORT: String(port),
        PARLEY_DATA_DIR: dataDir,
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    const proc = child;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${readLog()}`);
      const ok = await fetch(`${baseUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${readLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  await start();
  return {
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    logFile,
    stop,
    start,
    log: readLog,
    async close() {
      await stop('SIGKILL');
      if (!process.env.PARLEY_KEEP_E2E_DATA) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Problems a page reports: uncaught errors, React errors on the console, a blank root. */
export function watchPage(page: Page, name: string, sink: string[]): void {
  page.on('pageerror', (e) => sink.push(`${name}: pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // Network failures while a server restarts are expected, and so is Chromium's own note that a
    // browser context without a profile has no push service; anything else on console.error is not.
    if (/Failed to load resource|WebSocket connection to .* failed|net::ERR_/.test(text)) return;
    if (/does not support the Push API in incognito mode/.test(text)) return;
    sink.push(`${name}: console.error: ${text.slice(0, 2000)}`);
  });
}

/** Sends `count` messages over one WebSocket as fast as the server takes them; returns their ids in order. */
export function sendMany(
  wsUrl: string,
  from: ApiUser,
  channelId: string,
  count: number,
  text: (i: number) => string,
): Promise<string[]> {
  if (count === 0) return Promise.resolve([]);
  const ids: string[] = new Array<string>(count);
  let acked = 0;
  const tag = Math.random().toString(36).slice(2);
  return new Promise<string[]>((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token: from.token })));
    ws.on('error', reject);
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { op: string; clientMsgId?: string; messageId?: string };
      if (f.op === 'ready') {
        for (let i = 0; i < count; i++) {
          ws.send(JSON.stringify({ op: 'send', channelId, text: text(i), clientMsgId: `many-${tag}-${i}` }));
        }
      } else if (f.op === 'ack') {
        ids[Number(f.clientMsgId!.split('-')[2])] = f.messageId!;
        if (++acked === count) {
          ws.close();
          resolve(ids);
        }
      } else if (f.op === 'error') reject(new Error(String(data)));
    });
  });
}

/** What a browser suite works with once its beforeAll has run (useBrowserSuite). */
export interface BrowserSuite {
  server: BuiltServer;
  browser: Browser;
  http: ReturnType<typeof api>;
  /** A fresh page in its own context; its uncaught errors fail the test that opened it. */
  page(name: string, options?: BrowserContextOptions): Promise<Page>;
}

/**
 * The lifecycle every browser suite shares, registered in the calling describe: the built server
 * with `env` and Chromium for the suite, and after each test its contexts closed and any page
 * error reported as a failure.
 */
export function useBrowserSuite(env: () => Record<string, string> = () => ({})): BrowserSuite {
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const suite = {
    async page(name: string, options: BrowserContextOptions = desktop): Promise<Page> {
      const { context, page } = await newPage(suite.browser, suite.server.baseUrl, options);
      contexts.push(context);
      watchPage(page, name, problems);
      return page;
    },
  } as BrowserSuite;
  beforeAll(async () => {
    suite.server = await startBuiltServer({ ...browserSuiteEnv, ...env() });
    suite.http = api(suite.server.baseUrl);
    suite.browser = await launchChromium();
  }, 60_000);
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    expect(problems.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}
