/**
 * Conformance: the administrator, your own account (password, devices, deletion, export) and
 * blocking, probed from outside. The file's server is fresh: its first account is the admin.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  befriend,
  closeAll,
  dm,
  group,
  http,
  newUser,
  PASSWORD,
  post,
  type Client,
  type Sock,
  errorCode,
  eventually,
} from '../harness.js';
import { externalUrl, startTarget, type Target } from './target.js';

let t: Target;
let admin: Client;
const socks: Sock[] = [];

beforeAll(async () => {
  t = await startTarget();
  // First on an empty server: the administrator (an existing deployment has its own).
  if (!externalUrl) admin = await newUser(t, 'root');
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

/** Every administration route, with a body that would be valid for an admin. */
const ADMIN_ROUTES: [string, string, unknown?][] = [
  ['GET', '/v1/admin/users'],
  ['GET', '/v1/admin/users?query=a&limit=5'],
  ['POST', '/v1/admin/users', { username: 'made_by_admin', password: PASSWORD }],
  ['GET', '/v1/admin/users/1'],
  ['PATCH', '/v1/admin/users/1', { deactivated: true }],
  ['PATCH', '/v1/admin/users/1', { role: 'admin' }],
  ['POST', '/v1/admin/users/1/password', { newPassword: 'another password' }],
  ['DELETE', '/v1/admin/users/1'],
  ['GET', '/v1/admin/stats'],
];

