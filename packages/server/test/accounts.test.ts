import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import { http, login, signup, TestSocket } from './harness.js';

let server: RunningServer;
let url: string;
beforeAll(async () => {
  server = await startServer();
  url = server.baseUrl;
});
afterAll(() => server.close());

describe('sign-up', () => {
  it('creates a user and a first device', async () => {
    const res = await http(url, 'POST', '/v1/auth/signup', {
      body: { username: 'Zoe_1', password: 'long enough', displayName: 'Zoë' },
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.stringMatching(/^\d+$/), username: 'zoe_1', displayName: 'Zoë' });
    expect(res.body.token).toEqual(expect.any(String));
    expect(res.body.deviceId).toMatch(/^\d+$/);
  });

  it('treats usernames case-insensitively: a taken name is a conflict', async () => {
    await http(url, 'POST', '/v1/auth/signup', { body: { username: 'casey', password: 'long enough' } });
    const res = await http(url, 'POST', '/v1/auth/signup', { body: { username: 'CASEY', password: 'long enough' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it.each([
    [{ username: 'ab', password: 'long enough' }, 'username'],
    [{ username: 'has space', password: 'long enough' }, 'username'],
    [{ username: 'x'.repeat(33), password: 'long enough' }, 'username'],
    [{ username: 'shortpw', password: 'short' }, 'password'],
    [{ password: 'long enough' }, 'username'],
  ])('rejects %j with invalid_request naming the field', async (body, field) => {
    const res = await http(url, 'POST', '/v1/auth/signup', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toContain(field);
  });

  it('answers malformed JSON with invalid_request, not a 500', async () => {
    const res = await http(url, 'POST', '/v1/auth/signup', { rawBody: '{"username":' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('login and logout', () => {
  it('gives each login a new device with its own token', async () => {
    const first = await signup(url, 'dev');
    const second = await login(url, first.user.username);
    expect(second.deviceId).not.toBe(first.deviceId);
    expect(second.token).not.toBe(first.token);
    expect((await http(url, 'GET', '/v1/me', { token: second.token })).body.user.id).toBe(first.user.id);
  });

  it('refuses a wrong password with unauthorized', async () => {
    const user = await signup(url, 'pw');
    const res = await http(url, 'POST', '/v1/auth/login', {
      body: { username: user.user.username, password: 'wrong password' },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('revokes only the token that logged out, and closes its sockets', async () => {
    const first = await signup(url, 'out');
    const second = await login(url, first.user.username);
    const socket = await TestSocket.connect(server.wsUrl, first.token);
    expect((await http(url, 'POST', '/v1/auth/logout', { token: first.token })).status).toBe(204);
    expect(await socket.closed).toBe(4001);
    expect((await http(url, 'GET', '/v1/me', { token: first.token })).status).toBe(401);
    expect((await http(url, 'GET', '/v1/me', { token: second.token })).status).toBe(200);
  });

  it('slows down password guessing: after 10 tries, even the right password waits (retryAfterMs says how long)', async () => {
    const user = await signup(url, 'guess');
    const attempt = (password: string) =>
      http(url, 'POST', '/v1/auth/login', { body: { username: user.user.username, password } });
    for (let i = 0; i < 10; i++) expect((await attempt(`wrong guess ${i}`)).status).toBe(401);
    const limited = await attempt('correct horse battery');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
  });

  it('requires a bearer token', async () => {
    const res = await http(url, 'GET', '/v1/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

describe('profiles and user lookup', () => {
  it('updates display name and status text', async () => {
    const me = await signup(url, 'prof');
    const res = await http(url, 'PATCH', '/v1/me', {
      token: me.token,
      body: { displayName: 'Pro F', statusText: 'at lunch' },
    });
    expect(res.body.user).toMatchObject({ displayName: 'Pro F', statusText: 'at lunch' });
    expect((await http(url, 'GET', `/v1/users/${me.user.id}`, { token: me.token })).body.user.statusText).toBe(
      'at lunch',
    );
  });

  it('rejects unknown profile fields', async () => {
    const me = await signup(url, 'prof');
    const res = await http(url, 'PATCH', '/v1/me', { token: me.token, body: { username: 'hijack' } });
    expect(res.body.error.code).toBe('invalid_request');
  });

  it('finds users by username prefix', async () => {
    const me = await signup(url, 'searcher');
    await http(url, 'POST', '/v1/auth/signup', { body: { username: 'quokka_a', password: 'long enough' } });
    await http(url, 'POST', '/v1/auth/signup', { body: { username: 'quokka_b', password: 'long enough' } });
    const res = await http(url, 'GET', '/v1/users?query=QUOKKA', { token: me.token });
    expect(res.body.users.map((u: { username: string }) => u.username)).toEqual(['quokka_a', 'quokka_b']);
  });

  it('answers an unknown user id with not_found', async () => {
    const me = await signup(url, 'who');
    const res = await http(url, 'GET', '/v1/users/12345', { token: me.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('service discovery and health', () => {
  it('points clients at this node’s WebSocket', async () => {
    const res = await http(url, 'GET', '/v1/gateway');
    expect(res.body).toEqual({ url: server.wsUrl, nodeId: server.nodeId });
  });

  it('reports health', async () => {
    expect((await http(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers unknown API routes with a JSON not_found', async () => {
    const res = await http(url, 'GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
