/**
 * Conformance: the checker's core scenario. Three users, one of them with two devices, DM and
 * group traffic, message limits, idempotent resends, concurrent sends.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allMessages,
  closeAll,
  codePoints,
  cpLength,
  dm,
  group,
  history,
  isAscending,
  newUser,
  post,
  type Client,
  type Sock,
} from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let alice2: Client;
let bob: Client;
let carol: Client;
let dmAB: string;
let grp: string;
const socks: Sock[] = [];

beforeAll(async () => {
  t = await startTarget();
  [alice, bob, carol] = await Promise.all([newUser(t, 'alice'), newUser(t, 'bob'), newUser(t, 'carol')]);
  alice2 = await alice.newDevice('phone');
  dmAB = await dm(alice, bob);
  grp = await group(alice, [bob, carol], 'trio');
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

async function connectAll() {
  const s = await Promise.all([alice.connect(), alice2.connect(), bob.connect(), carol.connect()]);
  socks.push(...s);
  return { a1: s[0]!, a2: s[1]!, b: s[2]!, c: s[3]! };
}

const ID = /^[0-9]+$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('three users, two devices, DM and group', () => {
  it('acks after the commit with id and createdAt, then delivers to every device of every member', async () => {
    const { a1, a2, b, c } = await connectAll();
    expect(a1.ready).toMatchObject({ op: 'ready', userId: alice.id, deviceId: alice.device.deviceId });
    expect(typeof a1.ready!.seq).toBe('number');
    expect(typeof a1.ready!.heartbeatMs).toBe('number');
    expect(a2.ready!.deviceId).not.toBe(a1.ready!.deviceId);

    // DM: both of Alice's devices and Bob; not Carol.
    const ack = await a1.sendMsg(dmAB, 'hello bob', 'dm-1');
    expect(ack).toMatchObject({ op: 'ack', clientMsgId: 'dm-1' });
    expect(ack.messageId).toMatch(ID);
    expect(ack.createdAt).toMatch(ISO);
    const [eb, ea2, ea1] = await Promise.all([
      b.gotMessage(ack.messageId),
      a2.gotMessage(ack.messageId),
      a1.gotMessage(ack.messageId),
    ]);
    for (const e of [eb, ea2, ea1]) {
      expect(typeof e.seq).toBe('number');
      expect(e.message).toMatchObject({
        id: ack.messageId,
        channelId: dmAB,
        senderId: alice.id,
        text: 'hello bob',
        createdAt: ack.createdAt,
      });
    }

    // Group: everyone, the sender's other device included.
    const g = await b.sendMsg(grp, 'hi all', 'grp-1');
    expect(g.op).toBe('ack');
    await Promise.all([a1, a2, b, c].map((s) => s.gotMessage(g.messageId)));

    // Carol is not in the DM: barrier through the group message, which came later in her log.
    expect(c.events('message.created').some((e) => e.message.channelId === dmAB)).toBe(false);

    // The same message over HTTP history, with the documented shape.
    const page = await history(bob, dmAB);
    expect(page.status).toBe(200);
    expect(page.body.messages).toEqual([
      expect.objectContaining({ id: ack.messageId, channelId: dmAB, senderId: alice.id, text: 'hello bob' }),
    ]);
    await closeAll([a1, a2, b, c]);
  });

  it('sends over HTTP through the same pipeline: 201, live delivery to every device', async () => {
    const { a1, a2, b, c } = await connectAll();
    const res = await carol.req('POST', `/v1/channels/${grp}/messages`, { text: 'via http', clientMsgId: 'h-1' });
    expect(res.status).toBe(201);
    expect(res.body.message).toMatchObject({ channelId: grp, senderId: carol.id, text: 'via http' });
    expect(res.body.message.id).toMatch(ID);
    expect(res.body.message.createdAt).toMatch(ISO);
    await Promise.all([a1, a2, b, c].map((s) => s.gotMessage(res.body.message.id)));
    await closeAll([a1, a2, b, c]);
  });

  it('lists channels with the last message and per-user unread counts', async () => {
    const ch = await dm(carol, bob);
    await post(carol, ch, 'one');
    const last = await post(carol, ch, 'two');
    const bobs = await bob.req('GET', '/v1/channels');
    expect(bobs.status).toBe(200);
    const view = bobs.body.channels.find((c: any) => c.id === ch);
    expect(view).toMatchObject({ id: ch, kind: 'dm', unreadCount: 2 });
    expect(view.lastMessage).toMatchObject({ id: last.id, text: 'two' });
    expect(view.members.map((m: any) => m.id).sort()).toEqual([bob.id, carol.id].sort());
    const carols = await carol.req('GET', '/v1/channels');
    expect(carols.body.channels.find((c: any) => c.id === ch).unreadCount).toBe(0);
    const g = bobs.body.channels.find((c: any) => c.id === grp);
    expect(g).toMatchObject({ kind: 'group', name: 'trio' });
  });
});

describe('ids', () => {
  it('are Snowflakes: decimal strings whose top 41 bits are ms since 2026-01-01, matching createdAt', async () => {
    const epoch = Date.parse('2026-01-01T00:00:00Z');
    const m = await post(alice, dmAB, 'snowflake');
    expect(m.id).toMatch(/^[1-9][0-9]*$/);
    const ms = Number(BigInt(m.id) >> 22n) + epoch;
    expect(Math.abs(ms - Date.parse(m.createdAt))).toBeLessThan(1000);
    for (const id of [alice.id, dmAB, grp, alice.device.deviceId]) expect(id).toMatch(/^[1-9][0-9]*$/);
    // Later messages get larger ids.
    const n = await post(bob, dmAB, 'later');
    expect(BigInt(n.id) > BigInt(m.id)).toBe(true);
  });
});

describe('message limits (code points, not UTF-16 units)', () => {
  it('accepts exactly 100,000 characters over the socket and returns them intact', async () => {
    const s = await alice.connect();
    socks.push(s);
    const text = codePoints(100_000, 'x');
    const ack = await s.sendMsg(dmAB, text, 'big-ws', 10_000);
    expect(ack.op).toBe('ack');
    const page = await history(bob, dmAB, `around=${ack.messageId}&limit=1`);
    expect(page.body.messages.find((m: any) => m.id === ack.messageId).text).toBe(text);
    await s.close();
  });

  it('rejects 100,001 characters over the socket with message_too_long and stores nothing', async () => {
    const s = await alice.connect();
    socks.push(s);
    const before = (await allMessages(bob, grp)).length;
    const err = await s.sendMsg(grp, codePoints(100_001, 'x'), 'too-big-ws', 10_000);
    expect(err).toMatchObject({ op: 'error', code: 'message_too_long', clientMsgId: 'too-big-ws' });
    expect(typeof err.message).toBe('string');
    expect(s.open).toBe(true);
    // The socket is still usable and nothing was stored.
    const ok = await s.sendMsg(grp, 'after', 'after-too-big');
    expect(ok.op).toBe('ack');
    const after = await allMessages(bob, grp);
    expect(after.length).toBe(before + 1);
    expect(after.some((m) => m.clientMsgId === 'too-big-ws' || cpLength(m.text) > 100_000)).toBe(false);
    await s.close();
  });

  it('accepts 100,000 and rejects 100,001 over HTTP too', async () => {
    const ok = await alice.req('POST', `/v1/channels/${dmAB}/messages`, {
      text: codePoints(100_000, 'y'),
      clientMsgId: 'big-http',
    });
    expect(ok.status).toBe(201);
    const bad = await alice.req('POST', `/v1/channels/${dmAB}/messages`, {
      text: codePoints(100_001, 'y'),
      clientMsgId: 'too-big-http',
    });
    expect(bad.status).toBe(413);
    expect(bad.body.error.code).toBe('message_too_long');
    // A retry of the refused clientMsgId with a valid text is a fresh send, not the refused one.
    const retry = await alice.req('POST', `/v1/channels/${dmAB}/messages`, {
      text: 'short',
      clientMsgId: 'too-big-http',
    });
    expect(retry.status).toBe(201);
    expect(retry.body.message.text).toBe('short');
  });

  it('counts an emoji-heavy message by code points: 100,000 accepted, 100,001 refused', async () => {
    // 4-byte emoji (2 UTF-16 units each), a ZWJ family (5 code points), a flag (2), combining marks.
    const pieces = ['👍', '😀', '👨‍👩‍👧', '🇫🇷', 'é', 'e\u0301', '中', '𝄞'];
    const parts: string[] = [];
    let count = 0;
    for (let i = 0; count < 99_990; i++) {
      const piece = pieces[i % pieces.length]!;
      parts.push(piece);
      count += cpLength(piece);
    }
    let text = parts.join('');
    text += codePoints(100_000 - count, '🔥');
    expect(cpLength(text)).toBe(100_000);
    expect(text.length).toBeGreaterThan(100_000); // UTF-16 units: a naive length check would refuse it
    const s = await carol.connect();
    socks.push(s);
    const ack = await s.sendMsg(grp, text, 'emoji-max', 10_000);
    expect(ack.op).toBe('ack');
    const page = await history(alice, grp, `around=${ack.messageId}&limit=1`);
    const stored = page.body.messages.find((m: any) => m.id === ack.messageId);
    expect(stored.text).toBe(text);
    const event = await s.gotMessage(ack.messageId);
    expect(event.message.text).toBe(text);

    const over = await s.sendMsg(grp, text + '👍', 'emoji-over', 10_000);
    expect(over).toMatchObject({ op: 'error', code: 'message_too_long' });
    const overHttp = await carol.req('POST', `/v1/channels/${grp}/messages`, {
      text: '🔥' + text,
      clientMsgId: 'emoji-over-http',
    });
    expect(overHttp.status).toBe(413);
    expect(overHttp.body.error.code).toBe('message_too_long');
    await s.close();
  });

  it('refuses empty text with invalid_request (HTTP and socket)', async () => {
    const s = await alice.connect();
    socks.push(s);
    s.send({ op: 'send', channelId: dmAB, text: '', clientMsgId: 'empty' });
    expect(await s.waitFor((f) => f.op === 'error')).toMatchObject({ op: 'error', code: 'invalid_request' });
    const res = await alice.req('POST', `/v1/channels/${dmAB}/messages`, { text: '', clientMsgId: 'empty-h' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    await s.close();
  });
});

it('a refused send echoes its clientMsgId in the error frame, so the client can tell which send failed', async () => {
  // design.md: send -> {op:"ack", ...} or {op:"error", code, message, clientMsgId}
  const s = await alice.connect();
  socks.push(s);
  for (const [frame, id] of [
    [{ op: 'send', channelId: dmAB, text: '', clientMsgId: 'echo-empty' }, 'echo-empty'],
    [{ op: 'send', channelId: dmAB, text: 42, clientMsgId: 'echo-type' }, 'echo-type'],
  ] as const) {
    s.send(frame);
    const err = await s.waitFor((f) => f.op === 'error');
    expect(err).toMatchObject({ code: 'invalid_request', clientMsgId: id });
  }
  await s.close();
});

describe('idempotent resend', () => {
  it('returns the same messageId for a resend with the same clientMsgId and stores it once', async () => {
    const s = await alice.connect();
    const s2 = await alice2.connect();
    const b = await bob.connect();
    socks.push(s, s2, b);
    const cmid = `resend-${randomUUID()}`;
    const first = await s.sendMsg(dmAB, 'once', cmid);
    // Resend from the same device, from the user's other device, and over HTTP.
    s.send({ op: 'send', channelId: dmAB, text: 'once', clientMsgId: cmid });
    const again = await s.until(
      () => s.frames.filter((f) => f.op === 'ack' && f.clientMsgId === cmid).slice(1)[0],
      'second ack',
    );
    const other = await s2.sendMsg(dmAB, 'once', cmid);
    const viaHttp = await alice.req('POST', `/v1/channels/${dmAB}/messages`, { text: 'once', clientMsgId: cmid });
    expect(again.messageId).toBe(first.messageId);
    expect(other.messageId).toBe(first.messageId);
    // Idempotent: the resend answers as the first send did (201), with the stored message.
    expect(viaHttp.status).toBe(201);
    expect(viaHttp.body.message.id).toBe(first.messageId);

    const stored = (await allMessages(bob, dmAB)).filter((m) => m.clientMsgId === cmid || m.id === first.messageId);
    expect(stored).toHaveLength(1);
    // Bob got exactly one event for it (barrier: a later message).
    const later = await s.sendMsg(dmAB, 'later');
    await b.gotMessage(later.messageId);
    expect(b.events('message.created').filter((e) => e.message.id === first.messageId)).toHaveLength(1);
    await closeAll([s, s2, b]);
  });

  it('keeps clientMsgIds of different senders apart', async () => {
    const cmid = `shared-${randomUUID()}`;
    const m1 = await post(alice, grp, 'from alice', cmid);
    const m2 = await post(bob, grp, 'from bob', cmid);
    expect(m2.id).not.toBe(m1.id);
    expect(m2.senderId).toBe(bob.id);
  });
});

describe('concurrency', () => {
  it('two devices of one user sending at once: every message acked once, both devices see the same gap-free log', async () => {
    const d1 = await alice.connect();
    const d2 = await alice2.connect();
    const b = await bob.connect();
    socks.push(d1, d2, b);
    const N = 30;
    for (let i = 0; i < N; i++) {
      d1.send({ op: 'send', channelId: grp, text: `d1-${i}`, clientMsgId: `cc-d1-${i}` });
      d2.send({ op: 'send', channelId: grp, text: `d2-${i}`, clientMsgId: `cc-d2-${i}` });
    }
    const acks = (s: Sock, p: string) =>
      s.until(() => {
        const a = s.frames.filter((f) => f.op === 'ack' && String(f.clientMsgId).startsWith(p));
        return a.length >= N ? a : undefined;
      }, `${p} acks`);
    const ids = [...(await acks(d1, 'cc-d1-')), ...(await acks(d2, 'cc-d2-'))].map((a) => a.messageId);
    expect(new Set(ids).size).toBe(2 * N);
    // Each device of Alice, and Bob, sees all 60, once each, with gap-free seqs.
    for (const s of [d1, d2, b]) {
      await s.until(() => ids.every((id) => s.events('message.created').some((e) => e.message.id === id)), 'all 60');
      const evs = s.events();
      const seqs = evs.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs.every((q, i) => i === 0 || q === seqs[i - 1] + 1)).toBe(true);
    }
    // Alice's two devices share one log: same seq for the same message.
    const seqOf = (s: Sock) =>
      Object.fromEntries(s.events('message.created').map((e) => [e.message.id, e.seq] as [string, number]));
    const s1 = seqOf(d1);
    const s2 = seqOf(d2);
    for (const id of ids) expect(s1[id]).toBe(s2[id]);
    // Live events of one channel arrive in the channel's canonical (id) order, on one node. On a
    // fleet each gateway takes ids from its own generator before the commit, so two gateways'
    // concurrent sends can commit (and get seqs) in an order other than their ids; the contract
    // promises seq order on the socket and id order in history, not that the two agree.
    for (const s of t.kind === 'fleet' ? [] : [d1, d2, b]) {
      const order = s
        .events('message.created')
        .filter((e) => e.message.channelId === grp)
        .map((e) => e.message.id);
      expect(isAscending(order)).toBe(true);
    }
    // Each sender's own messages are stored in the order it sent them.
    const stored = await allMessages(carol, grp);
    expect(isAscending(stored.map((m) => m.id))).toBe(true);
    for (const p of ['d1-', 'd2-']) {
      const mine = stored.filter((m) => m.text.startsWith(p)).map((m) => Number(m.text.slice(3)));
      expect(mine).toEqual(Array.from({ length: N }, (_, i) => i));
    }
    await closeAll([d1, d2, b]);
  });
});
