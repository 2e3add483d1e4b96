/** Shared pieces of the browser tests: Debian's Chromium through playwright-core, and API helpers. */
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

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
