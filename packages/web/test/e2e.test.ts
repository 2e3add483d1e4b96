/**
 * The web app end to end: the real server (serving packages/web/dist) and Debian's Chromium
 * driven by playwright-core. Needs `npm run build` first (the root `npm test` does it) and
 * /usr/bin/chromium (or PARLEY_CHROMIUM); skipped when either is missing, except under CI.
 *
 * Screenshots go to a temp dir, or to docs/screenshots with PARLEY_SCREENSHOTS=1.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@parley/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  api,
  browserSuiteEnv,
  desktop,
  launchChromium,
  logInUI,
  mobile,
  newPage,
  signUpUI,
  type ApiUser,
  browserSuiteMissing,
  poll,
  messageRow,
  messageRows,
} from './harness';

const here = path.dirname(fileURLToPath(import.meta.url));

const shotDir = process.env.PARLEY_SCREENSHOTS
  ? path.join(here, '../../../docs/screenshots')
  : path.join(tmpdir(), 'parley-web-screenshots');

type Server = Awaited<ReturnType<typeof startServer>>;

describe.skipIf(!!browserSuiteMissing)('web app in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let http: ReturnType<typeof api>;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  let alice: Page;
  let bob: Page;
  let bobContext: BrowserContext;
  let aliceUser: ApiUser;

  const open = async (options = desktop) => {
    const { context, page } = await newPage(browser, server.baseUrl, options);
    contexts.push(context);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return { context, page };
  };
  const sessionOf = async (page: Page, username: string): Promise<ApiUser> => {
    const raw = await page.evaluate(() => localStorage.getItem('parley:session'));
    const s = JSON.parse(raw!) as { userId: string; token: string };
    return { id: s.userId, token: s.token, username };
  };
  const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
  const send = async (page: Page, text: string) => {
    await composer(page).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await poll(() => messageRow(page, text).count()).toBeGreaterThan(0);
  };
  const shot = async (page: Page, name: string) => {
    mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: path.join(shotDir, `${name}.png`) });
  };

  beforeAll(async () => {
    server = await startServer({
      env: browserSuiteEnv,
    });
    http = api(server.baseUrl);
    browser = await launchChromium();
  }, 90_000);

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('two people sign up, find each other and chat live in a DM', async () => {
    ({ page: alice } = await open());
    ({ page: bob, context: bobContext } = await open());
    await signUpUI(alice, 'alice');
    await signUpUI(bob, 'bob');
    aliceUser = await sessionOf(alice, 'alice');

    // Alice starts a DM by searching for bob.
    await alice.getByRole('button', { name: 'New message' }).click();
    await alice.getByRole('textbox', { name: 'Search people' }).fill('bob');
    // The picker works from the keyboard: down from the search field to the first person, Enter.
    const bobRow = alice.getByRole('dialog').getByRole('button', { name: 'bob', exact: true });
    await bobRow.waitFor();
    await alice.keyboard.press('ArrowDown');
    await poll(() => bobRow.evaluate((el) => el === document.activeElement)).toBe(true);
    await shot(alice, 'pick-new-message');
    await alice.keyboard.press('Enter');
    await poll(() => alice.getByRole('heading', { name: 'bob' }).count()).toBe(1);
    await send(alice, 'Hi Bob 👋');
    await messageRow(alice, 'Hi Bob').getByText('Sent').waitFor({ state: 'attached' });

    // Bob sees the conversation appear with an unread badge, opens it, and Alice sees "Seen".
    const conv = bob.getByRole('link', { name: 'alice', exact: true });
    await conv.waitFor();
    await expect
      .poll(() => conv.getAttribute('aria-describedby').then((id) => bob.locator(`#${id}`).textContent()))
      .toContain('1 unread message');
    await conv.click();
    await messageRow(bob, 'Hi Bob 👋').waitFor();
    await messageRow(alice, 'Hi Bob').getByText('Seen').waitFor({ state: 'attached' });
    await poll(() => alice.locator('.chat-head .subtitle').textContent()).toBe('Online');

    // Typing indicator, Enter to send, Shift+Enter for a new line.
    await composer(bob).click();
    await bob.keyboard.type('Hey Alice');
    await alice.locator('.chat-head .subtitle', { hasText: 'bob is typing…' }).waitFor();
    await bob.keyboard.press('Shift+Enter');
    await bob.keyboard.type('second line');
    await bob.keyboard.press('Enter');
    const reply = messageRow(alice, 'Hey Alice');
    await reply.waitFor();
    expect(await reply.locator('.text').textContent()).toBe('Hey Alice\nsecond line');
    expect(await composer(bob).inputValue()).toBe('');

    // Order is preserved on both sides.
    const texts = async (page: Page) => (await messageRows(page).locator('.text').allTextContents()).slice(-2);
    expect(await texts(alice)).toEqual(['Hi Bob 👋', 'Hey Alice\nsecond line']);
    expect(await texts(bob)).toEqual(['Hi Bob 👋', 'Hey Alice\nsecond line']);
  }, 45_000);

  it('friend requests arrive live and can be accepted', async () => {
    await alice.getByRole('button', { name: 'Friends' }).click();
    await alice.getByRole('tab', { name: 'Add friend' }).click();
    await alice.getByRole('textbox', { name: 'Search people' }).fill('bob');
    await alice.getByRole('button', { name: 'Add: bob' }).waitFor();
    await shot(alice, 'pick-add-friend');
    await alice.getByRole('button', { name: 'Add: bob' }).click();
    await alice.getByRole('dialog').getByText('Request sent').waitFor();
    await alice.keyboard.press('Escape');

    await bob.getByRole('button', { name: /Friends \(1 friend request\)/ }).click();
    await bob.getByRole('tab', { name: 'Requests', selected: true }).waitFor();
    await bob.getByRole('button', { name: 'Accept' }).click();
    await bob.getByRole('tab', { name: 'All' }).click();
    await bob.getByRole('dialog').getByText('alice', { exact: true }).waitFor();
    await bob.keyboard.press('Escape');

    await alice.getByRole('button', { name: 'Friends', exact: true }).click();
    await alice.getByRole('dialog').getByText('bob', { exact: true }).waitFor();
    await alice.keyboard.press('Escape');
  }, 45_000);

  it('groups: create, chat live, manage members, leave', async () => {
    await http.signup('carol', 'Carol Park');
    await alice.getByRole('button', { name: 'New group' }).click();
    await alice.getByLabel('Group name').fill('Weekend plans');
    const search = alice.getByRole('textbox', { name: 'Add people' });
    await search.fill('bob');
    await alice.getByRole('checkbox', { name: 'bob' }).check();
    await search.fill('carol');
    await alice.getByRole('checkbox', { name: 'Carol Park' }).check();
    await shot(alice, 'pick-new-group');
    await alice.getByRole('button', { name: 'Create group' }).click();
    await alice.getByRole('heading', { name: 'Weekend plans' }).waitFor();
    await send(alice, 'Who is in for Saturday?');

    const group = bob.getByRole('link', { name: 'Weekend plans' });
    await group.click();
    const first = messageRow(bob, 'Who is in for Saturday?');
    await first.waitFor();
    expect(await first.locator('.sender').textContent()).toBe('alice');
    await send(bob, 'Count me in');
    await messageRow(alice, 'Count me in').waitFor();

    // The owner removes a member; a plain member cannot.
    await alice.getByRole('button', { name: 'Members' }).click();
    const panel = alice.getByRole('complementary', { name: 'Group details' });
    await panel.getByText('3 members').first().waitFor();
    // Removing asks first, and leaves a note in the conversation.
    await panel.getByRole('button', { name: 'Remove from group: Carol Park' }).click();
    const confirm = panel.getByRole('alertdialog');
    await confirm.getByText('Remove Carol Park from Weekend plans?').waitFor();
    await confirm.getByRole('button', { name: 'Remove from group' }).click();
    await panel.getByText('2 members').first().waitFor();
    await alice.getByRole('note').filter({ hasText: 'Carol Park was removed from the group' }).waitFor();
    // Adding a member uses the same picker: members are marked, others can be added (from the keyboard too).
    await panel.getByRole('button', { name: 'Add member' }).click();
    await panel.getByRole('textbox', { name: 'Add member' }).fill('carol');
    const addCarol = panel.getByRole('button', { name: 'Add: Carol Park' });
    await addCarol.waitFor();
    await alice.keyboard.press('ArrowDown');
    await poll(() => addCarol.evaluate((el) => el === document.activeElement)).toBe(true);
    await shot(alice, 'pick-add-member');
    await panel.locator('.add-member').getByRole('button', { name: 'Close' }).click();
    await bob.getByRole('note').filter({ hasText: 'Carol Park is no longer in the group' }).waitFor();

    await bob.getByRole('button', { name: 'Members' }).click();
    const bobPanel = bob.getByRole('complementary', { name: 'Group details' });
    await bobPanel.getByText('2 members').first().waitFor();
    expect(await bobPanel.getByRole('button', { name: /Remove from group/ }).count()).toBe(0);
    await bobPanel.getByRole('button', { name: 'Leave group' }).click();
    await bobPanel.getByRole('button', { name: 'Leave group' }).click();
    await poll(() => bob.getByRole('link', { name: 'Weekend plans' }).count()).toBe(0);
    await panel.getByText('1 member').first().waitFor();
    await alice.getByRole('button', { name: 'Close' }).click();
  }, 45_000);

  it('an offline user gets what was sent meanwhile, and their own queued message goes out', async () => {
    await bob.getByRole('link', { name: 'alice', exact: true }).click();
    await alice.getByRole('link', { name: 'bob', exact: true }).click();
    await bobContext.setOffline(true);
    await bob
      .getByRole('status')
      .filter({ hasText: /offline|Reconnecting/ })
      .waitFor();

    await send(alice, 'Are you there?');
    await composer(bob).fill('Back soon');
    await bob.keyboard.press('Enter');
    await messageRow(bob, 'Back soon').getByText('Sending…').waitFor({ state: 'attached' });
    expect(await messageRow(bob, 'Are you there?').count()).toBe(0);

    await bobContext.setOffline(false);
    await messageRow(bob, 'Are you there?').waitFor();
    await messageRow(bob, 'Back soon')
      .getByText(/Sent|Seen/)
      .waitFor({ state: 'attached' });
    await messageRow(alice, 'Back soon').waitFor();
  }, 45_000);

  it('a reload keeps the session, conversations, history and the unsent draft', async () => {
    await composer(alice).fill('half-written thought');
    await alice.reload();
    await alice.getByRole('heading', { name: 'bob' }).waitFor();
    await messageRow(alice, 'Back soon').waitFor();
    expect(await composer(alice).inputValue()).toBe('half-written thought');
    await alice.getByRole('link', { name: 'Weekend plans' }).waitFor();
    await composer(alice).fill('');

    // Installable: a manifest and an active service worker.
    const manifest = (await (await fetch(`${server.baseUrl}/manifest.webmanifest`)).json()) as {
      name: string;
      icons: unknown[];
    };
    expect(manifest.name).toBe('Parley');
    expect(manifest.icons.length).toBeGreaterThanOrEqual(3);
    expect(await alice.evaluate(async () => !!(await navigator.serviceWorker.ready).active)).toBe(true);
  }, 45_000);

  it('a refused message shows as failed and can be retried or discarded', async () => {
    const { page } = await open();
    let refuse = 2;
    await page.routeWebSocket(/\/v1\/ws/, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((raw) => {
        const frame = JSON.parse(String(raw)) as { op: string; clientMsgId?: string };
        if (frame.op === 'send' && refuse > 0) {
          refuse--;
          ws.send(
            JSON.stringify({
              op: 'error',
              code: 'forbidden',
              message: 'refused by the test',
              clientMsgId: frame.clientMsgId,
            }),
          );
          return;
        }
        upstream.send(raw);
      });
      upstream.onMessage((raw) => ws.send(raw));
    });
    await logInUI(page, 'bob');
    await page.getByRole('link', { name: 'alice', exact: true }).click();
    await send(page, 'This one is dropped');
    const dropped = messageRow(page, 'This one is dropped');
    await dropped.getByText('Not sent').waitFor();
    await dropped.getByRole('button', { name: 'Discard' }).click();
    await poll(() => dropped.count()).toBe(0);

    await send(page, 'This one gets through');
    const retried = messageRow(page, 'This one gets through');
    await retried.getByRole('button', { name: 'Retry' }).click();
    await retried.getByText(/^(Sent|Seen)$/).waitFor({ state: 'attached' });
    await messageRow(alice, 'This one gets through').waitFor();
    expect(await messageRow(alice, 'This one is dropped').count()).toBe(0);

    // The counter appears near the 100,000-character limit; over it, Send is disabled.
    await composer(page).fill('a'.repeat(95_000));
    await page.getByText('95,000 / 100,000').waitFor();
    await composer(page).fill('a'.repeat(100_005));
    await page.getByText('5 characters over the limit').waitFor();
    expect(await page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true);
    await composer(page).fill('');
    await page.close();
  }, 45_000);

  it('works in a phone-sized viewport: one column with a back button', async () => {
    const { page } = await open(mobile);
    await logInUI(page, 'bob');
    await page.getByRole('link', { name: 'alice', exact: true }).click();
    await messageRow(page, 'Are you there?').waitFor();
    expect(await page.getByRole('button', { name: 'New message' }).isVisible()).toBe(false);
    await send(page, 'Sent from my phone');
    await messageRow(alice, 'Sent from my phone').waitFor();
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'New message' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('parley:session'))).toBeNull();
    await page.close();
  }, 45_000);

  it('Korean: Enter during IME composition does not send; the UI speaks Korean', async () => {
    const before = await messageRows(alice).count();
    const box = composer(alice);
    await box.click();
    // Compose Hangul through Chromium's IME path; Enter arrives with isComposing set and must not send.
    const cdp = await alice.context().newCDPSession(alice);
    await cdp.send('Input.imeSetComposition', { text: '안', selectionStart: 1, selectionEnd: 1 });
    await cdp.send('Input.imeSetComposition', { text: '안녕하세', selectionStart: 4, selectionEnd: 4 });
    await alice.keyboard.press('Enter');
    await cdp.detach();
    expect(await box.inputValue()).toMatch(/^안녕하세/);
    await box.fill('안녕하세요');
    await alice.keyboard.press('Enter');
    await messageRow(bob, '안녕하세요').waitFor();
    // Exactly one message went out: the finished one, not the half-composed syllable.
    await messageRow(alice, '안녕하세요').waitFor();
    expect(await messageRows(alice).count()).toBe(before + 1);

    await alice.getByRole('button', { name: 'Settings' }).click();
    await alice.getByLabel('Language').selectOption('ko');
    await alice.keyboard.press('Escape');
    await alice.getByRole('button', { name: '새 메시지' }).waitFor();
    await alice.getByRole('separator', { name: '오늘' }).first().waitFor();
    expect(await alice.evaluate(() => document.documentElement.lang)).toBe('ko');
    await shot(alice, 'desktop-ko');
    await alice.getByRole('button', { name: '설정' }).click();
    await alice.getByLabel('언어').selectOption('en');
    await alice.keyboard.press('Escape');
    await alice.getByRole('button', { name: 'New message' }).waitFor();
  }, 45_000);

  it('a 10,000-message history stays virtualized, pages upward and jumps to a message', async () => {
    const dave = await http.signup('dave', 'Dave Lee');
    const channelId = await http.dm(dave, aliceUser);
    const ids: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(server.wsUrl);
      const total = 10_000;
      // Heartbeats as a real client sends them: acking 10,000 sends can outlast the test's 3 s timeout.
      const heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"op":"ping"}'), 500);
      ws.on('close', () => clearInterval(heartbeat));
      ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token: dave.token })));
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as { op: string; clientMsgId?: string; messageId?: string };
        if (f.op === 'ready') {
          for (let i = 0; i < total; i++) {
            const text =
              i % 7 === 0 ? `Message ${i}\nwith a second line and a bit more text to wrap around` : `Message ${i}`;
            ws.send(JSON.stringify({ op: 'send', channelId, text, clientMsgId: `bulk-${i}` }));
          }
        } else if (f.op === 'ack') {
          ids[Number(f.clientMsgId!.slice(5))] = f.messageId!;
          if (ids.filter(Boolean).length === total) {
            ws.close();
            resolve();
          }
        } else if (f.op === 'error') reject(new Error(String(data)));
      });
    });

    await alice.getByRole('link', { name: 'Dave Lee' }).click();
    await messageRow(alice, 'Message 9999').waitFor();
    const domRows = () => alice.locator('.messages .vrow').count();
    expect(await domRows()).toBeLessThan(80);

    // Scroll upward: older pages load, the list stays small and the view does not jump.
    const scroller = alice.locator('.messages');
    for (let i = 0; i < 6; i++) {
      const oldest = await messageRows(alice).first().locator('.text').textContent();
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      await expect
        .poll(async () => (await messageRows(alice).first().locator('.text').textContent()) !== oldest)
        .toBe(true);
    }
    expect(await domRows()).toBeLessThan(80);

    // Frame times while scrolling through the loaded window.
    const frames = await scroller.evaluate(async (el) => {
      const times: number[] = [];
      let last = performance.now();
      for (let i = 0; i < 60; i++) {
        el.scrollTop += 400;
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      return times.sort((a, b) => a - b);
    });
    const p90 = frames[Math.floor(frames.length * 0.9)]!;
    console.log(`10k scroll: median ${frames[30]!.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms per frame`);
    expect(p90).toBeLessThan(250);

    // Jump (around) to the very first message by permalink, then back to the latest.
    await alice.evaluate(([c, m]) => (window.location.hash = `#/c/${c}/m/${m}`), [channelId, ids[0]!]);
    await messageRow(alice, 'Message 0').first().waitFor();
    await poll(() => alice.locator('.msg.flash').count()).toBe(1);
    expect(await domRows()).toBeLessThan(80);
    await alice.getByRole('button', { name: 'Jump to latest' }).click();
    await messageRow(alice, 'Message 9999').waitFor();
  }, 90_000);

  it('profile: display name and status', async () => {
    await alice.getByRole('button', { name: 'Settings' }).click();
    await alice.getByLabel('Display name').fill('Alice Wonder');
    await alice.getByLabel('Status').fill('On holiday until Monday');
    await alice.getByRole('button', { name: 'Save profile' }).click();
    await alice.getByRole('dialog').getByText('Saved').waitFor();
    await alice.keyboard.press('Escape');
    await alice.locator('.sidebar-foot').getByText('Alice Wonder').waitFor();
    await alice.locator('.sidebar-foot').getByText('On holiday until Monday').waitFor();
    await bob.reload();
    await bob.getByRole('link', { name: 'Alice Wonder' }).waitFor();
  }, 45_000);

  it('screenshots: desktop and mobile with realistic content', async () => {
    const people = {
      mina: await http.signup('mina', 'Mina Choi'),
      sam: await http.signup('sam', 'Sam Rivera'),
      priya: await http.signup('priya', 'Priya Natarajan'),
      leo: await http.signup('leo', 'Leo Martin'),
    };
    const me = await http.signup('jordan', 'Jordan Lee');
    await http.call('PATCH', '/v1/me', me.token, { statusText: 'Shipping the web app' });
    for (const p of Object.values(people)) await http.befriend(me, p);
    const design = await http.group(me, 'Design team', [people.mina, people.sam, people.priya]);
    await http.send(people.mina, design, 'Morning! The new onboarding mockups are up in the shared folder.');
    await http.send(people.sam, design, 'Nice, the empty states look so much friendlier now.');
    await http.send(people.priya, design, 'Can we keep the illustration style consistent with the settings page?');
    await http.send(me, design, 'Agreed. I will do a pass on spacing and colours this afternoon.');
    await http.send(people.mina, design, 'Perfect, thanks! Review at 4?');
    const dmMina = await http.dm(me, people.mina);
    await http.send(people.mina, dmMina, 'Are we still on for lunch tomorrow? 🍜');
    await http.send(me, dmMina, 'Yes! The ramen place near the station?');
    await http.send(people.mina, dmMina, 'Sounds great. 12:30 works for me.');
    const dmLeo = await http.dm(people.leo, me);
    await http.send(
      people.leo,
      dmLeo,
      'I pushed the release notes draft, could you take a look when you have a minute?',
    );
    const dmSam = await http.dm(people.sam, me);
    await http.send(people.sam, dmSam, 'Thanks for the review 🙏');

    const { page } = await open();
    await logInUI(page, 'jordan');
    // Presence: Mina and Sam online.
    const online = [people.mina, people.sam].map(
      (u) =>
        new Promise<WebSocket>((resolve) => {
          const ws = new WebSocket(server.wsUrl);
          ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token: u.token })));
          ws.on('message', (d) => JSON.parse(String(d)).op === 'ready' && resolve(ws));
          const ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"op":"ping"}'), 500);
          ws.on('close', () => clearInterval(ping));
        }),
    );
    const sockets = await Promise.all(online);
    const titles = await page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('link')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(titles).toEqual(['Sam Rivera', 'Leo Martin', 'Mina Choi', 'Design team']);
    await page.getByRole('link', { name: 'Design team' }).click();
    await messageRow(page, 'Review at 4?').waitFor();
    await page.getByRole('button', { name: 'Members' }).click();
    await page.getByRole('complementary', { name: 'Group details' }).getByText('Mina Choi').waitFor();
    await shot(page, 'desktop-group');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('link', { name: 'Mina Choi' }).click();
    await messageRow(page, '12:30 works').waitFor();
    await composer(page).fill('Perfect, see you there!');
    await shot(page, 'desktop-dm');

    const phone = await open(mobile);
    await logInUI(phone.page, 'jordan');
    await phone.page.getByRole('link', { name: 'Leo Martin' }).waitFor();
    await shot(phone.page, 'mobile-list');
    await phone.page.getByRole('link', { name: 'Design team' }).click();
    await messageRow(phone.page, 'Review at 4?').waitFor();
    await shot(phone.page, 'mobile-chat');
    for (const ws of sockets) ws.close();
  }, 45_000);
});
