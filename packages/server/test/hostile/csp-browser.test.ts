/**
 * The built web app runs under the server's Content-Security-Policy in Chromium: two people sign
 * up, open a DM and chat live over the WebSocket, and the browser reports no CSP violation and
 * no page error. (A browser test: it belongs beside the web app's own suite.)
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '@parley/server';

let server: RunningServer;
let browser: Browser;
const violations: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(): Promise<Page> {
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // The DOM's own report of every blocked load or inline script/style, before the app starts.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`Content-Security-Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return page;
}

async function signUp(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'New message' }).waitFor();
}

it('runs the production app under the CSP with no violation', async () => {
  expect(existsSync(`${server.config.webDir ?? ''}/index.html`)).toBe(true);
  const suffix = String(process.pid % 10_000);
  const [alice, bob] = [await open(), await open()];
  const response = await alice.goto('/');
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  await signUp(alice, `alice${suffix}`);
  await signUp(bob, `bob${suffix}`);

  await alice.getByRole('button', { name: 'New message' }).click();
  await alice.getByRole('textbox', { name: 'Search people' }).fill(`bob${suffix}`);
  await alice
    .getByRole('dialog')
    .getByRole('button', { name: `bob${suffix}`, exact: true })
    .click();
  const composer = alice.getByRole('textbox', { name: 'Message', exact: true });
  await composer.fill('through the policy');
  await alice.getByRole('button', { name: 'Send', exact: true }).click();
  // Live delivery over the WebSocket to the other browser.
  await bob.getByRole('link', { name: `alice${suffix}`, exact: true }).click();
  await bob.getByRole('list', { name: 'Messages' }).getByText('through the policy').waitFor();
  // A reload runs the app from a cold start (service worker, manifest, icons) under the policy too.
  await bob.reload();
  await bob.getByRole('list', { name: 'Messages' }).getByText('through the policy').waitFor();

  expect(violations).toEqual([]);
  expect(pageErrors).toEqual([]);
}, 60_000);
