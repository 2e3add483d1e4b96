/**
 * Sign-up and login limits over real HTTP, on a test clock (no sleeps): per address, per
 * username with a growing delay that never locks the owner out for good, and shared by every
 * process of a fleet through Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import { MemoryRateLimiter } from '../../src/adapters/memory/memory-rate-limiter.js';
import { RedisRateLimiter } from '../../src/adapters/redis/redis-rate-limiter.js';
import { deleteRedisKeys, redisSkipReason, redisTestUrl, uniqueRedisPrefix } from '../../src/adapters/redis/testing.js';
import { manualClock, type ManualClock } from '../../src/ports/contract/rate-limit.contract.js';

const PASSWORD = 'correct horse battery';
let counter = 0;
const freshName = (label: string) => `${label}${++counter}_${process.pid % 1000}`;

interface Reply {
  status: number;
  body: any;
  retryAfter: string | null;
}

/** A POST as if from `address` (the server trusts X-Forwarded-For in these tests). */
async function post(baseUrl: string, path: string, body: unknown, address: string): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : undefined,
    retryAfter: response.headers.get('retry-after'),
  };
}

const signup = (baseUrl: string, username: string, address: string) =>
  post(baseUrl, '/v1/auth/signup', { username, password: PASSWORD }, address);
const login = (baseUrl: string, username: string, password: string, address: string) =>
  post(baseUrl, '/v1/auth/login', { username, password }, address);

function expectRateLimited(reply: Reply, retryAfterMs: number): void {
  expect(reply.status).toBe(429);
  expect(reply.body.error).toMatchObject({ code: 'rate_limited', retryAfterMs });
  expect(reply.retryAfter).toBe(String(Math.ceil(retryAfterMs / 1000)));
}

const limitsEnv = {
  PARLEY_TRUST_PROXY: 'true',
  PARLEY_SIGNUP_LIMIT: '3',
  PARLEY_SIGNUP_WINDOW_MS: '3600000',
  PARLEY_LOGIN_LIMIT: '30',
  PARLEY_LOGIN_WINDOW_MS: '600000',
  PARLEY_LOGIN_FREE_TRIES: '10',
  PARLEY_LOGIN_MAX_DELAY_MS: '8000',
};

describe('one server', () => {
  let server: RunningServer;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = manualClock();
    server = await startServer({ env: limitsEnv, rateLimiter: new MemoryRateLimiter(clock) });
  });
  afterAll(async () => server.close());

  it('limits sign-ups per address: the 4th waits a third of the hour, stores nothing, and others still sign up', async () => {
    for (let i = 0; i < 3; i++) expect((await signup(server.baseUrl, freshName('s'), '10.0.0.1')).status).toBe(201);
    const refused = freshName('s');
    expectRateLimited(await signup(server.baseUrl, refused, '10.0.0.1'), 1_200_000);
    expect((await login(server.baseUrl, refused, PASSWORD, '10.0.0.9')).status).toBe(401);
    expect((await signup(server.baseUrl, freshName('s'), '10.0.0.2')).status).toBe(201);
    clock.advance(1_200_000);
    expect((await signup(server.baseUrl, refused, '10.0.0.1')).status).toBe(201);
  });

  it('limits logins per address across many usernames', async () => {
    const address = '10.0.1.1';
    for (let i = 0; i < 30; i++) {
      expect((await login(server.baseUrl, freshName('nobody'), 'a guess at it', address)).status).toBe(401);
    }
    expectRateLimited(await login(server.baseUrl, freshName('nobody'), 'a guess at it', address), 20_000);
    expect((await login(server.baseUrl, freshName('nobody'), 'a guess at it', '10.0.1.2')).status).toBe(401);
    clock.advance(600_000);
  });

  it('slows guessing one password with a growing delay, from any address, and lets the owner in once it passes', async () => {
    const username = freshName('owner');
    expect((await signup(server.baseUrl, username, '10.0.2.1')).status).toBe(201);
    // Ten guesses from ten addresses are free; the tenth makes the next try wait 1 s.
    for (let i = 0; i < 10; i++) {
      expect((await login(server.baseUrl, username, `guess ${i}`, `10.0.3.${i}`)).status).toBe(401);
    }
    // Even the right password waits (no oracle), but only as long as the delay says.
    expectRateLimited(await login(server.baseUrl, username, PASSWORD, '10.0.2.1'), 1_000);
    // An attacker taking every slot makes each wait double, up to the cap (8 s here, 15 min by default)...
    for (const wait of [1_000, 2_000, 4_000, 8_000, 8_000]) {
      clock.advance(wait);
      expect((await login(server.baseUrl, username, 'another guess', '10.0.4.1')).status).toBe(401);
      expectRateLimited(await login(server.baseUrl, username, PASSWORD, '10.0.2.1'), Math.min(wait * 2, 8_000));
    }
    // ...and never more: the owner gets in at the next slot, which forgets the tries.
    clock.advance(8_000);
    expect((await login(server.baseUrl, username, PASSWORD, '10.0.2.1')).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      expect((await login(server.baseUrl, username, `guess ${i}`, '10.0.4.2')).status).toBe(401);
    }
  });
});

const redisSkip = await redisSkipReason();

describe.skipIf(redisSkip !== false)('a fleet sharing Redis', () => {
  const prefix = uniqueRedisPrefix('ratehttp');
  const servers: RunningServer[] = [];
  const limiters: RedisRateLimiter[] = [];
  beforeAll(async () => {
    const clock = manualClock();
    for (let i = 0; i < 2; i++) {
      const limiter = await RedisRateLimiter.open({ url: redisTestUrl, prefix, clock });
      limiters.push(limiter);
      // Two processes of one fleet: their own stores, one Redis.
      servers.push(
        await startServer({
          env: { ...limitsEnv, PARLEY_REDIS_URL: redisTestUrl, PARLEY_REDIS_PREFIX: prefix },
          rateLimiter: limiter,
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await deleteRedisKeys(prefix);
  });

  it('counts sign-ups on every node against one budget per address', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    expect((await signup(a.baseUrl, freshName('f'), '10.1.0.1')).status).toBe(201);
    expect((await signup(b.baseUrl, freshName('f'), '10.1.0.1')).status).toBe(201);
    expect((await signup(a.baseUrl, freshName('f'), '10.1.0.1')).status).toBe(201);
    expectRateLimited(await signup(b.baseUrl, freshName('f'), '10.1.0.1'), 1_200_000);
  });
});
