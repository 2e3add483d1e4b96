/**
 * Names other people see cannot spoof: display names, status texts and group names with no
 * visible character, a bidirectional override or a lone surrogate are refused with
 * invalid_request, and nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '@parley/protocol';
import { startServer, type RunningServer } from '@parley/server';
import { http, signup } from '../harness.js';

let server: RunningServer;
let me: AuthResult;
beforeAll(async () => {
  server = await startServer();
  me = await signup(server.baseUrl, 'names');
});
afterAll(async () => server.close());

describe('names', () => {
  it.each([
    ['displayName', '\u200b\u200b', 'displayName: must contain a visible character'],
    ['displayName', 'admin\u202enimda', 'displayName: must not contain control or bidirectional-control characters'],
    ['statusText', '\u3164', 'statusText: must be empty or contain a visible character'],
  ])('refuses %s %j with invalid_request and changes nothing', async (field, value, message) => {
    const res = await http(server.baseUrl, 'PATCH', '/v1/me', { token: me.token, body: { [field]: value } });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'invalid_request', message });
    const after = await http(server.baseUrl, 'GET', '/v1/me', { token: me.token });
    expect(after.body.user).toEqual(me.user);
  });

  it('refuses a lone surrogate rather than storing U+FFFD', async () => {
    const res = await http(server.baseUrl, 'PATCH', '/v1/me', {
      token: me.token,
      rawBody: '{"displayName":"bad\\ud800name"}',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'invalid_request',
      message: 'displayName: must not contain unpaired surrogates',
    });
  });

  it('refuses an invisible group name, on creation and on rename', async () => {
    const created = await http(server.baseUrl, 'POST', '/v1/groups', {
      token: me.token,
      body: { name: '\u2800', memberIds: [] },
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toEqual({ code: 'invalid_request', message: 'name: must contain a visible character' });
    expect((await http(server.baseUrl, 'GET', '/v1/channels', { token: me.token })).body.channels).toEqual([]);

    const group = await http(server.baseUrl, 'POST', '/v1/groups', {
      token: me.token,
      body: { name: 'Team', memberIds: [] },
    });
    expect(group.status).toBe(201);
    const renamed = await http(server.baseUrl, 'PATCH', `/v1/channels/${group.body.channel.id}`, {
      token: me.token,
      body: { name: 'Team\u2066' },
    });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.code).toBe('invalid_request');
    const channel = await http(server.baseUrl, 'GET', `/v1/channels/${group.body.channel.id}`, { token: me.token });
    expect(channel.body.channel.name).toBe('Team');
  });

  it('accepts names in any script, with emoji', async () => {
    const res = await http(server.baseUrl, 'PATCH', '/v1/me', {
      token: me.token,
      body: { displayName: '김민지 👩‍💻', statusText: 'مرحبا' },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ displayName: '김민지 👩‍💻', statusText: 'مرحبا' });
  });
});
