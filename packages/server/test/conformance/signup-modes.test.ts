/**
 * Conformance: who may join (PARLEY_SIGNUP), invite codes that expire and run out, and the
 * first account of an empty server. Each mode gets a server of its own, so this file configures
 * the deployment and skips against an existing one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode, http, PASSWORD, uniqueName } from '../harness.js';
import { externalUrl, startTarget, type Target } from './target.js';

let t: Target | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const signup = (target: Target, extra: Record<string, unknown> = {}) =>
  http(target.baseUrl, 'POST', '/v1/auth/signup', {
    body: { username: uniqueName('s'), password: PASSWORD, ...extra },
  });

describe.skipIf(externalUrl)('sign-up modes', () => {
  it('invite: the first account needs no code and is admin; then a code is needed, expires and runs out', async () => {
    t = await startTarget({ PARLEY_SIGNUP: 'invite' });
    expect((await http(t.baseUrl, 'GET', '/v1/auth/config')).body).toEqual({ signup: 'invite' });
    const first = await signup(t);
    expect([first.status, first.body.role]).toEqual([201, 'admin']);
    const stranger = await signup(t);
    expect([stranger.status, errorCode(stranger)]).toEqual([403, 'forbidden']);

    const made = await http(t.baseUrl, 'POST', '/v1/invites', { token: first.body.token, body: { maxUses: 2 } });
    expect(made.status).toBe(201);
    expect(made.body.link).toBe(`/#/invite/${made.body.code}`);
    const { code } = made.body;
    const one = await signup(t, { inviteCode: code });
    expect([one.status, one.body.role]).toEqual([201, 'member']);
    expect((await signup(t, { inviteCode: code })).status).toBe(201);
    const spent = await signup(t, { inviteCode: code });
    expect([spent.status, errorCode(spent)]).toEqual([403, 'forbidden']);
    expect(errorCode(await signup(t, { inviteCode: 'made-up' }))).toBe('forbidden');

    const listed = await http(t.baseUrl, 'GET', '/v1/invites', { token: first.body.token });
    expect(listed.body.invites[0]).toMatchObject({ id: made.body.invite.id, uses: 2, maxUses: 2, revoked: false });

    // A member may not create invites unless the server allows it.
    const asMember = await http(t.baseUrl, 'POST', '/v1/invites', { token: one.body.token, body: {} });
    expect([asMember.status, errorCode(asMember)]).toEqual([403, 'forbidden']);

    // Revoked.
    const again = await http(t.baseUrl, 'POST', '/v1/invites', { token: first.body.token, body: {} });
    expect(
      (await http(t.baseUrl, 'DELETE', `/v1/invites/${again.body.invite.id}`, { token: first.body.token })).status,
    ).toBe(204);
    expect(errorCode(await signup(t, { inviteCode: again.body.code }))).toBe('forbidden');
  });

  it('invite: a code with one use left, redeemed by many at once, makes exactly one account', async () => {
    t = await startTarget({ PARLEY_SIGNUP: 'invite' });
    const first = await signup(t);
    const made = await http(t.baseUrl, 'POST', '/v1/invites', { token: first.body.token, body: { maxUses: 1 } });
    const target = t;
    const results = await Promise.all(Array.from({ length: 6 }, () => signup(target, { inviteCode: made.body.code })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403, 403]);
  });

  it('invite: members create invites when PARLEY_MEMBER_INVITES=true, and see only their own', async () => {
    t = await startTarget({ PARLEY_SIGNUP: 'invite', PARLEY_MEMBER_INVITES: 'true' });
    const first = await signup(t);
    const adminInvite = await http(t.baseUrl, 'POST', '/v1/invites', { token: first.body.token, body: {} });
    const member = await signup(t, { inviteCode: adminInvite.body.code });
    const own = await http(t.baseUrl, 'POST', '/v1/invites', { token: member.body.token, body: { expiresInHours: 1 } });
    expect(own.status).toBe(201);
    const listed = await http(t.baseUrl, 'GET', '/v1/invites', { token: member.body.token });
    expect(listed.body.invites.map((i: { id: string }) => i.id)).toEqual([own.body.invite.id]);
    expect((await signup(t, { inviteCode: own.body.code })).status).toBe(201);
  });

  it('closed: only the first account signs up; administrators create the others', async () => {
    t = await startTarget({ PARLEY_SIGNUP: 'closed' });
    const first = await signup(t);
    expect(first.body.role).toBe('admin');
    const refused = await signup(t);
    expect([refused.status, errorCode(refused)]).toEqual([403, 'forbidden']);
    const invite = await http(t.baseUrl, 'POST', '/v1/invites', { token: first.body.token, body: {} });
    expect(errorCode(await signup(t, { inviteCode: invite.body.code }))).toBe('forbidden');
    const username = uniqueName('made');
    const made = await http(t.baseUrl, 'POST', '/v1/admin/users', {
      token: first.body.token,
      body: { username, password: PASSWORD },
    });
    expect(made.status).toBe(201);
    const login = await http(t.baseUrl, 'POST', '/v1/auth/login', { body: { username, password: PASSWORD } });
    expect([login.status, login.body.role]).toEqual([200, 'member']);
  });

  it('open: two concurrent first sign-ups make exactly one admin', async () => {
    t = await startTarget({ PARLEY_SIGNUP: 'open' });
    const target = t;
    const results = await Promise.all(Array.from({ length: 4 }, () => signup(target)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(results.map((r) => r.body.role).sort()).toEqual(['admin', 'member', 'member', 'member']);
  });

  it('sign-ups and invite redemptions share the per-address limit', async () => {
    t = await startTarget({ PARLEY_SIGNUP: 'invite', PARLEY_SIGNUP_LIMIT: '2' });
    const first = await signup(t);
    const made = await http(t.baseUrl, 'POST', '/v1/invites', { token: first.body.token, body: { maxUses: 5 } });
    expect((await signup(t, { inviteCode: made.body.code })).status).toBe(201);
    const limited = await signup(t, { inviteCode: made.body.code });
    expect([limited.status, errorCode(limited)]).toEqual([429, 'rate_limited']);
  });
});
