import { startServer } from '@parley/server';
import { desktop, launchChromium, newPage } from '/work/main/packages/web/test/harness';
const server = await startServer();
const browser = await launchChromium();
try {
  const { page } = await newPage(browser, server.baseUrl, desktop);
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  page.on('response', (r) => console.log('resp', r.status(), r.url()));
  await page.goto('/');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForTimeout(3000);
  await page.screenshot({ path: '/tmp/shot-dbg.png' });
} finally {
  await browser.close();
  await server.close();
}
