/**
 * Conformance: accounts, friends, groups and the privacy rule, probed the way a careful outside
 * tester would (edge inputs, non-members, removed members, limits).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  dm,
  group,
  http,
  named,
  newUser,
  newUsers,
  PASSWORD,
  post,
  type Client,
  Sock,
  type Sock as SockT,
  uniqueName,
  errorCode,
} from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
let carol: Client;
let mallory: Client;
const socks: SockT[] = [];

beforeAll(async () => {
  t = await startTarget();
  [alice, bob, carol, mallory] = await named(t, ['alice', 'bob', 'carol', 'mallory']);
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

const signup = (body: unknown) => http(t.baseUrl, 'POST', '/v1/auth/signup', { body });
const login = (body: unknown) => http(t.baseUrl, 'POST', '/v1/auth/login', { body });

describe('accounts', () => {
  it('uses the error shape {error:{code,message}} with stable codes', async () => {
    const res = await http(t.baseUrl, 'GET', '/v1/me');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const bad = await http(t.baseUrl, 'GET', '/v1/me', { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('unauthorized');
  });

  it('validates usernames: 3..32 of [a-z0-9_.-]; unicode and spaces refused', async () => {
    const base = uniqueName('v').slice(0, 20);
    for (const username of [
      'ab',
      'x'.repeat(33),
      'jürgen' + base.slice(0, 6),
      'a b' + base.slice(0, 6),
      '名前名前',
      '',
    ]) {
      const res = await signup({ username, password: PASSWORD });
      expect({ username, status: res.status, code: res.body?.error?.code }).toEqual({
        username,
        status: 400,
        code: 'invalid_request',
      });
    }
    const three = `${randomUUID().slice(0, 3)}`.replace(/[^a-z0-9]/g, 'z');
    const ok3 = await signup({ username: three, password: PASSWORD });
    expect([201, 409]).toContain(ok3.status); // 409 only if a previous run took it
    const ok32 = await signup({ username: `${base}${'_'.repeat(32 - base.length)}`, password: PASSWORD });
    expect(ok32.status).toBe(201);
    expect((await signup({ username: uniqueName('p'), password: 'short77' })).status).toBe(400);
  });

  it('treats usernames case-insensitively: login with uppercase works, signup in another case conflicts', async () => {
    const name = uniqueName('case');
    const up = await signup({ username: name.toUpperCase(), password: PASSWORD });
    // Uppercase input is either normalized (201) or refused (400); either way the name is one.
    if (up.status === 201) {
      expect(up.body.user.username).toBe(name);
    } else {
      expect(up.status).toBe(400);
      expect((await signup({ username: name, password: PASSWORD })).status).toBe(201);
    }
    const dup = await signup({ username: name, password: PASSWORD });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');
    const l = await login({ username: name.toUpperCase(), password: PASSWORD });
    expect(l.status).toBe(200);
    expect(l.body.user.username).toBe(name);
    const s = await Sock.connect(t.wsUrl, l.body.token);
    expect(s.ready!.userId).toBe(l.body.user.id);
    await s.close();
  });

  it('refuses display names over 64 characters (400) and bodies over 1 MiB (413)', async () => {
    const answers = [];
    for (const displayName of ['😀'.repeat(64), '😀'.repeat(65), 'x'.repeat(10_000), 'y'.repeat(2_000_000)]) {
      const res = await alice.req('PATCH', '/v1/me', { displayName });
      answers.push([res.status, res.status === 200 ? res.body.user.displayName === displayName : errorCode(res)]);
    }
    expect(answers).toEqual([
      [200, true],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [413, 'payload_too_large'],
    ]);
    const signupLong = await signup({
      username: uniqueName('long'),
      password: PASSWORD,
      displayName: 'z'.repeat(10_000),
    });
    expect([signupLong.status, errorCode(signupLong)]).toEqual([400, 'invalid_request']);
  });

  it('refuses bad JSON bodies and wrong types with invalid_request', async () => {
    const raw = await http(t.baseUrl, 'POST', '/v1/auth/signup', { rawBody: '{"username":' });
    expect(raw.status).toBe(400);
    expect(raw.body.error.code).toBe('invalid_request');
    for (const body of [
      { username: 5, password: PASSWORD },
      { username: ['a'], password: PASSWORD },
      [],
      'str',
      null,
    ]) {
      const res = await signup(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const wrongType = await alice.req('POST', '/v1/groups', { name: 5, memberIds: 'x' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.code).toBe('invalid_request');
  });

  it('logout revokes the token for HTTP and for the socket (hello: unauthorized + 4001), and closes live sockets', async () => {
    const u = await newUser(t, 'logout');
    const other = await u.newDevice('other');
    const live = await u.connect();
    const otherLive = await other.connect();
    socks.push(live, otherLive);
    expect((await u.req('POST', '/v1/auth/logout')).status).toBe(204);
    expect((await u.req('GET', '/v1/me')).status).toBe(401);
    expect(await live.closed).toBe(4001);
    // Re-using the revoked token on a new socket.
    const s = await Sock.open(t.wsUrl);
    s.send({ op: 'hello', token: u.token });
    const err = await s.waitFor((f) => f.op === 'error');
    expect(err.code).toBe('unauthorized');
    expect(await s.closed).toBe(4001);
    // The other device is untouched.
    expect((await other.req('GET', '/v1/me')).status).toBe(200);
    expect(otherLive.open).toBe(true);
    await otherLive.roundTrip();
    expect((await u.req('POST', '/v1/auth/logout')).status).toBe(401);
  });
});

describe('friends', () => {
  it('refuses a friend request to oneself and to an unknown user', async () => {
    const self = await alice.req('POST', '/v1/friends/requests', { userId: alice.id });
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('invalid_request');
    const ghost = await alice.req('POST', '/v1/friends/requests', { userId: '123456789012345' });
    expect(ghost.status).toBe(404);
    const nan = await alice.req('POST', '/v1/friends/requests', { userId: 'abc' });
    // Not an id at all: the body does not match the schema.
    expect(nan.status).toBe(400);
    expect(nan.body.error.code).toBe('invalid_request');
  });

  it('double accept does not create two friendships', async () => {
    const [x, y] = await newUsers(t, 2, 'fr');
    const req = await x!.req('POST', '/v1/friends/requests', { userId: y!.id });
    expect(req.status).toBe(201);
    const id = req.body.request.id;
    expect((await y!.req('POST', `/v1/friends/requests/${id}/accept`)).status).toBe(200);
    const again = await y!.req('POST', `/v1/friends/requests/${id}/accept`);
    // The request was consumed by the first accept: there is no such request any more.
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_found');
    const list = await x!.req('GET', '/v1/friends');
    expect(list.body.friends.filter((f: any) => f.user.id === y!.id)).toHaveLength(1);
    expect(list.body.friends[0].presence.status).toMatch(/^(online|offline)$/);
    // The requester cannot accept their own request; a stranger gets not_found.
    const req2 = await x!.req('POST', '/v1/friends/requests', { userId: carol.id });
    // Only the addressee can accept: to anyone else there is no such request to accept.
    expect((await x!.req('POST', `/v1/friends/requests/${req2.body.request.id}/accept`)).status).toBe(404);
    expect((await mallory.req('POST', `/v1/friends/requests/${req2.body.request.id}/accept`)).status).toBe(404);
    // Asking a friend again is a conflict.
    const again2 = await x!.req('POST', '/v1/friends/requests', { userId: y!.id });
    expect(again2.status).toBe(409);
    expect(again2.body.error.code).toBe('conflict');
    // Removing is symmetric.
    expect((await y!.req('DELETE', `/v1/friends/${x!.id}`)).status).toBe(204);
    expect((await x!.req('GET', '/v1/friends')).body.friends).toEqual([]);
  });
});

describe('DMs and groups', () => {
  it('gives a pair the same DM whoever opens it; refuses a DM with oneself or a ghost', async () => {
    const a = await alice.req('POST', '/v1/dms', { userId: bob.id });
    const b = await bob.req('POST', '/v1/dms', { userId: alice.id });
    expect(a.body.channel.id).toBe(b.body.channel.id);
    expect(a.body.channel.kind).toBe('dm');
    const self = await alice.req('POST', '/v1/dms', { userId: alice.id });
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('invalid_request');
    expect((await alice.req('POST', '/v1/dms', { userId: '999999999999' })).status).toBe(404);
  });

  it('holds exactly 100 members; the 101st gets group_full, at creation and when added', async () => {
    const others = await newUsers(t, 100, 'big');
    const ninetyNine = others.slice(0, 99);
    const res = await alice.req('POST', '/v1/groups', { name: 'hundred', memberIds: ninetyNine.map((u) => u.id) });
    expect(res.status).toBe(201);
    expect(res.body.channel.members).toHaveLength(100);
    const owner = res.body.channel.members.find((m: any) => m.id === alice.id);
    expect(owner.role).toBe('owner');
    const gid = res.body.channel.id;
    // A message reaches member #100.
    const last = ninetyNine.at(-1)!;
    const s = await last.connect();
    socks.push(s);
    const m = await post(alice, gid, 'to all hundred');
    await s.gotMessage(m.id);
    await s.close();

    const add = await alice.req('POST', `/v1/channels/${gid}/members`, { userId: others[99]!.id });
    expect(add.status).toBe(409);
    expect(add.body.error.code).toBe('group_full');
    const view = await alice.req('GET', `/v1/channels/${gid}`);
    expect(view.body.channel.members).toHaveLength(100);

    const tooMany = await bob.req('POST', '/v1/groups', { name: 'too many', memberIds: others.map((u) => u.id) });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error.code).toBe('group_full');
    const bobs = await bob.req('GET', '/v1/channels');
    expect(bobs.body.channels.some((c: any) => c.name === 'too many')).toBe(false);
  });

  it('refuses a group with an unknown member or bad input; tolerates the creator in memberIds', async () => {
    const ghost = await alice.req('POST', '/v1/groups', { name: 'g', memberIds: [bob.id, '424242424242'] });
    // A well-formed id of nobody: no such user.
    expect(ghost.status).toBe(404);
    expect(ghost.body.error.code).toBe('not_found');
    const noName = await alice.req('POST', '/v1/groups', { name: '', memberIds: [bob.id] });
    expect(noName.status).toBe(400);
    const withSelf = await alice.req('POST', '/v1/groups', { name: 'self', memberIds: [alice.id, bob.id, bob.id] });
    expect(withSelf.status).toBe(201);
    const ids = withSelf.body.channel.members.map((m: any) => m.id);
    expect(ids.sort()).toEqual([alice.id, bob.id].sort());
  });

  it('a removed member can no longer send, read or receive; a plain member cannot remove others', async () => {
    const g = await group(alice, [bob, carol], 'removal');
    expect((await carol.req('DELETE', `/v1/channels/${g}/members/${bob.id}`)).status).toBe(403);
    const sb = await bob.connect();
    socks.push(sb);
    expect((await alice.req('DELETE', `/v1/channels/${g}/members/${bob.id}`)).status).toBe(204);
    const removed = await sb.seen((f) => f.op === 'event' && f.type === 'member.removed');
    expect(removed).toMatchObject({ userId: bob.id });
    expect(removed.channel.id).toBe(g);

    const ws = await sb.sendMsg(g, 'still here?');
    expect(ws.op).toBe('error');
    // Privacy rule (docs/protocol.md, Errors): a non-member learns nothing, so not_found.
    expect(ws.code).toBe('not_found');
    const httpSend = await bob.req('POST', `/v1/channels/${g}/messages`, { text: 'x', clientMsgId: randomUUID() });
    expect(httpSend.status).toBe(404);
    // New group messages do not reach Bob (barrier: a DM sent after them).
    const secret = await post(alice, g, 'after bob left');
    const marker = await post(alice, await dm(alice, bob), 'marker');
    await sb.gotMessage(marker.id);
    expect(sb.events('message.created').some((e) => e.message.id === secret.id)).toBe(false);
    const hist = await bob.req('GET', `/v1/channels/${g}/messages`);
    expect(hist.status).toBe(404);
    expect(hist.raw).not.toContain('after bob left');
    // A plain member leaves by removing themselves.
    expect((await carol.req('DELETE', `/v1/channels/${g}/members/${carol.id}`)).status).toBe(204);
    expect((await carol.req('GET', `/v1/channels/${g}`)).status).toBe(404);
    await sb.close();
  });
});

describe('privacy: non-members probing', () => {
  it('answers every probe of a channel one is not in exactly like a channel that does not exist', async () => {
    const g = await group(alice, [bob], 'private');
    const d = await dm(alice, bob);
    const msg = await post(alice, g, 'top secret');
    const dmMsg = await post(bob, d, 'dm secret');
    const probes = (id: string, messageId: string): [string, string, unknown?][] => [
      ['GET', `/v1/channels/${id}`],
      ['GET', `/v1/channels/${id}/messages`],
      ['GET', `/v1/channels/${id}/messages?around=${messageId}`],
      ['POST', `/v1/channels/${id}/messages`, { text: 'hi', clientMsgId: randomUUID() }],
      ['POST', `/v1/channels/${id}/read`, { messageId }],
      ['POST', `/v1/channels/${id}/members`, { userId: mallory.id }],
      ['DELETE', `/v1/channels/${id}/members/${bob.id}`],
      ['DELETE', `/v1/channels/${id}/members/${mallory.id}`],
    ];
    const outcome = async (id: string, messageId: string) => {
      const out: string[] = [];
      for (const [method, path, body] of probes(id, messageId)) {
        const res = await mallory.req(method, path, body);
        expect(res.raw).not.toContain('secret');
        expect(res.status).not.toBe(500);
        out.push(
          `${method} ${path.replace(id, ':id').replace(messageId, ':msg')} -> ${res.status} ${res.body?.error?.code}`,
        );
      }
      return out;
    };
    const real = await outcome(g, msg.id);
    const realDm = await outcome(d, dmMsg.id);
    const ghost = await outcome('123456789012345678', '123456789012345679');
    // Consistent: the same answer for every real channel as for a channel that does not exist.
    expect(real).toEqual(ghost);
    expect(realDm).toEqual(ghost);
    // The privacy rule (docs/protocol.md, Errors) names one answer: not_found.
    for (const line of real) expect(line).toMatch(/-> 404 not_found$/);
    // Nothing moved: the group still has its two members and one message.
    const view = await alice.req('GET', `/v1/channels/${g}`);
    expect(view.body.channel.members.map((m: any) => m.id).sort()).toEqual([alice.id, bob.id].sort());
    expect((await alice.req('GET', `/v1/channels/${g}/messages`)).body.messages).toHaveLength(1);
    // The channel list does not show it.
    const list = await mallory.req('GET', '/v1/channels');
    expect(list.body.channels.some((c: any) => c.id === g || c.id === d)).toBe(false);
  });

  it('never sends a non-member anything of the channel over the socket', async () => {
    const g = await group(alice, [bob], 'ws-private');
    const sm = await mallory.connect();
    socks.push(sm);
    const send = await sm.sendMsg(g, 'let me in');
    expect(send).toMatchObject({ op: 'error' });
    expect(send.code).toBe('not_found');
    sm.send({ op: 'read', channelId: g, messageId: '1' });
    const readErr = await sm.waitFor((f) => f.op === 'error' && f !== send);
    expect(readErr.code).toBe('not_found');
    sm.send({ op: 'typing', channelId: g });
    const typingErr = await sm.waitFor((f) => f.op === 'error' && f !== send && f !== readErr);
    expect(typingErr.code).toBe('not_found');
    const m = await post(alice, g, 'members only');
    const marker = await post(alice, await dm(alice, mallory), 'marker');
    await sm.gotMessage(marker.id);
    expect(sm.frames.some((f) => JSON.stringify(f).includes(m.id) || f.channelId === g)).toBe(false);
    await sm.close();
  });

  it('a removed member learns nothing of the group afterwards: not in the list, not in replayed or synced snapshots', async () => {
    const [owner, ex, newcomer] = await named(t, ['owner', 'ex', 'newcomer']);
    const g = await group(owner, [ex], 'before');
    expect((await owner.req('DELETE', `/v1/channels/${g}/members/${ex.id}`)).status).toBe(204);
    // After the removal: a new member and a new name (rename is a documented extension).
    await owner.req('POST', `/v1/channels/${g}/members`, { userId: newcomer.id });
    await owner.req('PATCH', `/v1/channels/${g}`, { name: 'after-secret-name' });
    await post(owner, g, 'post-removal secret');
    const list = await ex.req('GET', '/v1/channels');
    expect(list.body.channels.some((c: any) => c.id === g)).toBe(false);
    const sync = await ex.req('GET', '/v1/sync?since=0&limit=1000');
    expect(sync.status).toBe(200);
    expect(sync.raw).not.toContain(newcomer.id);
    expect(sync.raw).not.toContain('after-secret-name');
    expect(sync.raw).not.toContain('post-removal secret');
    const s = await ex.connect(0);
    socks.push(s);
    await s.until(() => s.events().length >= (s.ready!.seq as number), 'replay');
    const replay = JSON.stringify(s.events());
    expect(replay).not.toContain(newcomer.id);
    expect(replay).not.toContain('after-secret-name');
    await s.close();
  });

  it('answers ids that are not decimal Snowflakes with 400 invalid_request (the path does not match the schema)', async () => {
    for (const id of ['abc', '-1', '1.5', '0x10', '%00', "1'; DROP TABLE messages;--", '9'.repeat(40), '😀']) {
      const enc = encodeURIComponent(id);
      for (const path of [`/v1/channels/${enc}`, `/v1/channels/${enc}/messages`, `/v1/users/${enc}`]) {
        const res = await alice.req('GET', path);
        expect({ path, status: res.status, code: errorCode(res) }).toEqual({
          path,
          status: 400,
          code: 'invalid_request',
        });
      }
    }
    expect((await alice.req('GET', '/v1/me')).status).toBe(200);
  });
});
