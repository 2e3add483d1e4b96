/**
 * The everyday path, as people use it: the production build served by the built server
 * (packages/server/dist/main.js, what `npm start` runs), several people in separate browser
 * contexts, desktop and phone. Every test fails on any uncaught page error or React error.
 * Needs `npm run build` and /usr/bin/chromium (or PARLEY_CHROMIUM); skipped when either is
 * missing, except under CI.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  chromiumPath,
  desktop,
  launchChromium,
  logInUI,
  mobile,
  newPage,
  sendMany,
  serverMain,
  startBuiltServer,
  watchPage,
  webIndex,
  type ApiUser,
  type BuiltServer,
} from './harness';

const missing = !existsSync(chromiumPath)
  ? `no Chromium at ${chromiumPath} (apt-get install chromium)`
  : !existsSync(webIndex) || !existsSync(serverMain)
    ? 'the server or packages/web/dist is not built (npm run build)'
    : '';
if (missing && process.env.CI) throw new Error(`web e2e cannot run: ${missing}`);

const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 50 });
const shotDir = path.join(tmpdir(), 'parley-web-screenshots');

describe.skipIf(!!missing)('the everyday path in the production build', () => {
  let server: BuiltServer;
  let browser: Browser;
  let http: ReturnType<typeof api>;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let userCount = 0;

  const person = async (name: string, displayName?: string): Promise<ApiUser> =>
    http.signup(`${name}${++userCount}`, displayName ? `${displayName} ${userCount}` : undefined);
  const open = async (who: ApiUser, options: BrowserContextOptions = desktop): Promise<Page> => {
    const { context, page } = await newPage(browser, server.baseUrl, options);
    contexts.push(context);
    watchPage(page, who.username, problems);
    await logInUI(page, who.username);
    return page;
  };
  const messages = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
  const message = (page: Page, text: string) => messages(page).filter({ hasText: text });
  const conversation = (page: Page, title: string) =>
    page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: title, exact: true });
  const shot = async (page: Page, name: string) => {
    mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: path.join(shotDir, `${name}.png`) });
  };
  /** The reader's unread count for a channel, as the server sees it. */
  const serverUnread = async (who: ApiUser, channelId: string) => {
    const r = await http.call<{ channels: { id: string; unreadCount: number }[] }>('GET', '/v1/channels', who.token);
    return r.channels.find((c) => c.id === channelId)?.unreadCount;
  };
  /** Fails at once when a page has reported a problem, instead of waiting for a timeout. */
  const healthy = () => {
    if (problems.length) throw new Error(problems.join('\n'));
  };

  beforeAll(async () => {
    server = await startBuiltServer({
      PARLEY_HEARTBEAT_MS: '1000',
      PARLEY_HEARTBEAT_TIMEOUT_MS: '3000',
      PARLEY_PRESENCE_GRACE_MS: '300',
      PARLEY_SEND_RATE: '100000',
      PARLEY_SEND_BURST: '100000',
    });
    http = api(server.baseUrl);
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    const found = problems.splice(0);
    expect(found).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.each([
    ['desktop', desktop],
    ['phone', mobile],
  ] as const)(
    'opens Members in a long group conversation scrolled to the bottom (%s)',
    async (_viewport, options) => {
      const owner = await person('owner', 'Owner');
      const others = [await person('member', 'Member'), await person('member', 'Member')];
      const title = `Long ${userCount}`;
      const channelId = await http.group(owner, title, others);
      await sendMany(server.wsUrl, others[0]!, channelId, 400, (i) =>
        i % 3 === 0
          ? `Long talk ${i}: a message with enough words in it to wrap onto a second line somewhere`
          : `Long talk ${i}`,
      );
      await sendMany(server.wsUrl, owner, channelId, 385, (i) => `Owner says ${i}`);
      const page = await open(owner, options);
      await conversation(page, title).click();
      await message(page, 'Owner says 384').waitFor();
      await page.getByRole('button', { name: 'Members' }).click();
      await page.getByRole('complementary', { name: 'Group details' }).getByText('3 members').first().waitFor();
      await message(page, 'Owner says 384').waitFor();
      await shot(page, `members-long-${_viewport}`);
      healthy();
    },
    45_000,
  );

  describe.each([
    ['desktop', desktop],
    ['phone', mobile],
  ] as const)('coming back to new messages (%s)', (viewport, options) => {
    it.each([
      ['dm', 1],
      ['dm', 7],
      ['dm', 25],
      ['dm', 60],
      ['dm', 400],
      ['group', 7],
      ['group', 25],
      ['group', 60],
      ['group', 400],
    ] as const)(
      '%s with %i new messages opens at the first unread and reads them',
      async (kind, count) => {
        const reader = await person('reader', 'Reader');
        const writer = await person('writer', 'Writer');
        const third = await person('third', 'Third');
        const groupName = `Crew ${userCount}`;
        const channelId =
          kind === 'dm' ? await http.dm(writer, reader) : await http.group(writer, groupName, [reader, third]);
        const title =
          kind === 'dm'
            ? (await http.call<{ user: { displayName: string } }>('GET', '/v1/me', writer.token)).user.displayName
            : groupName;
        const earlier = await sendMany(
          server.wsUrl,
          reader,
          channelId,
          30,
          (i) => `Earlier message ${i} from the reader`,
        );
        await http.call('POST', `/v1/channels/${channelId}/read`, reader.token, { messageId: earlier[29] });
        // Half the news arrive before the reader opens the app, half while it is open on another view.
        const text = (i: number) =>
          i % 5 === 0 ? `News ${i}\nwith a second line that is long enough to wrap on a phone screen` : `News ${i}`;
        const before = Math.floor(count / 2);
        await sendMany(server.wsUrl, writer, channelId, before, text);
        const page = await open(reader, options);
        const link = conversation(page, title);
        await link.waitFor();
        await sendMany(server.wsUrl, writer, channelId, count - before, (i) => text(before + i));
        const badge = () => link.getAttribute('aria-describedby').then((id) => page.locator(`#${id}`).textContent());
        await poll(badge).toContain(count === 1 ? '1 unread message' : `${count} unread messages`);
        await link.click();
        await poll(() => {
          healthy();
          return message(page, count <= 25 ? 'News 0' : `News ${count - 1}`).count();
        }).toBe(1);

        const scroller = page.locator('.messages');
        const onScreen = async (text: string) => {
          const box = await message(page, text).first().boundingBox();
          const view = await scroller.boundingBox();
          return !!box && !!view && box.y >= view.y - 1 && box.y + Math.min(box.height, 30) <= view.y + view.height + 1;
        };
        if (count <= 25) {
          // The first unread is in the loaded page: the view opens there, under the "New" divider.
          await page.getByRole('separator', { name: 'New' }).waitFor();
          await poll(() => onScreen('News 0')).toBe(true);
        } else {
          // It is not: the view opens at the newest message and offers to jump back to the first unread.
          await page.getByRole('button', { name: /Jump to first unread/ }).waitFor();
          await poll(() => onScreen(`News ${count - 1}`)).toBe(true);
        }
        await shot(page, `back-to-${kind}-${count}-${viewport}`);
        // Whatever is shown is read; scrolling down to the newest message reads the rest.
        await scroller.hover();
        for (let i = 0; i < 40 && !(await onScreen(`News ${count - 1}`)); i++) await page.mouse.wheel(0, 600);
        await poll(async () => {
          healthy();
          return serverUnread(reader, channelId);
        }).toBe(0);
        if (viewport === 'phone') await page.getByRole('button', { name: 'Back' }).click();
        await poll(badge).not.toContain('unread');
        healthy();
      },
      45_000,
    );
  });
});
