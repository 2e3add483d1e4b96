/**
 * Tokens expire once unused for the configured lifetime, and every use renews them: checked on
 * a test clock over real HTTP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import { manualClock, type ManualClock } from '../../src/ports/contract/rate-limit.contract.js';
import { http, signup } from '../harness.js';

const DAY = 24 * 60 * 60 * 1000;
let server: RunningServer;
let clock: ManualClock;
beforeAll(async () => {
  clock = manualClock(Date.now());
  server = await startServer({ env: { PARLEY_TOKEN_LIFETIME_DAYS: '1' }, clock });
});
afterAll(async () => server.close());

it('keeps a token that is used within its lifetime, and expires it a lifetime after its last use', async () => {
  const me = await signup(server.baseUrl, 'tok');
  const use = () => http(server.baseUrl, 'GET', '/v1/me', { token: me.token });
  clock.advance(DAY - 60_000);
  expect((await use()).status).toBe(200);
  // The use renewed it: another almost-day later it still works, though older than a lifetime.
  clock.advance(DAY - 60_000);
  expect((await use()).status).toBe(200);
  clock.advance(DAY + 1);
  const expired = await use();
  expect(expired.status).toBe(401);
  expect(expired.body.error).toEqual({
    code: 'unauthorized',
    message: 'the token expired after going unused; log in again',
  });
});
