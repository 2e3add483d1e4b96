/**
 * Accounts in the production build: an invite link opens sign-up with its code, the first
 * account administers, a blocked person's group message hides behind a placeholder, devices are
 * listed and signed out, the password changes. Fails on any page error. Needs `npm run build`
 * and Chromium; skipped when either is missing, except under CI.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserSuiteMissing, logInUI, useBrowserSuite, type ApiUser } from './harness';

describe.skipIf(!!browserSuiteMissing)('accounts in the production build', () => {
  const suite = useBrowserSuite(() => ({ PARLEY_SIGNUP: 'invite' }));
  let admin: ApiUser;

  const open = async (name: string): Promise<Page> => {
    const page = await suite.page(name);
    // Confirmations (block, delete) are accepted.
    page.on('dialog', (dialog) => void dialog.accept());
    return page;
  };
  const settings = async (page: Page) => {
    await page.getByRole('button', { name: 'Settings' }).click();
    return page.getByRole('dialog', { name: 'Settings' });
  };

  beforeAll(async () => {
    // The first account of the empty server: its administrator.
    admin = await suite.http.signup('root', 'Root');
  });

  it('signs up through an invite link, with the code filled in', async () => {
    const made = await suite.http.call<{ code: string; link: string }>('POST', '/v1/invites', admin.token, {});
    const page = await open('invited');
    await page.goto(made.link);
    await expect.poll(() => page.getByLabel('Invite code').inputValue()).toBe(made.code);
    await page.getByLabel('Username').fill('invited1');
    await page.getByLabel('Password', { exact: true }).fill('correct horse');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('button', { name: 'New message' }).waitFor();
    // Without a code, a stranger is told why.
    const stranger = await open('stranger');
    await stranger.goto('/');
    await stranger.getByLabel('Username').fill('stranger1');
    await stranger.getByLabel('Password', { exact: true }).fill('correct horse');
    await stranger.getByRole('button', { name: 'Sign up' }).click();
    await stranger.getByRole('alert').filter({ hasText: 'invite code' }).waitFor();
  });

  it('hides a blocked person’s group messages, and shows them again after unblocking', async () => {
    const invite = async () => (await suite.http.call<{ code: string }>('POST', '/v1/invites', admin.token, {})).code;
    const signup = async (username: string) => {
      const r = await suite.http.call<{ user: { id: string }; token: string }>('POST', '/v1/auth/signup', undefined, {
        username,
        password: 'correct horse',
        displayName: username,
        inviteCode: await invite(),
      });
      return { id: r.user.id, token: r.token, username };
    };
    const me = await signup('blocker1');
    const pest = await signup('pest1');
    const room = await suite.http.group(me, 'Room', [pest]);
    await suite.http.send(pest, room, 'annoying words');
    const page = await open('blocker');
    await logInUI(page, me.username);
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: 'Room' }).click();
    const messages = page.getByRole('list', { name: 'Messages' });
    await messages.getByText('annoying words').waitFor();
    await page.getByRole('button', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Block: pest1' }).click();
    await messages.getByText('Message from a blocked user').waitFor();
    expect(await messages.getByText('annoying words').count()).toBe(0);
    const dialog = await settings(page);
    const blocked = dialog.getByRole('list', { name: 'Blocked people' });
    await blocked.getByText('pest1').waitFor();
    await blocked.getByRole('button', { name: 'Unblock' }).click();
    await dialog.getByText('You have not blocked anyone.').waitFor();
    await page.keyboard.press('Escape');
    await messages.getByText('annoying words').waitFor();
  });

  it('lists devices, signs one out, changes the password; the admin page deactivates a user', async () => {
    const page = await open('root');
    await logInUI(page, admin.username);
    const dialog = await settings(page);
    const devices = dialog.getByRole('list', { name: 'Devices' });
    await devices.getByText('this device').waitFor();
    const before = (await devices.getByRole('listitem').count()) - 1;
    expect(before).toBeGreaterThanOrEqual(1); // the API sign-up's device
    await devices.getByRole('button', { name: 'Sign out' }).first().click();
    await expect.poll(() => devices.getByRole('listitem').count()).toBe(before);

    await dialog.getByLabel('Current password').fill('correct horse');
    await dialog.getByLabel('New password').fill('battery staple');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByText('Password changed').waitFor();
    await expect.poll(() => devices.getByRole('listitem').count()).toBe(1);

    await dialog.getByRole('button', { name: 'Administration' }).click();
    const adminPage = page.getByRole('dialog', { name: 'Administration' });
    const row = adminPage.locator('[data-username="invited1"]');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await row.getByText('deactivated').waitFor();
    const login = await fetch(`${suite.server.baseUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'invited1', password: 'correct horse' }),
    });
    expect(login.status).toBe(403);
    await row.getByRole('button', { name: 'Reactivate' }).click();
    await row.getByRole('button', { name: 'Deactivate' }).waitFor();
  });
});