describe('administration', () => {
  it('refuses every admin route to a normal user with 403 forbidden, and to nobody with 401', async () => {
    const member = await newUser(t, 'member');
    for (const [method, path, body] of ADMIN_ROUTES) {
      const res = await member.req(method, path.replace('/1', `/${admin?.id ?? '1'}`), body);
      expect([method, path, res.status, errorCode(res)]).toEqual([method, path, 403, 'forbidden']);
      const anonymous = await http(t.baseUrl, method, path, body === undefined ? {} : { body });
      expect([method, path, anonymous.status]).toEqual([method, path, 401]);
    }
  });

  describe.skipIf(externalUrl)('as the administrator', () => {
    it('made the first account admin, and says so', async () => {
      expect((await admin.req('GET', '/v1/me')).body.role).toBe('admin');
      const later = await newUser(t, 'later');
      expect((await later.req('GET', '/v1/me')).body.role).toBe('member');
    });

    it('deactivation closes the live sockets with 4001, refuses the token and the login; reactivation lets them in', async () => {
      const user = await newUser(t, 'deact');
      const phone = await user.newDevice('phone');
      const live = [await user.connect(), await phone.connect()];
      socks.push(...live);
      const res = await admin.req('PATCH', `/v1/admin/users/${user.id}`, { deactivated: true });
      expect(res.status).toBe(200);
      expect(res.body.user.deactivatedAt).toEqual(expect.any(String));
      expect(await Promise.all(live.map((s) => s.closed))).toEqual([4001, 4001]);
      expect((await user.req('GET', '/v1/me')).status).toBe(401);
      const login = await http(t.baseUrl, 'POST', '/v1/auth/login', {
        body: { username: user.username, password: PASSWORD },
      });
      expect([login.status, errorCode(login)]).toEqual([403, 'forbidden']);
      expect((await admin.req('PATCH', `/v1/admin/users/${user.id}`, { deactivated: false })).status).toBe(200);
      expect((await user.newDevice('back')).id).toBe(user.id);
      // Revoked tokens stay revoked.
      expect((await phone.req('GET', '/v1/me')).status).toBe(401);
    });

    it('resets a password (signing every device out), makes and removes admins, deletes accounts', async () => {
      const user = await newUser(t, 'managed');
      const live = await user.connect();
      socks.push(live);
      expect(
        (await admin.req('POST', `/v1/admin/users/${user.id}/password`, { newPassword: 'fresh password' })).status,
      ).toBe(204);
      expect(await live.closed).toBe(4001);
      const login = await http(t.baseUrl, 'POST', '/v1/auth/login', {
        body: { username: user.username, password: 'fresh password' },
      });
      expect(login.status).toBe(200);
      expect((await admin.req('PATCH', `/v1/admin/users/${user.id}`, { role: 'admin' })).body.user.role).toBe('admin');
      const asAdmin = await http(t.baseUrl, 'GET', '/v1/admin/stats', { token: login.body.token });
      expect(asAdmin.status).toBe(200);
      expect((await admin.req('PATCH', `/v1/admin/users/${user.id}`, { role: 'member' })).body.user.role).toBe(
        'member',
      );
      expect((await http(t.baseUrl, 'GET', '/v1/admin/stats', { token: login.body.token })).status).toBe(403);
      expect((await admin.req('DELETE', `/v1/admin/users/${user.id}`)).status).toBe(204);
      expect((await http(t.baseUrl, 'GET', '/v1/me', { token: login.body.token })).status).toBe(401);
      // An administrator cannot lock themselves out here.
      expect(errorCode(await admin.req('PATCH', `/v1/admin/users/${admin.id}`, { role: 'member' }))).toBe(
        'invalid_request',
      );
    });

    it('lists and searches users in bounded pages, creates accounts, and shows figures', async () => {
      const name = `zz${randomUUID().slice(0, 8)}`;
      const made = await admin.req('POST', '/v1/admin/users', { username: name, password: PASSWORD });
      expect(made.status).toBe(201);
      expect(made.body.user).toMatchObject({ username: name, role: 'member' });
      await admin.req('POST', '/v1/admin/users', { username: `${name}b`, password: PASSWORD });
      const page = await admin.req('GET', `/v1/admin/users?query=${name}&limit=1`);
      expect(page.body.users.map((u: { username: string }) => u.username)).toEqual([name]);
      const next = await admin.req('GET', `/v1/admin/users?query=${name}&limit=1&after=${page.body.nextAfter}`);
      expect(next.body.users.map((u: { username: string }) => u.username)).toEqual([`${name}b`]);
      expect((await admin.req('GET', '/v1/admin/users?limit=101')).status).toBe(400);
      const someone = await newUser(t, 'poster');
      const other = await newUser(t, 'poster');
      await post(someone, await dm(someone, other), 'counted');
      const stats = await admin.req('GET', '/v1/admin/stats?days=7');
      expect(stats.status).toBe(200);
      expect(stats.body.messagesPerDay).toHaveLength(7);
      expect(stats.body.messagesPerDay.at(-1).count).toBeGreaterThanOrEqual(1);
      expect(stats.body.users).toBeGreaterThanOrEqual(4);
      expect(stats.body.storageBytes).toBeGreaterThan(0);
      expect(stats.body.connections).toEqual(expect.any(Number));
    });
  });
});

