/**
 * Every HTTP response carries the browser-side defences: the web app's pages and assets, API
 * answers and API errors alike.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server.close());

const EXPECTED_CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data: blob:;font-src 'self';" +
  "connect-src 'self' ws: wss:;worker-src 'self';manifest-src 'self';object-src 'none';base-uri 'none';" +
  "form-action 'self';frame-ancestors 'none'";

function expectDefences(headers: Headers): void {
  expect(headers.get('content-security-policy')).toBe(EXPECTED_CSP);
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('permissions-policy')).toContain('camera=()');
  expect(headers.get('permissions-policy')).toContain('microphone=()');
  expect(headers.get('permissions-policy')).toContain('geolocation=()');
}

describe('security headers', () => {
  it.each([
    ['an API answer', 'GET', '/healthz', 200],
    ['an API error', 'GET', '/v1/me', 401],
    ['an unknown API route', 'GET', '/v1/nothing-here', 404],
    ['a bad body', 'POST', '/v1/auth/login', 400],
  ])('are on %s', async (_what, method, path, status) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method,
      ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
    });
    expect(response.status).toBe(status);
    expectDefences(response.headers);
  });

  // Needs the built web app (npm run build), as `npm test` makes it.
  it('are on the web app shell, its client-side routes and its assets', async () => {
    expect(existsSync(`${server.config.webDir ?? ''}/index.html`)).toBe(true);
    for (const path of ['/', '/some/client/route', '/manifest.webmanifest', '/sw.js']) {
      const response = await fetch(`${server.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expectDefences(response.headers);
    }
  });
});
