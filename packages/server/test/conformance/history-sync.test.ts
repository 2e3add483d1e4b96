/**
 * Conformance: history paging and jump, the update log (resume with `since`, GET /v1/sync),
 * read cursors and unread counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, cmpId, dm, group, history, isAscending, newUser, post, type Client, type Sock } from '../harness.js';
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

describe('history paging and jump', () => {
  let ch: string;
  let ids: string[];
  beforeAll(async () => {
    ch = await dm(alice, bob);
    ids = [];
    // 130 messages from both sides, alternately.
    for (let i = 0; i < 130; i++) ids.push((await post(i % 2 ? bob : alice, ch, `m${i}`)).id);
  });

  const texts = (res: any) => res.body.messages.map((m: any) => m.text);

  it('gives the latest 50 by default, ascending', async () => {
    const res = await history(alice, ch);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: any) => m.id)).toEqual(ids.slice(80));
    expect(isAscending(res.body.messages.map((m: any) => m.id))).toBe(true);
  });

  it('pages backwards with before and forwards with after, without overlap or gap', async () => {
    const older = await history(bob, ch, `before=${ids[80]}&limit=30`);
    expect(older.body.messages.map((m: any) => m.id)).toEqual(ids.slice(50, 80));
    const newer = await history(bob, ch, `after=${ids[10]}&limit=5`);
    expect(texts(newer)).toEqual(['m11', 'm12', 'm13', 'm14', 'm15']);
    // Walk the whole channel forwards with after.
    const seen: string[] = [];
    let cursor = '0';
    for (;;) {
      const page = await history(alice, ch, `after=${cursor}&limit=40`);
      expect(page.status).toBe(200);
      if (page.body.messages.length === 0) break;
      seen.push(...page.body.messages.map((m: any) => m.id));
      cursor = page.body.messages.at(-1).id;
    }
    expect(seen).toEqual(ids);
    // before the first message and after the last: empty pages.
    expect((await history(alice, ch, `before=${ids[0]}`)).body.messages).toEqual([]);
    expect((await history(alice, ch, `after=${ids.at(-1)}`)).body.messages).toEqual([]);
  });

  it('jumps to a message with around: the message with its neighbours, ascending', async () => {
    const res = await history(alice, ch, `around=${ids[60]}&limit=11`);
    expect(res.status).toBe(200);
    const got = res.body.messages.map((m: any) => m.id);
    expect(got).toContain(ids[60]);
    expect(got).toHaveLength(11);
    expect(isAscending(got)).toBe(true);
    // Contiguous: a window of the channel.
    const start = ids.indexOf(got[0]);
    expect(got).toEqual(ids.slice(start, start + 11));
    // floor(11/2) = 5 older, the message, 5 newer (docs/protocol.md, History paging).
    expect(start).toBe(55);
    // Near the start of the channel the window is still contiguous and contains the message.
    const edge = (await history(alice, ch, `around=${ids[1]}&limit=10`)).body.messages.map((m: any) => m.id);
    expect(edge).toContain(ids[1]);
    expect(edge[0]).toBe(ids[0]);
  });

  it('jumps with around and no limit: the default 50, 25 older, the message and 24 newer', async () => {
    const res = await history(bob, ch, `around=${ids[100]}`);
    const got = res.body.messages.map((m: any) => m.id);
    // 100 older are available and 29 newer, so the window is exactly 25 + 1 + 24.
    expect(got).toEqual(ids.slice(75, 125));
  });

  it('refuses a limit above 100 with invalid_request (the query does not match the schema)', async () => {
    for (const limit of [101, 1000, 1_000_000]) {
      const res = await history(alice, ch, `limit=${limit}`);
      expect({ limit, status: res.status, code: res.body?.error?.code }).toEqual({
        limit,
        status: 400,
        code: 'invalid_request',
      });
    }
    const exactly = await history(alice, ch, 'limit=100');
    expect(exactly.body.messages.map((m: any) => m.id)).toEqual(ids.slice(30));
  });

  it('refuses nonsense paging parameters with invalid_request, never a 500', async () => {
    for (const q of [
      'limit=-1',
      'limit=0',
      'limit=abc',
      'limit=1.5',
      'before=abc',
      'after=-5',
      'around=1e5',
      'before=99999999999999999999999999',
      `before=${ids[5]}&after=${ids[1]}`,
    ]) {
      const res = await history(alice, ch, q);
      expect({ q, status: res.status, code: res.body?.error?.code }).toEqual({
        q,
        status: 400,
        code: 'invalid_request',
      });
    }
  });

  it('answers around= a message of another channel without leaking it', async () => {
    const other = await dm(carol, bob);
    const secret = await post(carol, other, 'secret');
    const res = await history(alice, ch, `around=${secret.id}&limit=5`);
    expect(res.raw).not.toContain('secret');
    if (res.status === 200) for (const m of res.body.messages) expect(m.channelId).toBe(ch);
  });
});

describe('resume with since: exactly what was missed, in order, once', () => {
  it('replays the missed events after ready, then goes live, with no duplicates or gaps', async () => {
    const ch = await dm(alice, carol);
    const g = await group(carol, [alice, bob], 'resume');
    const phone = await alice.newDevice('phone');
    const live = await phone.connect();
    socks.push(live);
    await post(carol, ch, 'before-1');
    const seenLive = await live.gotMessage((await post(carol, g, 'before-2')).id);
    const since = seenLive.seq as number;
    await live.close();

    // While away: DM and group traffic, from others and from Alice's other device.
    const missed: string[] = [];
    for (let i = 0; i < 25; i++) missed.push((await post(i % 3 === 0 ? alice : carol, i % 2 ? g : ch, `miss-${i}`)).id);
    const readTarget = missed[2]!; // i = 2: Carol's message in the DM
    expect((await alice.req('POST', `/v1/channels/${ch}/read`, { messageId: readTarget })).status).toBe(204);

    const back = await phone.connect(since);
    socks.push(back);
    // 25 messages and one read cursor, all in Alice's log, and nothing else happened to her.
    expect(back.ready!.seq).toBe(since + 26);
    // Then live: one more message after the resume.
    const after = await post(bob, g, 'live-after');
    await back.gotMessage(after.id);

    const evs = back.events();
    const seqs = evs.map((e) => e.seq);
    expect(seqs[0]).toBe(since + 1);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => since + 1 + i));
    const msgIds = back.events('message.created').map((e) => e.message.id);
    expect(msgIds).toEqual([...missed, after.id]);
    expect(back.events('read.updated')).toEqual([
      expect.objectContaining({ channelId: ch, userId: alice.id, messageId: readTarget }),
    ]);
    // ready came first, before any replayed event.
    const firstEvent = back.frames.findIndex((f) => f.op === 'event');
    expect(back.frames.findIndex((f) => f.op === 'ready')).toBeLessThan(firstEvent);
    // The replayed seqs end at the ready head, and live ones continue after it.
    const head = back.ready!.seq as number;
    expect(evs.filter((e) => e.seq <= head)).toHaveLength(head - since);
    await back.close();
  });

  it('hands over from replay to live without loss or duplicates while messages keep arriving', async () => {
    const [x, y] = await Promise.all([newUser(t, 'handx'), newUser(t, 'handy')]);
    const ch = await dm(x, y);
    const sender = await y.connect();
    socks.push(sender);
    const first = await x.connect();
    const since = first.ready!.seq as number;
    await first.close();
    let n = 0;
    let stop = false;
    const acked: string[] = []; // texts stored, in send order (a rate-limited send is not stored)
    const pump = (async () => {
      while (!stop) {
        const texts = Array.from({ length: 5 }, () => `h${n++}`);
        const answers = await Promise.all(texts.map((text) => sender.sendMsg(ch, text)));
        texts.forEach((text, k) => answers[k]!.op === 'ack' && acked.push(text));
      }
    })();
    // Reconnect several times mid-stream, each time from the last seq seen.
    let from = since;
    const all: any[] = [];
    for (let round = 0; round < 5; round++) {
      await sender.until(() => sender.frames.filter((f) => f.op === 'ack').length >= (round + 1) * 40, 'progress');
      const s = await x.connect(from);
      await s.until(() => s.events().length >= 10, 'some events');
      await s.close();
      const evs = s.events();
      all.push(...evs);
      from = evs.at(-1)!.seq;
    }
    stop = true;
    await pump;
    const last = await x.connect(from);
    socks.push(last);
    const head = (await x.req('GET', `/v1/sync?since=${from}&limit=1`)).body;
    expect(head.events.length === 0 || head.events[0].seq === from + 1).toBe(true);
    const total = (await x.req('GET', '/v1/channels')).body.channels.find((c: any) => c.id === ch);
    expect(total.lastMessage.text).toBe(acked.at(-1));
    // The last round's socket may already have seen the final message (then `from` is the head and
    // there is nothing left to replay); otherwise the new socket must replay up to it.
    const isFinal = (e: any) => e.type === 'message.created' && e.message.text === acked.at(-1);
    if (!all.some(isFinal)) await last.until(() => last.events().some(isFinal), 'the final message');
    all.push(...last.events());
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => since + 1 + i));
    // Every acked message once, none other. Compared in the channel's canonical (id) order: the
    // contract promises seq order on the socket, and five pipelined sends may commit (take their
    // seqs) in another order than their ids on a store with concurrent writers (PostgreSQL).
    const byId = [...all].sort((a, b) => cmpId(a.message.id, b.message.id));
    expect(byId.map((e) => e.message.text)).toEqual(acked);
    await last.close();
  });

  it('replays a long absence (more than any page size) completely, in order', async () => {
    const [x, y] = await Promise.all([newUser(t, 'longx'), newUser(t, 'longy')]);
    const ch = await dm(x, y);
    const first = await x.connect();
    const since = first.ready!.seq as number;
    await first.close();
    const N = 1500;
    const devices = await Promise.all(Array.from({ length: 5 }, (_, i) => y.newDevice(`bulk${i}`)));
    for (let i = 0; i < N; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, N - i) }, (_, k) =>
          devices[k % 5]!.req('POST', `/v1/channels/${ch}/messages`, { text: `L${i + k}`, clientMsgId: `L${i + k}` }),
        ),
      );
    }
    const back = await x.connect(since);
    socks.push(back);
    expect(back.ready!.seq).toBe(since + N);
    await back.until(() => back.events().length >= N, `${N} replayed events`, 15_000);
    expect(back.events().map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => since + 1 + i));
    expect(new Set(back.events().map((e) => e.message.id)).size).toBe(N);
    await back.close();
  });

  it('replays nothing when since equals the head, and everything (1..head) from since 0', async () => {
    const u = await newUser(t, 'fresh');
    await dm(carol, u);
    await post(carol, (await dm(carol, u))!, 'x');
    const s0 = await u.connect(0);
    socks.push(s0);
    const head = s0.ready!.seq as number;
    expect(head).toBeGreaterThanOrEqual(2);
    await s0.until(() => s0.events().length >= head, 'full replay');
    expect(s0.events().map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    const s1 = await u.connect(head);
    socks.push(s1);
    const m = await post(carol, await dm(carol, u), 'y');
    await s1.gotMessage(m.id);
    expect(s1.events().map((e) => e.seq)).toEqual([head + 1]);
    await closeAll([s0, s1]);
  });

  it('gives a new device its position at sign-up and log-in: since it replays what came after', async () => {
    const u = await newUser(t, 'newdev');
    expect(u.device.seq).toBe(0);
    const ch = await dm(carol, u);
    await post(carol, ch, 'before the log-in');
    const phone = await u.newDevice('phone');
    const probe = await u.connect();
    socks.push(probe);
    expect(phone.device.seq).toBe(probe.ready!.seq); // the head then: nothing came since
    await probe.close();
    // Committed after the log-in and before the phone's first hello (its HTTP reads miss it).
    const between = await post(carol, ch, 'between log-in and hello');
    const live = await phone.connect(phone.device.seq);
    socks.push(live);
    await live.gotMessage(between.id);
    expect(live.events().map((e) => e.seq)).toEqual([phone.device.seq + 1]);
    expect(live.events('message.created').map((e) => e.message.text)).toEqual(['between log-in and hello']);
    await live.close();
  });

  it('answers a since beyond the head with ready then resync_required', async () => {
    const u = await newUser(t, 'ahead');
    const s = await u.connect(1_000_000);
    socks.push(s);
    const err = await s.waitFor((f) => f.op === 'error');
    expect(err.code).toBe('resync_required');
    await s.close();
  });

  it('refuses a negative or non-integer since on the socket without crashing', async () => {
    for (const since of [-1, 1.5, 'abc']) {
      const { Sock } = await import('../harness.js');
      const s = await Sock.open(t.wsUrl);
      socks.push(s);
      s.send({ op: 'hello', token: alice.token, since });
      const first = await s.until(() => s.frames[0] ?? (s.closeCode !== undefined ? { op: 'closed' } : undefined));
      // Contract: `since?: SEQ`, a non-negative integer. A bad one is an invalid hello, not a replay.
      expect({ since, op: first.op }).not.toEqual({ since, op: 'ready' });
      await s.close();
    }
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });
});

describe('GET /v1/sync', () => {
  it('serves the same log as the socket, paged, with seq and hasMore', async () => {
    const u = await newUser(t, 'sync');
    const ch = await dm(bob, u);
    for (let i = 0; i < 7; i++) await post(bob, ch, `s${i}`);
    const s = await u.connect(0);
    socks.push(s);
    const head = s.ready!.seq as number;
    await s.until(() => s.events().length >= head, 'replay');
    const events: any[] = [];
    let since = 0;
    for (let round = 0; round < 20; round++) {
      const res = await u.req('GET', `/v1/sync?since=${since}&limit=3`);
      expect(res.status).toBe(200);
      expect(res.body.events.length).toBeLessThanOrEqual(3);
      events.push(...res.body.events);
      since = res.body.seq;
      if (!res.body.hasMore) break;
    }
    expect(since).toBe(head);
    expect(events.map((e) => e.seq)).toEqual(s.events().map((e) => e.seq));
    expect(events.map((e) => e.type)).toEqual(s.events().map((e) => e.type));
    // Nothing new: seq stays, no events.
    const none = await u.req('GET', `/v1/sync?since=${head}`);
    expect(none.body).toMatchObject({ events: [], seq: head, hasMore: false });
    await s.close();
  });

  it('refuses since=-1, since=abc and limit=-5 with invalid_request', async () => {
    for (const q of ['since=-1', 'since=abc', 'since=0&limit=-5', 'since=1.5']) {
      const res = await alice.req('GET', `/v1/sync?${q}`);
      expect({ q, status: res.status, code: res.body?.error?.code }).toEqual({
        q,
        status: 400,
        code: 'invalid_request',
      });
    }
  });
});

describe('read cursors and unread counts', () => {
  it('counts unread per user, clears on read, and tells the other devices and the DM peer', async () => {
    const reader = await newUser(t, 'reader');
    const a2 = await reader.newDevice('tablet');
    const ch = await dm(reader, bob);
    const [sa1, sa2, sb] = await Promise.all([reader.connect(), a2.connect(), bob.connect()]);
    socks.push(sa1, sa2, sb);
    const sent: any[] = [];
    for (let i = 0; i < 4; i++) sent.push(await post(bob, ch, `r${i}`));
    const unread = async (c: Client) =>
      (await c.req('GET', '/v1/channels')).body.channels.find((x: any) => x.id === ch);
    const viewBefore = await unread(reader);
    expect(viewBefore.unreadCount).toBe(4);
    expect((await unread(bob)).unreadCount).toBe(0);

    // Read up to the second over the socket.
    sa1.send({ op: 'read', channelId: ch, messageId: sent[1].id });
    const match = (f: any) => f.op === 'event' && f.type === 'read.updated' && f.messageId === sent[1].id;
    const [ra2, rb] = await Promise.all([sa2.seen(match), sb.seen(match)]);
    for (const r of [ra2, rb]) expect(r).toMatchObject({ channelId: ch, userId: reader.id, messageId: sent[1].id });
    const v = await unread(reader);
    expect(v.unreadCount).toBe(2);
    expect(v.lastReadMessageId).toBe(sent[1].id);

    // Read the rest over HTTP.
    expect((await a2.req('POST', `/v1/channels/${ch}/read`, { messageId: sent[3].id })).status).toBe(204);
    await sa1.seen((f) => f.op === 'event' && f.type === 'read.updated' && f.messageId === sent[3].id);
    expect((await unread(reader)).unreadCount).toBe(0);

    // Never backwards.
    await reader.req('POST', `/v1/channels/${ch}/read`, { messageId: sent[0].id });
    const after = await unread(reader);
    expect(after.unreadCount).toBe(0);
    expect(after.lastReadMessageId).toBe(sent[3].id);

    // The sender's own messages do not count as unread for them.
    await post(reader, ch, 'mine');
    expect((await unread(reader)).unreadCount).toBe(0);
    expect((await unread(bob)).unreadCount).toBe(1);
    await closeAll([sa1, sa2, sb]);
  });

  it('counts group unread per member; the group read cursor is not told to other members', async () => {
    const g = await group(alice, [bob, carol], 'reads');
    const m1 = await post(alice, g, 'g1');
    const m2 = await post(bob, g, 'g2');
    const count = async (c: Client) =>
      (await c.req('GET', '/v1/channels')).body.channels.find((x: any) => x.id === g).unreadCount;
    expect(await count(carol)).toBe(2);
    expect(await count(alice)).toBe(1);
    expect(await count(bob)).toBe(1);
    const sa = await alice.connect();
    socks.push(sa);
    expect((await carol.req('POST', `/v1/channels/${g}/read`, { messageId: m1.id })).status).toBe(204);
    expect(await count(carol)).toBe(1);
    // In a group only the reader's own devices learn the cursor (barrier: a later message).
    const later = await post(bob, g, 'g3');
    await sa.gotMessage(later.id);
    expect(sa.events('read.updated').filter((e) => e.userId === carol.id)).toEqual([]);
    await sa.close();
    expect(await count(bob)).toBe(1);
    expect(cmpId(m1.id, m2.id)).toBe(-1);
  });

  it('refuses a socket read cursor on a message of another channel with an error frame, moving nothing', async () => {
    const [r1, r2] = await Promise.all([newUser(t, 'rd1'), newUser(t, 'rd2')]);
    const ch = await dm(r1, r2);
    const mine = await post(r2, ch, 'mine');
    const foreign = await post(bob, await dm(bob, carol), 'elsewhere');
    const s = await r1.connect();
    socks.push(s);
    s.send({ op: 'read', channelId: ch, messageId: foreign.id });
    const err = await s.waitFor((f) => f.op === 'error');
    expect(['invalid_request', 'not_found']).toContain(err.code);
    const view = (await r1.req('GET', '/v1/channels')).body.channels.find((c: any) => c.id === ch);
    expect(view.unreadCount).toBe(1);
    expect(view.lastReadMessageId).toBeUndefined();
    s.send({ op: 'read', channelId: ch, messageId: mine.id });
    await s.seen((f) => f.op === 'event' && f.type === 'read.updated' && f.messageId === mine.id);
    await s.close();
  });

  it('refuses a read cursor on a message of another channel, or an unknown message', async () => {
    const ch = await dm(alice, bob);
    const other = await dm(bob, carol);
    const foreign = await post(carol, other, 'not yours');
    for (const messageId of [foreign.id, '123456789', 'abc']) {
      const res = await alice.req('POST', `/v1/channels/${ch}/read`, { messageId });
      expect([400, 404]).toContain(res.status);
    }
  });
});