describe('your own account', () => {
  it('a password change asks for the current one and signs the other devices out', async () => {
    const user = await newUser(t, 'pw');
    const other = await user.newDevice('other');
    const otherLive = await other.connect();
    const thisLive = await user.connect();
    socks.push(otherLive, thisLive);
    const wrong = await user.req('POST', '/v1/me/password', {
      currentPassword: 'nope nope',
      newPassword: 'new password 1',
    });
    expect([wrong.status, errorCode(wrong)]).toEqual([403, 'forbidden']);
    const changed = await user.req('POST', '/v1/me/password', {
      currentPassword: PASSWORD,
      newPassword: 'new password 1',
    });
    expect(changed.status).toBe(204);
    expect(await otherLive.closed).toBe(4001);
    expect((await other.req('GET', '/v1/me')).status).toBe(401);
    expect((await user.req('GET', '/v1/me')).status).toBe(200);
    expect(thisLive.open).toBe(true);
    const old = await http(t.baseUrl, 'POST', '/v1/auth/login', {
      body: { username: user.username, password: PASSWORD },
    });
    expect(old.status).toBe(401);
  });

  it('keeps the other devices when asked', async () => {
    const user = await newUser(t, 'pwkeep');
    const other = await user.newDevice('other');
    const res = await user.req('POST', '/v1/me/password', {
      currentPassword: PASSWORD,
      newPassword: 'new password 2',
      keepOtherDevices: true,
    });
    expect(res.status).toBe(204);
    expect((await other.req('GET', '/v1/me')).status).toBe(200);
  });

  it('lists devices with this one marked, signs one out from another, and all others at once', async () => {
    const laptop = await newUser(t, 'dev', { deviceName: 'laptop' });
    const phone = await laptop.newDevice('phone');
    const tablet = await laptop.newDevice('tablet');
    const phoneLive = await phone.connect();
    socks.push(phoneLive);
    const listed = await laptop.req('GET', '/v1/me/devices');
    expect(listed.body.devices.map((d: { name: string; current: boolean }) => [d.name, d.current])).toEqual([
      ['laptop', true],
      ['phone', false],
      ['tablet', false],
    ]);
    expect(listed.body.devices[0]).toMatchObject({ id: laptop.device.deviceId, lastUsedAt: expect.any(String) });
    expect((await laptop.req('DELETE', `/v1/me/devices/${phone.device.deviceId}`)).status).toBe(204);
    expect(await phoneLive.closed).toBe(4001);
    expect((await phone.req('GET', '/v1/me')).status).toBe(401);
    // Someone else's device is not yours to sign out.
    const stranger = await newUser(t, 'dev');
    expect(errorCode(await stranger.req('DELETE', `/v1/me/devices/${tablet.device.deviceId}`))).toBe('not_found');
    expect((await laptop.req('POST', '/v1/me/devices/sign-out-others')).status).toBe(204);
    expect((await tablet.req('GET', '/v1/me')).status).toBe(401);
    expect((await laptop.req('GET', '/v1/me/devices')).body.devices).toHaveLength(1);
  });

  it('exports profile, friends and own messages as a JSON download', async () => {
    const user = await newUser(t, 'exp');
    const friend = await newUser(t, 'exp');
    await befriend(user, friend);
    const channel = await dm(user, friend);
    await post(user, channel, 'mine 1');
    await post(friend, channel, 'theirs');
    await post(user, channel, 'mine 2');
    const response = await fetch(`${t.baseUrl}/v1/me/export`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment;/);
    const res = { body: JSON.parse(await response.text()) };
    expect(res.body.user).toMatchObject({ id: user.id, username: user.username });
    expect(res.body.friends.map((f: { id: string }) => f.id)).toEqual([friend.id]);
    expect(res.body.messages.map((m: { text: string }) => m.text)).toEqual(['mine 1', 'mine 2']);
  });

  it('deletion asks for the password, erases the profile and friendships, keeps messages as "Deleted user"', async () => {
    const user = await newUser(t, 'del');
    const friend = await newUser(t, 'del');
    await befriend(user, friend);
    const channel = await dm(user, friend);
    await post(user, channel, 'before I go');
    expect(errorCode(await user.req('DELETE', '/v1/me', { password: 'wrong one' }))).toBe('forbidden');
    expect((await user.req('DELETE', '/v1/me', { password: PASSWORD })).status).toBe(204);
    expect((await user.req('GET', '/v1/me')).status).toBe(401);
    expect((await friend.req('GET', '/v1/friends')).body.friends).toEqual([]);
    const profile = await friend.req('GET', `/v1/users/${user.id}`);
    expect(profile.body.user.displayName).toBe('Deleted user');
    expect(profile.body.user.username).not.toBe(user.username);
    const messages = (await friend.req('GET', `/v1/channels/${channel}/messages`)).body.messages;
    expect(messages.map((m: { text: string }) => m.text)).toEqual(['before I go']);
    expect((await friend.req('GET', `/v1/users?query=${user.username}`)).body.users).toEqual([]);
    const login = await http(t.baseUrl, 'POST', '/v1/auth/login', {
      body: { username: user.username, password: PASSWORD },
    });
    expect(login.status).toBe(401);
  });
});

