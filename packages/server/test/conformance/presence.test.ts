/**
 * Conformance: presence and typing (issue 3's checks) with short configured times. Time is the
 * behaviour under test here, so a few waits are measured against the configured values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { befriend, closeAll, dm, group, named, newUser, sleep, type Client, Sock } from '../harness.js';
import { externalUrl, startTarget, type Target } from './target.js';

const HB = 100;
const TIMEOUT = 600;
const GRACE = 300;

let t: Target;
let alice: Client;
let bob: Client;
let carol: Client; // shares a group with Alice and Bob, not a friend
let dave: Client; // Alice's friend, not in the group
let eve: Client; // no relation to anyone
let grp: string;
const socks: Sock[] = [];

const online = async (c: Client) => {
  const s = (await c.connect()).keepAlive(HB);
  socks.push(s);
  return s;
};

describe.skipIf(externalUrl)('presence with short configured times', () => {
  beforeAll(async () => {
    t = await startTarget({
      PARLEY_HEARTBEAT_MS: String(HB),
      PARLEY_HEARTBEAT_TIMEOUT_MS: String(TIMEOUT),
      PARLEY_PRESENCE_GRACE_MS: String(GRACE),
    });
    [alice, bob, carol, dave, eve] = await named(t, ['alice', 'bob', 'carol', 'dave', 'eve']);
    await befriend(alice, bob);
    await befriend(alice, dave);
    grp = await group(alice, [bob, carol], 'presence');
  });
  afterAll(async () => {
    await closeAll(socks);
    await t.close();
  });

  it('tells heartbeatMs in ready and answers ping with pong', async () => {
    const s = await online(eve);
    expect(s.ready!.heartbeatMs).toBe(HB);
    await s.roundTrip();
    await s.close();
  });

  it('status changes arrive in both directions, to friends and group members, and not to strangers', async () => {
    const sb = await online(bob);
    const sc = await online(carol);
    const se = await online(eve);
    const sa = await online(alice);
    // Alice's arrival reaches her friend Bob and her group mate Carol.
    await sb.seen((f) => f.op === 'presence' && f.userId === alice.id && f.status === 'online');
    await sc.seen((f) => f.op === 'presence' && f.userId === alice.id && f.status === 'online');
    // Right after ready, Alice gets the current picture: Bob and Carol online, Dave offline.
    await sa.seen((f) => f.op === 'presence' && f.userId === bob.id && f.status === 'online');
    await sa.seen((f) => f.op === 'presence' && f.userId === carol.id && f.status === 'online');
    // ... and Dave, a friend who is not connected, as offline (the full picture, not only who is online).
    await sa.seen((f) => f.op === 'presence' && f.userId === dave.id && f.status === 'offline');
    expect(sa.presenceOf(eve.id)).toEqual([]);
    // Bob leaves: Alice and Carol see him offline with lastSeenAt, after the grace period.
    const leftAt = Date.now();
    await sb.close();
    const off = await sa.seen((f) => f.op === 'presence' && f.userId === bob.id && f.status === 'offline', 5000);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(GRACE * 0.8);
    expect(typeof off.lastSeenAt).toBe('string');
    expect(Math.abs(Date.parse(off.lastSeenAt) - leftAt)).toBeLessThan(2000);
    await sc.seen((f) => f.op === 'presence' && f.userId === bob.id && f.status === 'offline');
    // GET /v1/friends shows the same.
    const friends = await alice.req('GET', '/v1/friends');
    const fb = friends.body.friends.find((f: any) => f.user.id === bob.id);
    expect(fb.presence).toMatchObject({ status: 'offline', lastSeenAt: off.lastSeenAt });
    const fd = friends.body.friends.find((f: any) => f.user.id === dave.id);
    expect(fd.presence.status).toBe('offline');
    // Eve, a stranger, heard nothing about any of them.
    await se.roundTrip();
    expect(se.frames.filter((f) => f.op === 'presence' && [alice.id, bob.id, carol.id].includes(f.userId))).toEqual([]);
    await closeAll([sa, sc, se]);
  });

  // Alice's socket from the test before closed moments ago, so she is in her grace period here
  // (on a fleet, possibly on the other gateway): Dave's snapshot must show her online.
  it('reports a client that stops pinging (socket left open) offline after the timeout, closing it with 4000', async () => {
    const watcher = await online(dave);
    const sa = await alice.connect(); // never pings
    socks.push(sa);
    const start = Date.now();
    await watcher.seen((f) => f.op === 'presence' && f.userId === alice.id && f.status === 'online');
    const code = await Promise.race([sa.closed, sleep(TIMEOUT * 4 + GRACE).then(() => -1)]);
    expect(code).toBe(4000);
    const closedAfter = Date.now() - start;
    expect(closedAfter).toBeGreaterThanOrEqual(TIMEOUT * 0.8);
    const off = await watcher.seen(
      (f) => f.op === 'presence' && f.userId === alice.id && f.status === 'offline',
      TIMEOUT + GRACE + 2000,
    );
    expect(off.lastSeenAt).toEqual(expect.any(String));
    expect(Date.now() - start).toBeLessThan(TIMEOUT + GRACE + 2500);
    await watcher.close();
  });

  /**
   * A user watched by Bob, and a control user, also Bob's friend, whose socket is on the same
   * gateway as the watched user's first one. The control closes its socket after the watched
   * user's socket closed, and has the same grace: once Bob hears the control go offline, any
   * offline of the watched user has been announced before it. That ordering, not a sleep, is the
   * barrier for "nothing was announced".
   */
  async function watchedWithControl(name: string) {
    const [subject, control] = await named(t, [name, `${name}ctl`]);
    await befriend(subject, bob);
    await befriend(control, bob);
    const watcher = await online(bob);
    // The snapshot after ready comes first (subject offline), so every later frame is news.
    await watcher.seen((f) => f.op === 'presence' && f.userId === subject.id && f.status === 'offline');
    const first = await online(subject);
    const ctl = (await Sock.connect(first.ws.url, control.token)).keepAlive(HB);
    socks.push(ctl);
    await watcher.seen((f) => f.op === 'presence' && f.userId === subject.id && f.status === 'online');
    await watcher.seen((f) => f.op === 'presence' && f.userId === control.id && f.status === 'online');
    /** Closes the control's socket and waits until its offline reached Bob. */
    const barrier = async () => {
      await ctl.close();
      await watcher.seen(
        (f) => f.op === 'presence' && f.userId === control.id && f.status === 'offline',
        GRACE + 5000,
        'the control user offline',
      );
      await watcher.roundTrip();
    };
    return { subject, watcher, first, barrier };
  }

  it('a quick reconnect within the grace period does not flap', async () => {
    const { subject, watcher, first, barrier } = await watchedWithControl('flap');
    await first.close();
    const again = await online(subject);
    await barrier();
    // The snapshot after ready (offline), then online once, whichever gateway the second socket
    // lands on, and no offline after it.
    expect(watcher.presenceOf(subject.id).map((f) => f.status)).toEqual(['offline', 'online']);
    expect(
      watcher
        .presenceOf(subject.id)
        .slice(1)
        .map((f) => f.status),
    ).not.toContain('offline');
    const view = await bob.req('GET', '/v1/friends');
    expect(view.body.friends.find((f: any) => f.user.id === subject.id).presence.status).toBe('online');
    await closeAll([again, watcher]);
  });

  it('stays online while another device is connected', async () => {
    const { subject, watcher, first, barrier } = await watchedWithControl('twodev');
    const second = await online(await subject.newDevice('phone'));
    await first.close();
    await barrier();
    expect(
      watcher
        .presenceOf(subject.id)
        .slice(1)
        .map((f) => f.status),
    ).not.toContain('offline');
    await second.close();
    await watcher.until(
      () => watcher.presenceOf(subject.id).some((f, i) => i > 1 && f.status === 'offline'),
      'offline after the last device',
      GRACE + 3000,
    );
    await watcher.close();
  });

  it('stops presence to an ex-friend and to a removed group member, live and in the picture after ready', async () => {
    const [p, exFriend, exMember, stays] = await named(t, ['p', 'exf', 'exm', 'stays']);
    await befriend(p, exFriend);
    const g = await group(p, [exMember, stays], 'shrinking');
    expect((await p.req('DELETE', `/v1/friends/${exFriend.id}`)).status).toBe(204);
    expect((await p.req('DELETE', `/v1/channels/${g}/members/${exMember.id}`)).status).toBe(204);
    const [sf, sm, ss] = await Promise.all([exFriend, exMember, stays].map(online));
    const sp = await online(p);
    // The remaining member sees P come online; then the others have had their chance too.
    await ss!.seen((f) => f.op === 'presence' && f.userId === p.id && f.status === 'online');
    await Promise.all([sf!.roundTrip(), sm!.roundTrip()]);
    expect(sf!.presenceOf(p.id)).toEqual([]);
    expect(sm!.presenceOf(p.id)).toEqual([]);
    await closeAll([sf!, sm!, ss!, sp]);
  });

  it('shows presence in channel member lists', async () => {
    const sc = await online(carol);
    const view = await alice.req('GET', `/v1/channels/${grp}`);
    expect(view.status).toBe(200);
    const carolMember = view.body.channel.members.find((m: any) => m.id === carol.id);
    expect(carolMember.presence?.status).toBe('online');
    await sc.close();
  });

  it('relays typing to the other members, not to outsiders, and refuses typing in a channel one is not in', async () => {
    const [sa, sb, sc, sd, se] = await Promise.all([alice, bob, carol, dave, eve].map(online));
    sa!.send({ op: 'typing', channelId: grp });
    const tb = await sb!.seen((f) => f.op === 'typing');
    expect(tb).toEqual({ op: 'typing', channelId: grp, userId: alice.id });
    await sc!.seen((f) => f.op === 'typing' && f.channelId === grp && f.userId === alice.id);
    // Barrier for Dave: Alice then types in their DM; Dave must see only that one.
    const dmAD = await dm(alice, dave);
    sa!.send({ op: 'typing', channelId: dmAD });
    await sd!.seen((f) => f.op === 'typing' && f.channelId === dmAD);
    expect(sd!.frames.filter((f) => f.op === 'typing' && f.channelId === grp)).toEqual([]);
    // The typer does not get their own typing echoed (barrier: a round trip).
    await sa!.roundTrip();
    expect(sa!.frames.filter((f) => f.op === 'typing' && f.userId === alice.id)).toEqual([]);
    // Eve is not in the group: her typing is refused and reaches nobody.
    se!.send({ op: 'typing', channelId: grp });
    const err = await se!.waitFor((f) => f.op === 'error');
    // The privacy rule: a non-member is told the channel does not exist.
    expect(err.code).toBe('not_found');
    await sb!.roundTrip();
    expect(sb!.frames.filter((f) => f.op === 'typing' && f.userId === eve.id)).toEqual([]);
    // Typing is ephemeral: it is not in the update log.
    const sync = await bob.req('GET', '/v1/sync?since=0&limit=1000');
    expect(sync.body.events.some((e: any) => e.type === 'typing' || e.op === 'typing')).toBe(false);
    await closeAll([sa!, sb!, sc!, sd!, se!]);
  });
});

