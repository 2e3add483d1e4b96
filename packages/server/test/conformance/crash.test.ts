/**
 * Conformance: the real program as a child process, killed with SIGKILL mid-traffic and
 * restarted: nothing acked is lost, nothing is duplicated, logs stay gap-free, resume still
 * works, and lastSeenAt survives. Needs `npx tsc -b packages/server` first (dist/main.js).
 * Skipped against an external server (PARLEY_CONFORMANCE_URL).
 *
 * Embedded only (not in the fleet run): it kills and restarts the single process that owns the
 * SQLite data directory, which is what this file is about. On a fleet a process crash is a
 * gateway or API node dying while PostgreSQL keeps the data; packages/server/test/cluster
 * covers that (SIGKILL and SIGTERM of a gateway mid-traffic).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '@parley/server';
import {
  allMessages,
  befriend,
  type Client,
  closeAll,
  dm,
  type Endpoint,
  group,
  named,
  type Sock,
} from '../harness.js';
import { externalUrl } from './target.js';

const HB = 100;
const GRACE = 200;

describe.skipIf(externalUrl)('SIGKILL and restart', () => {
  let proc: ServerProcess;
  let t: Endpoint;
  const socks: Sock[] = [];

  beforeAll(async () => {
    const { spawnServerProcess } = await import('@parley/server');
    proc = await spawnServerProcess({
      env: {
        PARLEY_HEARTBEAT_MS: String(HB),
        PARLEY_HEARTBEAT_TIMEOUT_MS: '1000',
        PARLEY_PRESENCE_GRACE_MS: String(GRACE),
      },
    });
    t = { baseUrl: proc.baseUrl, wsUrl: proc.wsUrl };
  });
  afterAll(async () => {
    await closeAll(socks);
    await proc?.cleanup();
  });

  async function sync(c: Client): Promise<any[]> {
    const out: any[] = [];
    let since = 0;
    for (;;) {
      const res = await c.req('GET', `/v1/sync?since=${since}&limit=1000`);
      expect(res.status).toBe(200);
      out.push(...res.body.events);
      since = res.body.seq;
      if (!res.body.hasMore) return out;
    }
  }

  it('loses nothing acked, duplicates nothing, and keeps every log gap-free', async () => {
    const [alice, bob, carol] = await named(t, ['alice', 'bob', 'carol']);
    const alice2 = await alice.newDevice('phone');
    const d = await dm(alice, bob);
    const g = await group(carol, [alice, bob], 'crash');
    const [sa, sa2, sc] = await Promise.all([alice.connect(), alice2.connect(), carol.connect()]);
    socks.push(sa, sa2, sc);
    // Bob's phone is offline from here; it will resume after the restart.
    const bobPhone = await bob.newDevice('phone');
    const bp = await bobPhone.connect();
    const bobSince = bp.ready!.seq as number;
    await bp.close();

    const acked = new Map<string, string>(); // clientMsgId -> messageId
    const sent: { sock: Sock; channelId: string; text: string; cmid: string }[] = [];
    for (const s of [sa, sa2, sc]) {
      s.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.op === 'ack') acked.set(f.clientMsgId, f.messageId);
      });
    }
    let i = 0;
    const pump = setInterval(() => {
      for (let k = 0; k < 3; k++, i++) {
        const s = [sa, sa2, sc][i % 3]!;
        if (!s.open) continue;
        const channelId = s === sc ? g : i % 2 ? d : g;
        const item = { sock: s, channelId, text: `crash-${i}`, cmid: `crash-${i}-${randomUUID().slice(0, 8)}` };
        sent.push(item);
        s.send({ op: 'send', channelId, text: item.text, clientMsgId: item.cmid });
      }
    }, 2);
    await sa.until(() => acked.size >= 300, '300 acks', 20_000);
    await proc.kill('SIGKILL');
    clearInterval(pump);
    await Promise.all([sa.closed, sa2.closed, sc.closed]);
    const ackedAtKill = new Map(acked);
    expect(ackedAtKill.size).toBeGreaterThanOrEqual(300);

    await proc.restart();
    const stored = [...(await allMessages(bob, d)), ...(await allMessages(bob, g))];
    const storedIds = new Set(stored.map((m) => m.id));
    const lost = [...ackedAtKill].filter(([, id]) => !storedIds.has(id));
    expect(lost).toEqual([]);
    // Stored exactly once each.
    expect(storedIds.size).toBe(stored.length);
    const byCmid = new Map<string, number>();
    for (const m of stored) byCmid.set(m.clientMsgId, (byCmid.get(m.clientMsgId) ?? 0) + 1);
    expect([...byCmid.values()].every((n) => n === 1)).toBe(true);
    // Every stored message was acked with the id it is stored under (if it was acked).
    for (const m of stored) if (ackedAtKill.has(m.clientMsgId)) expect(ackedAtKill.get(m.clientMsgId)).toBe(m.id);

    // The clients resend everything not acked, with the same clientMsgIds: no duplicates.
    const r = await Promise.all([alice.connect(), alice2.connect(), carol.connect()]);
    socks.push(...r);
    const sockFor = (s: Sock) => r[[sa, sa2, sc].indexOf(s)]!;
    const unacked = sent.filter((x) => !ackedAtKill.has(x.cmid));
    const answers = new Map<string, any>();
    for (const s of r) {
      s.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if ((f.op === 'ack' || f.op === 'error') && f.clientMsgId) answers.set(f.clientMsgId, f);
      });
    }
    for (const x of unacked)
      sockFor(x.sock).send({ op: 'send', channelId: x.channelId, text: x.text, clientMsgId: x.cmid });
    await r[0]!.until(() => unacked.every((x) => answers.has(x.cmid)), 'answers to the resends', 15_000);
    const resent = unacked.map((x) => answers.get(x.cmid));
    expect(resent.filter((f) => f.op !== 'ack')).toEqual([]);
    const after = [...(await allMessages(bob, d)), ...(await allMessages(bob, g))];
    expect(after.length).toBe(sent.length);
    expect(new Set(after.map((m) => m.clientMsgId)).size).toBe(sent.length);
    for (const f of resent) {
      const prior = stored.find((m) => m.clientMsgId === f.clientMsgId);
      if (prior) expect(f.messageId).toBe(prior.id);
    }

    // Logs are gap-free 1..n for every user, and hold one message.created per message.
    for (const c of [alice, bob, carol]) {
      const events = await sync(c);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, k) => k + 1));
      const created = events.filter((e) => e.type === 'message.created').map((e) => e.message.id);
      expect(new Set(created).size).toBe(created.length);
    }
    const bobCreated = (await sync(bob)).filter((e) => e.type === 'message.created');
    expect(bobCreated.length).toBe(sent.length);

    // Bob's phone resumes from before the crash and gets exactly what it missed, in order.
    const back = await bobPhone.connect(bobSince);
    socks.push(back);
    const head = back.ready!.seq as number;
    await back.until(() => back.events().length >= head - bobSince, 'replay after restart', 10_000);
    expect(back.events().map((e) => e.seq)).toEqual(
      Array.from({ length: head - bobSince }, (_, k) => bobSince + 1 + k),
    );
    expect(back.events('message.created').length).toBe(sent.length);
    await closeAll([...r, back]);
  });

  it('keeps every other acknowledged write across SIGKILL: HTTP sends, read cursors, friendships, groups, profiles', async () => {
    const [alice, bob] = await named(t, ['alice', 'bob']);
    const d = await dm(alice, bob);
    const created = [];
    for (let k = 0; k < 30; k++) {
      const res = await bob.req('POST', `/v1/channels/${d}/messages`, { text: `http-${k}`, clientMsgId: `h-${k}` });
      expect(res.status).toBe(201);
      created.push(res.body.message);
    }
    expect((await alice.req('POST', `/v1/channels/${d}/read`, { messageId: created[20].id })).status).toBe(204);
    await befriend(alice, bob);
    const g = await group(alice, [bob], 'durable group');
    expect((await alice.req('PATCH', '/v1/me', { displayName: 'Durable Alice' })).status).toBe(200);
    await proc.kill('SIGKILL');
    await proc.restart();
    const stored = await allMessages(alice, d);
    expect(stored.map((m) => m.id)).toEqual(created.map((m) => m.id));
    const view = (await alice.req('GET', '/v1/channels')).body.channels;
    expect(view.find((c: any) => c.id === d)).toMatchObject({ lastReadMessageId: created[20].id, unreadCount: 9 });
    expect(view.find((c: any) => c.id === g)).toMatchObject({ name: 'durable group' });
    expect((await bob.req('GET', '/v1/friends')).body.friends.map((f: any) => f.user.id)).toEqual([alice.id]);
    expect((await bob.req('GET', `/v1/users/${alice.id}`)).body.user.displayName).toBe('Durable Alice');
    // Tokens survive too, and ids keep growing after the restart.
    const next = await bob.req('POST', `/v1/channels/${d}/messages`, { text: 'after', clientMsgId: 'after' });
    expect(next.status).toBe(201);
    expect(BigInt(next.body.message.id) > BigInt(created.at(-1).id)).toBe(true);
    // A resend of an acked clientMsgId after the restart still dedupes.
    const again = await bob.req('POST', `/v1/channels/${d}/messages`, { text: 'http-0', clientMsgId: 'h-0' });
    expect(again.body.message.id).toBe(created[0].id);
  });

  it('keeps lastSeenAt across a restart, and nobody is stuck online after a SIGKILL', async () => {
    const [alice, bob] = await named(t, ['alice', 'bob']);
    await befriend(alice, bob);
    const watcher = (await bob.connect()).keepAlive(HB);
    socks.push(watcher);
    const sa = (await alice.connect()).keepAlive(HB);
    const on = await watcher.seen((f) => f.op === 'presence' && f.userId === alice.id && f.status === 'online');
    await sa.close();
    const off = await watcher.until(
      () =>
        watcher.frames.slice(watcher.frames.indexOf(on) + 1).find((f) => f.op === 'presence' && f.userId === alice.id),
      'alice offline',
    );
    expect(off.status).toBe('offline');
    const lastSeenAt = off.lastSeenAt;
    expect(typeof lastSeenAt).toBe('string');
    // Bob is online when the server is killed.
    await proc.kill('SIGKILL');
    await watcher.closed;
    await proc.restart();
    const friends = await bob.req('GET', '/v1/friends');
    expect(friends.body.friends.find((f: any) => f.user.id === alice.id).presence).toEqual({
      status: 'offline',
      lastSeenAt,
    });
    const bobs = await alice.req('GET', '/v1/friends');
    const bobPresence = bobs.body.friends.find((f: any) => f.user.id === bob.id).presence;
    expect(bobPresence.status).toBe('offline');
    // A fresh socket gets the same picture right after ready.
    const s = (await bob.connect()).keepAlive(HB);
    socks.push(s);
    const initial = await s.seen((f) => f.op === 'presence' && f.userId === alice.id);
    expect(initial).toMatchObject({ status: 'offline', lastSeenAt });
    await s.close();
  });

  it('SIGTERM: closes sockets with 1001 (going away) and loses nothing acked', async () => {
    const [alice, bob] = await named(t, ['alice', 'bob']);
    const d = await dm(alice, bob);
    const sa = await alice.connect();
    const acks = await Promise.all(Array.from({ length: 20 }, (_, k) => sa.sendMsg(d, `term-${k}`)));
    await proc.kill('SIGTERM');
    expect(await sa.closed).toBe(1001);
    await proc.restart();
    const stored = new Set((await allMessages(bob, d)).map((m) => m.id));
    expect(acks.filter((a) => !stored.has(a.messageId))).toEqual([]);
  });
});
