/**
 * Push in the production build: the mute control on a conversation (synced to the user's other
 * devices, kept by the server), the preview setting, and the service worker showing a pushed
 * notification named after the conversation with the conversation as its tag (delivered
 * through Chromium's DevTools protocol, since headless Chromium has no push service).
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuiteMissing, desktop, logInUI, mobile, poll, useBrowserSuite, type ApiUser } from './harness';

describe.skipIf(!!browserSuiteMissing)('push notifications in the production build', () => {
  // A VAPID key pair, so the server offers Web Push.
  const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' });
  const b64 = (v: string) => Buffer.from(v, 'base64url');
  const suite = useBrowserSuite(() => ({
    PARLEY_VAPID_PUBLIC_KEY: Buffer.concat([Buffer.from([4]), b64(jwk.x!), b64(jwk.y!)]).toString('base64url'),
    PARLEY_VAPID_PRIVATE_KEY: jwk.d!,
  }));
  let count = 0;

  const person = (name: string) => suite.http.signup(`${name}${++count}`);
  const open = async (who: ApiUser, options = desktop): Promise<Page> => {
    const page = await suite.page(who.username, options);
    await logInUI(page, who.username);
    return page;
  };
  const muteButton = (page: Page) => page.getByRole('button', { name: 'Mute notifications' });

  it('mutes a conversation from its header; the phone follows live and the server keeps it', async () => {
    const [alice, bob] = await Promise.all([person('muteA'), person('muteB')]);
    const dm = await suite.http.dm(alice, bob);
    await suite.http.send(alice, dm, 'hello there');
    const laptop = await open(bob);
    const phone = await open(bob, mobile);
    for (const page of [laptop, phone]) await page.goto(`${suite.server.baseUrl}/#/c/${dm}`);
    await muteButton(laptop).waitFor();
    expect(await muteButton(laptop).getAttribute('aria-pressed')).toBe('false');
    await muteButton(laptop).click();
    await poll(() => muteButton(laptop).getAttribute('aria-pressed')).toBe('true');
    await poll(() => muteButton(phone).getAttribute('aria-pressed')).toBe('true');
    const views = await suite.http.call<{ channels: { id: string; muted?: boolean }[] }>(
      'GET',
      '/v1/channels',
      bob.token,
    );
    expect(views.channels.find((c) => c.id === dm)?.muted).toBe(true);
    await laptop.reload();
    await poll(() => muteButton(laptop).getAttribute('aria-pressed')).toBe('true');
    await muteButton(phone).click();
    await poll(() => muteButton(laptop).getAttribute('aria-pressed')).toBe('false');
  });

  it('the service worker shows a pushed notification named after the conversation, tagged with it', async () => {
    const me = await person('swShow');
    const page = await suite.page(me.username);
    const context = page.context();
    await context.grantPermissions(['notifications'], { origin: suite.server.baseUrl });
    await logInUI(page, me.username);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const cdp = await context.newCDPSession(page);
    const registrationId = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const found = registrations.find((r) => !r.isDeleted);
        if (found) resolve(found.registrationId);
      }),
    );
    await cdp.send('ServiceWorker.enable');
    const payload = {
      title: 'Ann in Hikers',
      body: '3 new messages',
      channelId: '7400000000000000042',
      channelName: 'Hikers',
      messageId: '7400000000000000099',
      count: 3,
      tag: '7400000000000000042',
    };
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: new URL(suite.server.baseUrl).origin + '/',
      registrationId: await registrationId,
      data: JSON.stringify(payload),
    });
    const shown = () =>
      page.evaluate(async () => {
        const registration = await navigator.serviceWorker.ready;
        return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
      });
    await poll(shown).toEqual([{ title: 'Ann in Hikers', body: '3 new messages', tag: '7400000000000000042' }]);
  });

  it('never asks for notification permission on load; the preview setting is kept per user', async () => {
    const me = await person('previews');
    await suite.http.call('PATCH', '/v1/push/settings', me.token, { previews: false });
    const settings = await suite.http.call<{ previews: boolean }>('GET', '/v1/push/settings', me.token);
    expect(settings).toEqual({ previews: false });
    const page = await open(me);
    // Never asked on load: the permission prompt comes only from the switch in the settings.
    expect(await page.evaluate(() => Notification.permission)).toBe('default');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('checkbox', { name: 'Notifications' }).waitFor();
  });
});