describe.skipIf(externalUrl)('presence fan-out limit and hello timeout (configured small)', () => {
  let t2: Target;
  beforeAll(async () => {
    t2 = await startTarget({
      PARLEY_HEARTBEAT_MS: String(HB),
      PARLEY_HEARTBEAT_TIMEOUT_MS: String(TIMEOUT),
      PARLEY_PRESENCE_GRACE_MS: String(GRACE),
      PARLEY_PRESENCE_FANOUT_MAX_GROUP: '3',
      PARLEY_HELLO_TIMEOUT_MS: '300',
    });
  });
  afterAll(() => t2?.close());

  it('does not push presence within a group above the configured size, but serves it on demand', async () => {
    const [a, b, c, d] = await named(t2, ['a', 'b', 'c', 'd']);
    const small = await newUser(t2, 'small');
    const big = await group(a!, [b!, c!, d!], 'big'); // 4 members > 3
    await group(small, [b!], 'small'); // 2 members: b hears about small
    const sb = (await b!.connect()).keepAlive(HB);
    const sa = (await a!.connect()).keepAlive(HB);
    const ss = (await small.connect()).keepAlive(HB);
    await sb.seen((f) => f.op === 'presence' && f.userId === small.id && f.status === 'online');
    expect(sb.presenceOf(a!.id)).toEqual([]);
    expect(sa.presenceOf(b!.id)).toEqual([]);
    const view = await b!.req('GET', `/v1/channels/${big}`);
    expect(view.body.channel.members.find((m: any) => m.id === a!.id).presence?.status).toBe('online');
    await closeAll([sa, sb, ss]);
  });

  it('closes a socket that never says hello, and gives it nothing', async () => {
    const { Sock } = await import('../harness.js');
    const s = await Sock.open(t2.wsUrl);
    const code = await Promise.race([s.closed, sleep(3000).then(() => -1)]);
    expect(code).not.toBe(-1);
    expect(s.frames.filter((f) => f.op !== 'error')).toEqual([]);
  });
});