describe('blocking', () => {
  it('refuses DMs and friend requests both ways with the error an absent user gets', async () => {
    const [me, pest] = [await newUser(t, 'blk'), await newUser(t, 'pest')];
    const channel = await dm(pest, me);
    expect((await me.req('PUT', `/v1/me/blocks/${pest.id}`)).status).toBe(204);
    const absent = await pest.req('POST', '/v1/friends/requests', { userId: '123456789' });
    const request = await pest.req('POST', '/v1/friends/requests', { userId: me.id });
    expect([request.status, request.body]).toEqual([absent.status, absent.body]);
    const open = await pest.req('POST', '/v1/dms', { userId: me.id });
    expect([open.status, errorCode(open)]).toEqual([404, 'not_found']);
    const sent = await pest.req('POST', `/v1/channels/${channel}/messages`, { text: 'hey', clientMsgId: randomUUID() });
    const notMember = await pest.req('POST', `/v1/channels/123456789/messages`, {
      text: 'hey',
      clientMsgId: randomUUID(),
    });
    expect([sent.status, sent.body]).toEqual([notMember.status, notMember.body]);
    const back = await me.req('POST', `/v1/channels/${channel}/messages`, { text: 'hi', clientMsgId: randomUUID() });
    expect(errorCode(back)).toBe('not_found');
    expect((await me.req('DELETE', `/v1/me/blocks/${pest.id}`)).status).toBe(204);
    expect((await post(pest, channel, 'sorry')).text).toBe('sorry');
  });

  it("still delivers group messages, hides presence both ways, and syncs the block to the blocker's devices", async () => {
    const [me, pest, other] = [await newUser(t, 'blk'), await newUser(t, 'pest'), await newUser(t, 'blk')];
    const room = await group(other, [me, pest]);
    const myOtherDevice = await me.newDevice('phone');
    const phoneLive = await myOtherDevice.connect();
    socks.push(phoneLive);
    expect((await me.req('PUT', `/v1/me/blocks/${pest.id}`)).status).toBe(204);
    expect((await me.req('PUT', `/v1/me/blocks/${pest.id}`)).status).toBe(204); // again: no change
    await phoneLive.waitFor((f) => f.op === 'event' && f.type === 'user.blocked' && f.userId === pest.id);
    const blocks = await me.req('GET', '/v1/me/blocks');
    expect(blocks.body.blocks.map((b: { user: { id: string } }) => b.user.id)).toEqual([pest.id]);
    const message = await post(pest, room, 'in the group');
    await eventually(async () => {
      const seen = (await me.req('GET', `/v1/channels/${room}/messages`)).body.messages;
      return seen.some((m: { id: string }) => m.id === message.id);
    });
    const mine = await me.req('GET', `/v1/presence?userIds=${pest.id}`);
    expect(mine.body.presence).toEqual([{ userId: pest.id, status: 'unknown' }]);
    const theirs = await pest.req('GET', `/v1/presence?userIds=${me.id}`);
    expect(theirs.body.presence).toEqual([{ userId: me.id, status: 'unknown' }]);
    // Nor in the group's member list, either way.
    const members = (await me.req('GET', `/v1/channels/${room}`)).body.channel.members;
    expect(members.find((m: { id: string }) => m.id === pest.id).presence).toEqual({ status: 'unknown' });
    const theirMembers = (await pest.req('GET', `/v1/channels/${room}`)).body.channel.members;
    expect(theirMembers.find((m: { id: string }) => m.id === me.id).presence).toEqual({ status: 'unknown' });
    expect((await me.req('DELETE', `/v1/me/blocks/${pest.id}`)).status).toBe(204);
    await phoneLive.waitFor((f) => f.op === 'event' && f.type === 'user.unblocked' && f.userId === pest.id);
    expect((await me.req('GET', `/v1/presence?userIds=${pest.id}`)).body.presence[0].status).not.toBe('unknown');
  });
});
