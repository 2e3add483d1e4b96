/**
 * The everyday path, as people use it: the production build served by the built server
 * (packages/server/dist/main.js, what `npm start` runs), several people in separate browser
 * contexts, desktop and phone. Every test fails on any uncaught page error or React error.
 * Needs `npm run build` and /usr/bin/chromium (or PARLEY_CHROMIUM); skipped when either is
 * missing, except under CI.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  browserSuiteEnv,
  desktop,
  launchChromium,
  logInUI,
  mobile,
  newPage,
  sendMany,
  startBuiltServer,
  watchPage,
  type ApiUser,
  type BuiltServer,
  browserSuiteMissing,
  poll,
  messageRow,
  messageRows,
} from './harness';

const shotDir = path.join(tmpdir(), 'parley-web-screenshots');

describe.skipIf(!!browserSuiteMissing)('the everyday path in the production build', () => {
  let server: BuiltServer;
  let browser: Browser;
  let http: ReturnType<typeof api>;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let userCount = 0;

  const person = async (name: string, displayName?: string): Promise<ApiUser> =>
    http.signup(`${name}${++userCount}`, displayName ? `${displayName} ${userCount}` : undefined);
  /** A page of its own for `who`, watched for errors, not logged in yet. */
  const watched = async (
    who: ApiUser,
    options: BrowserContextOptions = desktop,
  ): Promise<{ context: BrowserContext; page: Page }> => {
    const { context, page } = await newPage(browser, server.baseUrl, options);
    contexts.push(context);
    watchPage(page, who.username, problems);
    return { context, page };
  };
  const open = async (who: ApiUser, options: BrowserContextOptions = desktop): Promise<Page> => {
    const { page } = await watched(who, options);
    await logInUI(page, who.username);
    return page;
  };
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
    // Push is configured, so the notifications switch shows (and must explain why it stays off).
    const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' });
    const b64 = (s: string) => Buffer.from(s, 'base64url');
    const vapidPublic = Buffer.concat([Buffer.from([4]), b64(jwk.x!), b64(jwk.y!)]).toString('base64url');
    server = await startBuiltServer({
      PARLEY_VAPID_PUBLIC_KEY: vapidPublic,
      PARLEY_VAPID_PRIVATE_KEY: jwk.d!,
      ...browserSuiteEnv,
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

  /** The badge text of a conversation in the list. */
  const badgeOf = (page: Page, title: string) =>
    conversation(page, title)
      .getAttribute('aria-describedby')
      .then((id) => page.locator(`#${id}`).textContent());
  const nameOf = async (who: ApiUser) =>
    (await http.call<{ user: { displayName: string } }>('GET', '/v1/me', who.token)).user.displayName;
  const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
  const sendUI = async (page: Page, text: string) => {
    await composer(page).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await messageRow(page, text).first().waitFor();
  };

  it('unread after being away is the server’s count, not twice it', async () => {
    const reader = await person('away', 'Away');
    const writer = await person('writer', 'Writer');
    const channelId = await http.dm(writer, reader);
    await http.send(writer, channelId, 'Before leaving');
    const { context, page } = await watched(reader);
    await logInUI(page, reader.username);
    const title = await nameOf(writer);
    await conversation(page, title).click();
    await messageRow(page, 'Before leaving').waitFor();
    await poll(() => serverUnread(reader, channelId)).toBe(0);
    // The tab closes; ten messages arrive; the app opens again on the same device (it resumes
    // from its log position, so the ten come both in the list and as replayed events).
    await page.close();
    await sendMany(server.wsUrl, writer, channelId, 10, (i) => `While away ${i}`);
    const again = await context.newPage();
    watchPage(again, reader.username, problems);
    // Replayed events may arrive after the list snapshot that already counts them (a slow socket,
    // a gap filled over HTTP): hold them until the app has loaded the list twice (start, ready).
    let snapshots = 0;
    const held: (() => void)[] = [];
    again.on('response', (r) => {
      if (new URL(r.url()).pathname !== '/v1/channels') return;
      if (++snapshots === 2) for (const release of held.splice(0)) release();
    });
    await again.routeWebSocket(/\/v1\/ws/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((raw) => {
        const frame = JSON.parse(String(raw)) as { op: string; seq?: number };
        if (frame.op === 'event') lastSeq = Math.max(lastSeq, frame.seq!);
        if (snapshots < 2 && frame.op === 'event') held.push(() => ws.send(raw));
        else ws.send(raw);
      });
    });
    let lastSeq = 0;
    await again.goto('/');
    // Once the app has applied every replayed event (its saved position reaches the last one):
    await poll(() => snapshots >= 2 && held.length === 0 && lastSeq > 0).toBe(true);
    await poll(() => again.evaluate((id) => Number(localStorage.getItem(`parley:seq.${id}`) ?? 0), reader.id)).toBe(
      lastSeq,
    );
    await poll(() => badgeOf(again, title)).toContain('10 unread messages');
    expect(await serverUnread(reader, channelId)).toBe(10);
    expect(await again.title()).toBe('(10) Parley');
  });

  it('reload keeps unread, read and DM "Seen" state', async () => {
    const sender = await person('sender', 'Sender');
    const reader = await person('reader', 'Reader');
    const channelId = await http.dm(sender, reader);
    const senderPage = await open(sender);
    const readerPage = await open(reader);
    const senderTitle = await nameOf(sender);
    await senderPage.evaluate((c) => (location.hash = `#/c/${c}`), channelId);
    await sendUI(senderPage, 'Are you coming tonight?');
    await messageRow(senderPage, 'Are you coming tonight?').getByText('Sent').waitFor({ state: 'attached' });

    // Unread survives the reader's reload.
    await poll(() => badgeOf(readerPage, senderTitle)).toContain('1 unread message');
    await readerPage.reload();
    await poll(() => badgeOf(readerPage, senderTitle)).toContain('1 unread message');
    // Read, then reloaded: still read.
    await conversation(readerPage, senderTitle).click();
    await messageRow(readerPage, 'Are you coming tonight?').waitFor();
    await poll(() => serverUnread(reader, channelId)).toBe(0);
    await readerPage.reload();
    await messageRow(readerPage, 'Are you coming tonight?').waitFor();
    await poll(() => badgeOf(readerPage, senderTitle)).not.toContain('unread');

    // The sender sees "Seen", and still does after a reload.
    await messageRow(senderPage, 'Are you coming tonight?').getByText('Seen').waitFor({ state: 'attached' });
    await senderPage.reload();
    await messageRow(senderPage, 'Are you coming tonight?').getByText('Seen').waitFor({ state: 'attached' });
    expect(await messageRow(senderPage, 'Are you coming tonight?').getByText('Sent').count()).toBe(0);
  });

  it('group "Seen by N" shows who, live and after a reload', async () => {
    const owner = await person('owner', 'Owner');
    const a = await person('mia', 'Mia');
    const b = await person('noah', 'Noah');
    const name = `Seen ${userCount}`;
    const channelId = await http.group(owner, name, [a, b]);
    const ownerPage = await open(owner);
    await conversation(ownerPage, name).click();
    await sendUI(ownerPage, 'Lunch at noon?');
    const mine = messageRow(ownerPage, 'Lunch at noon?');
    await mine.getByText('Sent').waitFor({ state: 'attached' });

    for (const who of [a, b]) {
      const page = await open(who);
      await conversation(page, name).click();
      await messageRow(page, 'Lunch at noon?').waitFor();
    }
    const seen = mine.getByRole('button', { name: /^Seen by 2: / });
    await seen.waitFor();
    const label = await seen.getAttribute('aria-label');
    expect(label).toContain(await nameOf(a));
    expect(label).toContain(await nameOf(b));
    await seen.click();
    await ownerPage.locator('.seen-list', { hasText: await nameOf(a) }).waitFor();
    await shot(ownerPage, 'group-seen-by');
    await ownerPage.reload();
    await messageRow(ownerPage, 'Lunch at noon?')
      .getByRole('button', { name: /^Seen by 2: / })
      .waitFor();
    expect(channelId).toBeTruthy();
  });

  it('a DM partner’s presence (not a friend) is live, and never a stale "Online"', async () => {
    const me = await person('watcher', 'Watcher');
    const partner = await person('partner', 'Partner');
    await http.dm(me, partner);
    const page = await open(me);
    const title = await nameOf(partner);
    await conversation(page, title).click();
    const subtitle = page.locator('.chat-head .subtitle');
    await poll(() => subtitle.textContent()).not.toMatch(/^Online/);

    const { context } = await newPage(browser, server.baseUrl, desktop);
    contexts.push(context);
    const partnerPage = await context.newPage();
    watchPage(partnerPage, partner.username, problems);
    await logInUI(partnerPage, partner.username);
    await poll(() => subtitle.textContent()).toMatch(/^Online/);
    // After a reload too.
    await page.reload();
    await poll(() => page.locator('.chat-head .subtitle').textContent()).toMatch(/^Online/);
    // The partner leaves: no "Online" left behind.
    await context.close();
    await poll(() => page.locator('.chat-head .subtitle').textContent()).toMatch(/^(Last seen|Offline)/);
  });

  it('display name and status changes reach others live', async () => {
    const me = await person('viewer', 'Viewer');
    const friend = await person('renamer', 'Renamer');
    const channelId = await http.dm(me, friend);
    await http.send(friend, channelId, 'Hello there');
    const page = await open(me);
    await conversation(page, await nameOf(friend)).click();
    await messageRow(page, 'Hello there').waitFor();
    await http.call('PATCH', '/v1/me', friend.token, { displayName: 'Renamed Friend', statusText: 'At the beach' });
    await conversation(page, 'Renamed Friend').waitFor();
    await page.getByRole('heading', { name: 'Renamed Friend' }).waitFor();
    await poll(() => page.locator('.chat-head .subtitle').textContent()).toContain('At the beach');
  });

  it('a member offline for a while gets everything once, with the server’s unread count', async () => {
    const a = await person('talker', 'Talker');
    const b = await person('sleeper', 'Sleeper');
    const name = `Night ${userCount}`;
    const channelId = await http.group(a, name, [b]);
    const { context, page } = await watched(b, mobile);
    await logInUI(page, b.username);
    await conversation(page, name).waitFor();
    await context.setOffline(true);
    await page
      .getByRole('status')
      .filter({ hasText: /offline|Reconnecting/ })
      .waitFor();
    await sendMany(server.wsUrl, a, channelId, 12, (i) => `Overnight ${i}`);
    await context.setOffline(false);
    await poll(() => badgeOf(page, name)).toContain('12 unread messages');
    expect(await serverUnread(b, channelId)).toBe(12);
    await conversation(page, name).click();
    await messageRow(page, 'Overnight 11').waitFor();
    expect(await messageRow(page, 'Overnight 11').count()).toBe(1);
    await poll(() => serverUnread(b, channelId)).toBe(0);
  });

  it('the notifications switch says why it stays off when push is unavailable', async () => {
    const me = await person('notify', 'Notify');
    const { context, page } = await watched(me);
    await context.grantPermissions(['notifications']);
    await logInUI(page, me.username);
    await page.getByRole('button', { name: 'Settings' }).click();
    const toggle = page.getByRole('checkbox', { name: 'Notifications' });
    await toggle.click();
    // Debian's headless Chromium has no push service: the switch stays off and says so.
    const why = page.getByRole('dialog').getByRole('alert');
    await why.waitFor();
    expect(await why.textContent()).toMatch(/push service is unavailable|server did not accept/);
    expect(await toggle.isChecked()).toBe(false);
    await shot(page, 'notifications-unavailable');
  });

  it('a rendering error in the message list shows a message there, not a white page', async () => {
    const me = await person('broken', 'Broken');
    const other = await person('other', 'Other');
    const channelId = await http.dm(other, me);
    await http.send(other, channelId, 'This renders a time');
    const page = await open(me);
    await conversation(page, await nameOf(other)).click();
    await messageRow(page, 'This renders a time').waitFor();
    // Formatting times throws from now on: the next render of the list fails.
    await page.evaluate(() => {
      const w = window as unknown as { __format: unknown };
      w.__format = Object.getOwnPropertyDescriptor(Intl.DateTimeFormat.prototype, 'format');
      Object.defineProperty(Intl.DateTimeFormat.prototype, 'format', {
        configurable: true,
        get() {
          throw new Error('formatting is broken');
        },
      });
    });
    await http.send(other, channelId, 'This one cannot render');
    const failed = page.getByRole('alert').filter({ hasText: 'This part of Parley ran into a problem.' });
    await failed.first().waitFor();
    // The rest of the app still works.
    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).isVisible()).toBe(true);
    // The console got the error with the component stack; it is expected here.
    await poll(() =>
      problems.some((p) => p.includes('message list failed to render') && p.includes('at MessageList')),
    ).toBe(true);
    problems.splice(0);
    await page.evaluate(() => {
      const w = window as unknown as { __format: PropertyDescriptor };
      Object.defineProperty(Intl.DateTimeFormat.prototype, 'format', w.__format);
    });
    const retry = page.getByRole('button', { name: 'Try again' });
    while ((await retry.count()) > 0) await retry.first().click();
    await messageRow(page, 'This one cannot render').waitFor();
  });

  it('Korean: the UI speaks Korean and Korean text wraps between words', async () => {
    const me = await person('hana', 'Hana');
    const other = await person('minjun', '김민준');
    const channelId = await http.dm(other, me);
    const korean = '안녕하세요 오늘 저녁에 시간 괜찮으면 같이 밥 먹으러 갈까요 새로 생긴 식당이 정말 맛있다고 들었어요';
    await http.send(other, channelId, korean);
    const { page } = await watched(me, { ...mobile, locale: 'ko-KR' });
    await page.goto('/');
    await page.getByLabel('사용자 이름').fill(me.username);
    await page.getByLabel('비밀번호').fill('correct horse');
    await page.getByRole('button', { name: '로그인' }).click();
    await page.getByRole('button', { name: '새 메시지' }).waitFor();
    await page.getByRole('link', { name: await nameOf(other) }).click();
    const text = page.locator('.message-list .text', { hasText: '안녕하세요' });
    await text.waitFor();
    expect(await text.evaluate((el) => getComputedStyle(el).wordBreak)).toBe('keep-all');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ko');
    await shot(page, 'korean-phone');
  });

  it('a server restart with pages open: back within seconds, the outbox delivered once', async () => {
    const a = await person('alpha', 'Alpha');
    const b = await person('bravo', 'Bravo');
    const channelId = await http.dm(a, b);
    const pageA = await open(a);
    const pageB = await open(b);
    await pageA.evaluate((c) => (location.hash = `#/c/${c}`), channelId);
    await pageB.evaluate((c) => (location.hash = `#/c/${c}`), channelId);
    await sendUI(pageA, 'Before the restart');
    await messageRow(pageB, 'Before the restart').waitFor();

    await server.stop('SIGTERM');
    await pageB
      .getByRole('status')
      .filter({ hasText: /offline|Reconnecting|Connecting/ })
      .waitFor();
    await composer(pageB).fill('Written while the server was down');
    await pageB.keyboard.press('Enter');
    await messageRow(pageB, 'Written while the server was down').getByText('Sending…').waitFor({ state: 'attached' });
    await server.start();

    // Both pages come back by themselves (no "Retry now"), the queued message goes out once.
    await poll(() => messageRow(pageA, 'Written while the server was down').count(), 10_000).toBe(1);
    await messageRow(pageB, 'Written while the server was down')
      .getByText(/^(Sent|Seen)$/)
      .waitFor({ state: 'attached' });
    const history = await http.call<{ messages: { text: string }[] }>(
      'GET',
      `/v1/channels/${channelId}/messages?limit=100`,
      a.token,
    );
    expect(history.messages.filter((m) => m.text === 'Written while the server was down')).toHaveLength(1);
    // A message that arrives as the server comes back is read by the one looking at it, and "Seen" for its sender.
    await sendUI(pageA, 'Right after the restart');
    await messageRow(pageB, 'Right after the restart').waitFor();
    await poll(() => serverUnread(b, channelId)).toBe(0);
    await messageRow(pageA, 'Right after the restart').getByText('Seen').waitFor({ state: 'attached' });
    expect(server.log()).not.toMatch(/"level":(50|60)/);
  }, 60_000);

  it('a message sent while a new log-in is still connecting shows in the conversation it has open', async () => {
    const writer = await person('early', 'Early');
    const reader = await person('late', 'Late');
    const channelId = await http.dm(writer, reader);
    await http.send(writer, channelId, 'Before the log-in');
    const { page } = await watched(reader);
    // The socket's hello waits (a slow network, a busy server) while the app reads the list and
    // the conversation over HTTP.
    const heldHello: (() => void)[] = [];
    let holding = true;
    await page.routeWebSocket(/\/v1\/ws/, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((frame) => (holding ? heldHello.push(() => upstream.send(frame)) : upstream.send(frame)));
    });
    await logInUI(page, reader.username);
    await conversation(page, await nameOf(writer)).click();
    await messageRow(page, 'Before the log-in').waitFor();
    // Committed after that read and before the hello: neither the page nor the replay has it.
    await http.send(writer, channelId, 'While the socket connects');
    holding = false;
    for (const release of heldHello.splice(0)) release();
    await messageRow(page, 'While the socket connects').waitFor();
    await http.send(writer, channelId, 'Once connected');
    await messageRow(page, 'Once connected').waitFor();
    expect(
      await messageRows(page)
        .filter({ hasText: /While the socket connects|Before the log-in/ })
        .count(),
    ).toBe(2);
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
      await messageRow(page, 'Owner says 384').waitFor();
      await page.getByRole('button', { name: 'Members' }).click();
      await page.getByRole('complementary', { name: 'Group details' }).getByText('3 members').first().waitFor();
      await messageRow(page, 'Owner says 384').waitFor();
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
          return messageRow(page, count <= 25 ? 'News 0' : `News ${count - 1}`).count();
        }).toBe(1);

        const scroller = page.locator('.messages');
        const onScreen = async (text: string) => {
          const row = messageRow(page, text).first();
          // Rows far from the viewport are not in the DOM at all.
          if ((await row.count()) === 0) return false;
          const box = await row.boundingBox();
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

  it('finds an old Korean message, jumps to it, and shows the reader where they were mentioned', async () => {
    const owner = await person('owner', 'Owner');
    const reader = await person('reader', 'Reader');
    const mia = await person('mia', 'Mia');
    const name = `Search ${userCount}`;
    const channelId = await http.group(owner, name, [reader, mia]);
    const old = await http.send(owner, channelId, '내일 회의는 서울역에서 3시에 해요');
    await sendMany(server.wsUrl, owner, channelId, 80, (i) => `Filler ${i}`);
    await http.send(owner, channelId, `@${reader.username} can you book the room?`);
    const page = await open(reader);

    // The mention is counted on the conversation, and highlighted in the message.
    await poll(() => badgeOf(page, name)).toContain('1 unread mention');
    await conversation(page, name).click();
    const mentioned = messageRow(page, 'can you book the room?');
    await mentioned.waitFor();
    expect(await mentioned.locator('.msg.mentions-me').count()).toBe(1);

    // A two-character Korean word finds the old message, out of the loaded page; its result jumps there.
    await page.getByRole('button', { name: 'Search messages' }).click();
    const dialog = page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByRole('searchbox').fill('회의');
    const hit = dialog.getByRole('link').filter({ hasText: '서울역에서' });
    await hit.waitFor();
    expect(await hit.locator('mark').first().textContent()).toBe('회의');
    await shot(page, 'search-korean');
    expect(await hit.getAttribute('href')).toBe(`#/c/${channelId}/m/${old}`);
    await hit.click();
    await messageRow(page, '내일 회의는 서울역에서').waitFor();
    await messageRow(page, 'Filler 0').waitFor();

    // @ offers the channel's members; Enter puts the username in.
    await composer(page).fill('@mi');
    const option = page.getByRole('option', { name: new RegExp(mia.username) });
    await option.waitFor();
    await composer(page).press('Enter');
    await poll(() => composer(page).inputValue()).toBe(`@${mia.username} `);
    healthy();
  }, 45_000);
});
