// Dev helper: screenshots against a throwaway server. `npx vite-node -c vitest.config.ts packages/web/test/explore.ts`
import { startServer } from '@parley/server';
import { api, desktop, launchChromium, mobile, newPage, signUpUI } from './harness';

const server = await startServer();
const browser = await launchChromium();
try {
  const a = api(server.baseUrl);
  const bob = await a.signup('bob', 'Bob Kim');
  const { page } = await newPage(browser, server.baseUrl, desktop);
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto('/');
  await page.screenshot({ path: '/tmp/shot-auth.png' });
  await signUpUI(page, 'alice');
  const me = await page.evaluate(() => localStorage.getItem('parley:session'));
  const alice = { ...JSON.parse(me!), username: 'alice' } as { userId: string; token: string };
  const dm = await a.dm(bob, { id: alice.userId, token: alice.token, username: 'alice' });
  await a.send(bob, dm, 'Hey Alice! Did you see the new release?');
  await page.getByRole('link', { name: 'Bob Kim' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Yes! Looks great 🎉');
  await page.keyboard.press('Enter');
  await page.getByRole('listitem').filter({ hasText: 'Looks great' }).waitFor();
  await page.screenshot({ path: '/tmp/shot-desktop.png' });
  const m = await newPage(browser, server.baseUrl, mobile);
  await m.page.goto('/');
  await m.page.screenshot({ path: '/tmp/shot-mobile.png' });
} finally {
  await browser.close();
  await server.close();
}
