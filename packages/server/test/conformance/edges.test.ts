/**
 * Conformance: smaller edges of the contract a careful tester tries.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  dm,
  errorCode,
  group,
  history,
  http,
  newUser,
  PASSWORD,
  post,
  type Client,
  type Sock,
} from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
let carol: Client;
const socks: Sock[] = [];

beforeAll(async () => {
  t = await startTarget();
  [alice, bob, carol] = await Promise.all([newUser(t, 'alice'), newUser(t, 'bob'), newUser(t, 'carol')]);
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

describe('discovery and health', () => {
  it('GET /healthz is 200 and GET /v1/gateway names a working WebSocket URL and a node', async () => {
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
    const gw = await http(t.baseUrl, 'GET', '/v1/gateway');
    expect(gw.status).toBe(200);
    expect(gw.body.url).toMatch(/^wss?:\/\/.+\/v1\/ws$/);
    expect(typeof gw.body.nodeId).toBe('string');
    const s = await alice.connect();
    expect(s.ready!.userId).toBe(alice.id);
    await s.close();
  });
});

describe('users', () => {
  it('never exposes secrets in user objects', async () => {
    const bodies = [
      await alice.req('GET', `/v1/users/${bob.id}`),
      await alice.req('GET', `/v1/users?query=${bob.username.slice(0, 4)}`),
      await alice.req('GET', '/v1/me'),
      await alice.req('GET', `/v1/channels/${await dm(alice, bob)}`),
    ];
    for (const b of bodies) {
      expect(b.status).toBe(200);
      expect(b.raw).not.toMatch(/password|hash|salt|"token"/i);
    }
    expect(bodies[0]!.body.user).toMatchObject({ id: bob.id, username: bob.username, displayName: expect.any(String) });
  });

  it('searches by username prefix, case-insensitively', async () => {
    const res = await alice.req('GET', `/v1/users?query=${encodeURIComponent(bob.username.slice(0, 8).toUpperCase())}`);
    expect(res.status).toBe(200);
    expect(res.body.users.map((u: any) => u.id)).toContain(bob.id);
  });

  it('answers a wrong password and an unknown user the same way', async () => {
    const wrong = await http(t.baseUrl, 'POST', '/v1/auth/login', {
      body: { username: bob.username, password: 'nope nope nope' },
    });
    const ghost = await http(t.baseUrl, 'POST', '/v1/auth/login', {
      body: { username: 'no_such_user_x', password: PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(ghost.status).toBe(401);
    expect(wrong.body.error.code).toBe(ghost.body.error.code);
  });

  it('sets and clears statusText, and keeps profile changes', async () => {
    const set = await alice.req('PATCH', '/v1/me', { statusText: 'busy 🐝', displayName: 'Alice Ä' });
    expect(set.status).toBe(200);
    expect(set.body.user).toMatchObject({ statusText: 'busy 🐝', displayName: 'Alice Ä' });
    expect((await bob.req('GET', `/v1/users/${alice.id}`)).body.user.displayName).toBe('Alice Ä');
    const cleared = await alice.req('PATCH', '/v1/me', { statusText: '' });
    expect(cleared.body.user.statusText ?? '').toBe('');
  });
});

describe('message text is stored exactly', () => {
  it('refuses U+0000 in a text with invalid_request on every store, and stores nothing', async () => {
    const ch = await dm(alice, carol);
    const refused = await alice.req('POST', `/v1/channels/${ch}/messages`, { text: 'a\u0000b', clientMsgId: 'nul-1' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    const page = await history(carol, ch, 'limit=100');
    expect(page.body.messages.filter((m: { clientMsgId?: string }) => m.clientMsgId === 'nul-1')).toEqual([]);
  });

  it('round-trips RTL, zero-width, control characters, newlines, HTML and JSON-looking text', async () => {
    const ch = await dm(alice, carol);
    const texts = [
      'a\u0001b\u007f',
      'שלום עולם',
      'zero\u200bwidth',
      'line1\nline2\r\n\ttab',
      '<script>alert(1)</script>',
      '{"op":"ack"}',
      ' ',
    ];
    const s = await carol.connect();
    socks.push(s);
    for (const text of texts) {
      const m = await post(alice, ch, text);
      expect(m.text).toBe(text);
      const ev = await s.gotMessage(m.id);
      expect(ev.message.text).toBe(text);
      const page = await history(carol, ch, `around=${m.id}&limit=1`);
      expect(page.body.messages.find((x: any) => x.id === m.id).text).toBe(text);
    }
    await s.close();
  });

  it('requires clientMsgId on HTTP sends and accepts a 64-character one', async () => {
    const ch = await dm(alice, carol);
    const missing = await alice.req('POST', `/v1/channels/${ch}/messages`, { text: 'no id' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('invalid_request');
    const long = await alice.req('POST', `/v1/channels/${ch}/messages`, { text: 'x', clientMsgId: 'k'.repeat(64) });
    expect(long.status).toBe(201);
    expect(long.body.message.clientMsgId).toBe('k'.repeat(64));
  });
});

describe('channels', () => {
  it('a DM stays a pair: adding a third member is refused', async () => {
    const ch = await dm(alice, bob);
    const add = await alice.req('POST', `/v1/channels/${ch}/members`, { userId: carol.id });
    // A member asks for something no role allows in a DM: forbidden.
    expect([add.status, errorCode(add)]).toEqual([403, 'forbidden']);
    const view = await bob.req('GET', `/v1/channels/${ch}`);
    expect(view.body.channel.members).toHaveLength(2);
  });

  it('adding someone tells the new member (and the others), and the newcomer can read and send', async () => {
    const g = await group(alice, [bob], 'grow');
    await post(alice, g, 'before carol');
    const [sb, sc] = await Promise.all([bob.connect(), carol.connect()]);
    socks.push(sb, sc);
    const add = await alice.req('POST', `/v1/channels/${g}/members`, { userId: carol.id });
    expect(add.status).toBe(200);
    expect(add.body.channel.members.map((x: any) => x.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    const ev = await sc.seen((f) => f.op === 'event' && (f.type === 'member.added' || f.type === 'channel.created'));
    expect(ev.channel.id).toBe(g);
    const eb = await sb.seen((f) => f.op === 'event' && f.type === 'member.added');
    expect(eb).toMatchObject({ userId: carol.id });
    const again = await alice.req('POST', `/v1/channels/${g}/members`, { userId: carol.id });
    expect(again.status).toBe(409);
    const m = await sc.sendMsg(g, 'hi, I am new');
    expect(m.op).toBe('ack');
    await sb.gotMessage(m.messageId);
    expect((await carol.req('GET', `/v1/channels/${g}/messages`)).status).toBe(200);
    const list = (await carol.req('GET', '/v1/channels')).body.channels.find((c: any) => c.id === g);
    expect(list.members.map((x: any) => x.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    await closeAll([sb, sc]);
  });

  it('lists channels with the most recent activity first and the right lastMessage', async () => {
    const u = await newUser(t, 'order');
    const c1 = await dm(u, alice);
    const c2 = await dm(u, bob);
    await post(alice, c1, 'old');
    await post(bob, c2, 'newer');
    const last = await post(alice, c1, 'newest');
    const list = (await u.req('GET', '/v1/channels')).body.channels;
    expect(list[0].id).toBe(c1);
    expect(list[0].lastMessage.id).toBe(last.id);
    expect(list[0].unreadCount).toBe(2);
    expect(list[1].id).toBe(c2);
  });

  it('caps the unread count at 1000, as documented', async () => {
    const u = await newUser(t, 'many');
    const ch = await dm(bob, u);
    // Spread over 11 devices so that a send rate of bursts of 100 per device is no obstacle. The
    // devices log in one after another: the per-username login limiter counts every attempt,
    // right or wrong, until a success forgets them, so 11 logins at once would have the last
    // ones refused with rate_limited although every password is right.
    const devices: Client[] = [];
    for (let i = 0; i < 11; i++) devices.push(await bob.newDevice(`burst${i}`));
    const sends = [];
    for (let i = 0; i < 1005; i++)
      sends.push(
        devices[i % 11]!.req('POST', `/v1/channels/${ch}/messages`, { text: `n${i}`, clientMsgId: randomUUID() }),
      );
    const res = await Promise.all(sends);
    expect(res.filter((r) => r.status !== 201)).toEqual([]);
    const view = (await u.req('GET', '/v1/channels')).body.channels.find((c: any) => c.id === ch);
    expect(view.unreadCount).toBe(1000);
  });
});

describe('odds and ends', () => {
  it('serves the web app at /', async () => {
    const res = await fetch(`${t.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('answers a sync since beyond the log with resync_required, and huge numbers without a 500', async () => {
    const u = await newUser(t, 'far');
    const far = await u.req('GET', '/v1/sync?since=1000000');
    expect(far.status).toBe(410);
    expect(far.body.error.code).toBe('resync_required');
    const huge = await u.req('GET', '/v1/sync?since=100000000000000000000000');
    // Not a seq at all (beyond any integer the log can hold): the query does not match the schema.
    expect([huge.status, errorCode(huge)]).toEqual([400, 'invalid_request']);
    const { Sock } = await import('../harness.js');
    const s = await Sock.open(t.wsUrl);
    s.send({ op: 'hello', token: u.token, since: 1e300 });
    // Likewise on the socket: not a valid hello, so protocol error and close 4002.
    expect(await s.closed).toBe(4002);
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });

  it('logout without a token is unauthorized; a device name is optional everywhere', async () => {
    expect((await http(t.baseUrl, 'POST', '/v1/auth/logout')).status).toBe(401);
    const d = await http(t.baseUrl, 'POST', '/v1/auth/login', {
      body: { username: alice.username, password: PASSWORD },
    });
    expect(d.status).toBe(200);
    expect(d.body.token).not.toBe(alice.token);
    expect(d.body.deviceId).not.toBe(alice.device.deviceId);
  });
});

describe('HTTP clients as outside testers write them', () => {
  it('a bodiless POST (logout, accept) with content-type application/json and an empty body is not refused', async () => {
    // Many HTTP helpers set content-type: application/json on every request. The contract gives
    // logout and accept no body, so an empty body must not be a 400.
    const [x, y] = await Promise.all([newUser(t, 'ctx'), newUser(t, 'cty')]);
    const req = await x.req('POST', '/v1/friends/requests', { userId: y.id });
    const jsonHeaders = (c: Client) => ({ authorization: `Bearer ${c.token}`, 'content-type': 'application/json' });
    const accept = await fetch(`${t.baseUrl}/v1/friends/requests/${req.body.request.id}/accept`, {
      method: 'POST',
      headers: jsonHeaders(y),
    });
    const logout = await fetch(`${t.baseUrl}/v1/auth/logout`, { method: 'POST', headers: jsonHeaders(x) });
    expect({ accept: accept.status, logout: logout.status }).toEqual({ accept: 200, logout: 204 });
  });

  it('a JSON body sent without an explicit content-type (fetch sends text/plain) is read as JSON', async () => {
    // `fetch(url, {method: 'POST', body: JSON.stringify(x)})` labels the body text/plain;charset=UTF-8.
    // design.md: "JSON everywhere"; it does not make the header a precondition.
    const res = await fetch(`${t.baseUrl}/v1/auth/signup`, {
      method: 'POST',
      body: JSON.stringify({ username: `pl_${randomUUID().slice(0, 8)}`, password: PASSWORD }),
    });
    expect(res.status).toBe(201);
  });
});

describe('search is a literal prefix', () => {
  it('treats _ and % in the query as characters, not wildcards', async () => {
    const stem = `lk${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const plain = await http(t.baseUrl, 'POST', '/v1/auth/signup', {
      body: { username: `${stem}xa`, password: PASSWORD },
    });
    expect(plain.status).toBe(201);
    const underscore = await alice.req('GET', `/v1/users?query=${encodeURIComponent(`${stem}_`)}`);
    expect(underscore.status).toBe(200);
    expect(underscore.body.users.map((u: any) => u.username)).not.toContain(`${stem}xa`);
    const percent = await alice.req('GET', `/v1/users?query=${encodeURIComponent(`${stem}%`)}`);
    expect(percent.status).toBe(200);
    expect(percent.body.users.map((u: any) => u.username)).not.toContain(`${stem}xa`);
    const exact = await alice.req('GET', `/v1/users?query=${stem}`);
    expect(exact.body.users.map((u: any) => u.username)).toContain(`${stem}xa`);
  });
});
