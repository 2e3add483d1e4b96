/**
 * Conformance: things a tester does at the same time (idempotency, uniqueness and limits must
 * hold under concurrency, not only one request at a time).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allMessages,
  closeAll,
  dm,
  group,
  http,
  newUser,
  newUsers,
  PASSWORD,
  type Client,
  type Sock,
  uniqueName,
} from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
const socks: Sock[] = [];

beforeAll(async () => {
  t = await startTarget();
  [alice, bob] = await Promise.all([newUser(t, 'alice'), newUser(t, 'bob')]);
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

describe('concurrent duplicates', () => {
  it('the same clientMsgId sent at once from several devices and over HTTP is stored once, one id for all', async () => {
    const ch = await dm(alice, bob);
    const devices = await Promise.all(Array.from({ length: 5 }, (_, i) => alice.newDevice(`d${i}`)));
    const ss = await Promise.all(devices.map((d) => d.connect()));
    socks.push(...ss);
    const cmid = `race-${randomUUID()}`;
    const results = await Promise.all([
      ...ss.map((s) => s.sendMsg(ch, 'one and only', cmid)),
      ...devices.map((d) => d.req('POST', `/v1/channels/${ch}/messages`, { text: 'one and only', clientMsgId: cmid })),
    ]);
    const ids = results.map((r: any) => (r.op ? r.messageId : r.body?.message?.id));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9]+$/);
    const stored = (await allMessages(bob, ch)).filter((m) => m.clientMsgId === cmid);
    expect(stored).toHaveLength(1);
    const log = (await bob.req('GET', '/v1/sync?since=0&limit=1000')).body.events.filter(
      (e: any) => e.type === 'message.created' && e.message.clientMsgId === cmid,
    );
    expect(log).toHaveLength(1);
    await closeAll(ss);
  });

  it('both sides opening their DM at once get one channel', async () => {
    const [x, y] = await newUsers(t, 2, 'dmrace');
    const res = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? x! : y!).req('POST', '/v1/dms', { userId: (i % 2 ? y! : x!).id })),
    );
    expect(res.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(new Set(res.map((r) => r.body.channel.id)).size).toBe(1);
    const list = await x!.req('GET', '/v1/channels');
    expect(list.body.channels.filter((c: any) => c.kind === 'dm')).toHaveLength(1);
  });

  it('the same username signed up at once: one 201, the rest conflict, no 500', async () => {
    const name = uniqueName('dup');
    const res = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        http(t.baseUrl, 'POST', '/v1/auth/signup', {
          body: { username: i % 2 ? name : name.toUpperCase(), password: PASSWORD },
        }),
      ),
    );
    const statuses = res.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 409 || s === 400)).toBe(true);
  });

  it('friend requests crossing each other make one friendship', async () => {
    const [x, y] = await newUsers(t, 2, 'frrace');
    const res = await Promise.all([
      x!.req('POST', '/v1/friends/requests', { userId: y!.id }),
      y!.req('POST', '/v1/friends/requests', { userId: x!.id }),
      x!.req('POST', '/v1/friends/requests', { userId: y!.id }),
    ]);
    for (const r of res) expect(r.status).toBeLessThan(500);
    // Whichever commits first, the other direction finds it ("if they had already asked you,
    // you are friends at once"): exactly one friendship and no request left either way.
    const fx = (await x!.req('GET', '/v1/friends')).body.friends.filter((f: any) => f.user.id === y!.id);
    expect(fx).toHaveLength(1);
    const rx = await x!.req('GET', '/v1/friends/requests');
    const ry = await y!.req('GET', '/v1/friends/requests');
    const between = (list: any[]) =>
      list.filter((r: any) => [r.fromUserId, r.toUserId].sort().join() === [x!.id, y!.id].sort().join());
    expect([...between(rx.body.outgoing), ...between(rx.body.incoming), ...between(ry.body.outgoing)]).toEqual([]);
  });

  it('concurrent adds cannot push a group past 100 members', async () => {
    const users = await newUsers(t, 104, 'grp');
    const owner = users[0]!;
    const g = await group(owner, users.slice(1, 97), 'almost full'); // 97 members
    const adds = await Promise.all(
      users.slice(97).map((u) => owner.req('POST', `/v1/channels/${g}/members`, { userId: u.id })),
    );
    const ok = adds.filter((r) => r.status >= 200 && r.status < 300).length;
    expect(ok).toBe(3);
    for (const r of adds.filter((a) => a.status >= 300)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('group_full');
    }
    const view = await owner.req('GET', `/v1/channels/${g}`);
    expect(view.body.channel.members).toHaveLength(100);
  });

  it('concurrent read cursors end at the furthest message, never moved back', async () => {
    const ch = await dm(alice, bob);
    const msgs = [];
    for (let i = 0; i < 20; i++)
      msgs.push(
        (await bob.req('POST', `/v1/channels/${ch}/messages`, { text: `r${i}`, clientMsgId: randomUUID() })).body
          .message,
      );
    // Oldest first is the hardest order: each move lands just before the next one's decision.
    const reads = await Promise.all(msgs.map((m) => alice.req('POST', `/v1/channels/${ch}/read`, { messageId: m.id })));
    expect(reads.map((r) => r.status)).toEqual(msgs.map(() => 204));
    const view = (await alice.req('GET', '/v1/channels')).body.channels.find((c: any) => c.id === ch);
    expect(view.lastReadMessageId).toBe(msgs.at(-1).id);
    expect(view.unreadCount).toBe(0);
  });
});
