/**
 * The fleet, as separate processes on PostgreSQL + Redis: two gateways, two API nodes and a
 * notifier. Users spread over both gateways exchange DMs and group messages; one gateway is
 * stopped with SIGTERM mid-traffic, one is SIGKILLed mid-traffic; Redis is restarted
 * mid-traffic. Throughout, every acked message reaches every member exactly once, and every
 * user's log stays gap-free; the recovery times are printed (docs/operations.md quotes them).
 *
 * Needs PostgreSQL (PARLEY_TEST_PG_URL) and the redis-server binary (the fleet runs on a Redis
 * of its own, so restarting it touches nobody else); skips loudly without them, fails under
 * CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgSkipReason } from '../../src/adapters/postgres/testing.js';
import { PrivateRedis } from '../../src/adapters/redis/testing.js';
import { api, eventually, Fleet, signup, sleep, TestClient, type Session } from './harness.js';

const skip = PrivateRedis.skipReason() || (await pgSkipReason());
const REDIS_DOWN_MS = Number(process.env.PARLEY_TEST_REDIS_DOWN_MS ?? 500);

interface Sent {
  messageId: string;
  channelId: string;
  senderId: string;
}

describe.skipIf(skip !== false)(
  `cluster: 2 gateways + 2 API + notifier on Postgres and Redis${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const USERS = 8;
    let fleet: Fleet;
    let sessions: Session[] = [];
    let clients: TestClient[] = [];
    let groupId: string;
    /** dms[i] is the DM of user i and user i+1 (mod USERS). */
    let dms: string[] = [];
    const sent: Sent[] = [];

    const membersOf = (channelId: string): string[] => {
      if (channelId === groupId) return sessions.map((s) => s.userId);
      const i = dms.indexOf(channelId);
      return [sessions[i]!.userId, sessions[(i + 1) % USERS]!.userId];
    };

    async function send(client: TestClient, channelId: string, text: string): Promise<string> {
      const messageId = await client.send(channelId, text);
      sent.push({ messageId, channelId, senderId: client.userId });
      return messageId;
    }

    /** Every client sends every `intervalMs` (alternating group and its DMs) until stopped. */
    function traffic(intervalMs: number, label: string) {
      let running = true;
      const inFlight: Promise<unknown>[] = [];
      const loops = clients.map(async (client, i) => {
        let n = 0;
        while (running) {
          const channels = [groupId, dms[i]!, dms[(i + USERS - 1) % USERS]!];
          inFlight.push(send(client, channels[n % 3]!, `${label} ${client.session.username} #${n}`));
          n++;
          await sleep(intervalMs);
        }
      });
      return async () => {
        running = false;
        await Promise.all(loops);
        await Promise.all(inFlight);
      };
    }

    const clientOf = (userId: string) => clients.find((c) => c.userId === userId)!;
    /** Every message in `messages` is on the socket of every member (live: no catch-up over HTTP). */
    const deliveredLive = (messages: readonly Sent[]) =>
      messages.every((m) => membersOf(m.channelId).every((u) => clientOf(u).messages.has(m.messageId)));

    /** Half of the users on each gateway, so that every channel spans both. */
    async function spreadOverGateways(): Promise<void> {
      const gateways = fleet.byRole('gateway');
      for (const [i, client] of clients.entries()) {
        const target = gateways[i % gateways.length]!.process.wsUrl;
        if (client.gatewayUrl !== target) await client.moveTo(target);
      }
    }

    /**
     * After catching up from the log (what the SDK does on a gap or reconnect): every acked
     * message was applied exactly once by every member, no message exists twice (resends were
     * deduped), and each user's applied events are exactly their log, seq 1..head without gaps.
     */
    async function verify(): Promise<{ caughtUp: number }> {
      let caughtUp = 0;
      for (const client of clients) caughtUp += await client.catchUp();
      for (const client of clients) {
        expect(client.duplicateMessages).toBe(0);
        expect(client.applied.map((e) => e.seq)).toEqual(client.applied.map((_, i) => i + 1));
        expect(client.pendingCount).toBe(0);
      }
      for (const message of sent) {
        for (const userId of membersOf(message.channelId)) {
          const client = clients.find((c) => c.userId === userId)!;
          expect(client.messages.has(message.messageId), `${userId} has ${message.messageId}`).toBe(true);
        }
      }
      // Nothing beyond what was acked: a resend never created a second message.
      const ackedIds = new Set(sent.map((s) => s.messageId));
      for (const client of clients) {
        for (const id of client.messages.keys()) expect(ackedIds.has(id), `unexpected message ${id}`).toBe(true);
      }
      expect(clients[0]!.messages.size).toBe(
        sent.filter((s) => membersOf(s.channelId).includes(clients[0]!.userId)).length,
      );
      return { caughtUp };
    }

    beforeAll(async () => {
      fleet = await Fleet.start({ gateways: 2, apis: 2, notifiers: 1 });
      const apis = fleet.apiUrls;
      const tag = Date.now().toString(36);
      sessions = await Promise.all(
        Array.from({ length: USERS }, (_, i) => signup(apis[i % apis.length]!, `c${tag}_${i}`)),
      );
      const owner = sessions[0]!;
      const { channel } = await api<{ channel: { id: string } }>(apis[0]!, 'POST', '/v1/groups', owner.token, {
        name: 'everyone',
        memberIds: sessions.slice(1).map((s) => s.userId),
      });
      groupId = channel.id;
      dms = [];
      for (let i = 0; i < USERS; i++) {
        const { channel: dm } = await api<{ channel: { id: string } }>(
          apis[i % apis.length]!,
          'POST',
          '/v1/dms',
          sessions[i]!.token,
          { userId: sessions[(i + 1) % USERS]!.userId },
        );
        dms.push(dm.id);
      }
    }, 120_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      await fleet?.stop();
    }, 60_000);

    it('spreads new connections over both gateways through discovery', async () => {
      const gateways = fleet.byRole('gateway');
      // Every API node knows every gateway.
      for (const apiUrl of fleet.apiUrls) {
        await eventually(
          async () => {
            const { url } = await api<{ url: string }>(apiUrl, 'GET', '/v1/gateway', sessions[0]!.token);
            return gateways.some((g) => g.process.wsUrl === url);
          },
          10_000,
          'discovery answers',
        );
      }
      clients = sessions.map((s) => new TestClient(s, fleet.apiUrls));
      for (const client of clients) {
        await client.connect();
        await sleep(50);
      }
      const perGateway = new Map<string, number>();
      for (const c of clients) perGateway.set(c.gatewayNodeId!, (perGateway.get(c.gatewayNodeId!) ?? 0) + 1);
      expect(perGateway.size, `connections per gateway: ${JSON.stringify([...perGateway])}`).toBe(2);
      for (const count of perGateway.values()) expect(count).toBeGreaterThanOrEqual(2);
    }, 60_000);

    it('delivers DMs and group messages live across gateways, in seq order, once', async () => {
      // Independent of discovery (tested above): half of the users on each gateway, so that
      // every channel spans both and two gateways write to the same users' logs at once.
      const gateways = fleet.byRole('gateway');
      for (const [i, client] of clients.entries()) {
        const target = gateways[i % gateways.length]!.process.wsUrl;
        if (client.gatewayUrl !== target) await client.moveTo(target);
      }
      expect(new Set(clients.map((c) => c.gatewayNodeId)).size).toBe(2);
      await Promise.all(
        clients.map(async (client, i) => {
          for (let n = 0; n < 3; n++) {
            await send(client, groupId, `hello group ${n} from ${i}`);
            await send(client, dms[i]!, `hello dm ${n} from ${i}`);
          }
        }),
      );
      // Live: no catch-up from the log needed.
      await eventually(
        () =>
          sent.every((m) =>
            membersOf(m.channelId).every((u) => clients.find((c) => c.userId === u)!.messages.has(m.messageId)),
          ),
        15_000,
        'live delivery of every message to every member',
      );
      const { caughtUp } = await verify();
      expect(caughtUp).toBe(0);
    }, 60_000);

    it('drains a gateway on SIGTERM under load: every acked message delivered, none acked twice', async () => {
      await spreadOverGateways();
      const [victim] = fleet.byRole('gateway') as [(typeof fleet.nodes)[0]];
      const { nodeId: victimNodeId } = await api<{ nodeId: string }>(victim.process.baseUrl, 'GET', '/healthz');
      const onVictim = clients.filter((c) => c.gatewayNodeId === victimNodeId);
      expect(onVictim.length).toBeGreaterThan(0);
      const stop = traffic(30, 'term');
      await sleep(1_000);
      const termAt = Date.now();
      await victim.process.kill('SIGTERM');
      const stoppedMs = Date.now() - termAt;
      expect(victim.process.child.exitCode).toBe(0);
      await eventually(() => clients.every((c) => c.connected), 20_000, 'every client reconnected');
      const movedMs = Math.max(...onVictim.map((c) => c.readyAgainAt! - termAt));
      await sleep(500);
      await stop();
      for (const client of onVictim) expect(client.lastCloseCode).toBe(1001);
      await eventually(() => deliveredLive(sent), 15_000, 'every acked message on every socket');
      for (const client of clients) expect(client.duplicateAcks).toBe(0);
      const resends = clients.reduce((sum, c) => sum + c.resends, 0);
      const refused = clients.reduce((sum, c) => sum + c.sendErrors.filter((e) => e === 'unavailable').length, 0);
      const { caughtUp } = await verify();
      expect(caughtUp).toBe(0);
      console.info(
        `gateway SIGTERM: exited after ${stoppedMs} ms; its ${onVictim.length} clients were ready on the other ` +
          `gateway ${movedMs} ms after the signal; ${sent.length} messages acked in all, ${refused} sends refused ` +
          `as unavailable during the stop and ${resends} resent after the move`,
      );
      await victim.process.restart();
    }, 120_000);

    it('survives a gateway SIGKILL mid-traffic: clients move to the other gateway, nothing lost or doubled', async () => {
      await spreadOverGateways();
      const [victim, survivor] = fleet.byRole('gateway') as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]];
      const victimUrl = victim.process.wsUrl;
      const stop = traffic(60, 'kill');
      await sleep(1_000);
      const { nodeId: victimNodeId } = await api<{ nodeId: string }>(victim.process.baseUrl, 'GET', '/healthz');
      const onVictim = clients.filter((c) => c.gatewayNodeId === victimNodeId);
      expect(onVictim.length).toBeGreaterThan(0);
      const killedAt = Date.now();
      await victim.process.kill('SIGKILL');
      // The dead gateway drops out of discovery within its announce TTL.
      await eventually(
        async () => {
          const answers = await Promise.all(
            fleet.apiUrls.map((u) => api<{ url: string }>(u, 'GET', '/v1/gateway', sessions[0]!.token)),
          );
          return answers.every((a) => a.url !== victimUrl);
        },
        15_000,
        'discovery to forget the dead gateway',
      );
      await sleep(1_500);
      await stop();
      await eventually(() => clients.every((c) => c.connected), 20_000, 'every client reconnected');
      const movedMs = Math.max(...onVictim.map((c) => c.readyAgainAt! - killedAt));
      console.info(
        `gateway SIGKILL: its ${onVictim.length} clients were ready on the other gateway ${movedMs} ms after the kill`,
      );
      for (const client of onVictim) {
        expect(client.reconnects).toBeGreaterThan(0);
        expect(client.gatewayNodeId).not.toBe(victimNodeId);
      }
      expect(new Set(clients.map((c) => c.gatewayNodeId)).size).toBe(1);
      await verify();
      expect(survivor.process.child.exitCode).toBeNull();
      // Bring the gateway back for the next scenario.
      await victim.process.restart();
    }, 120_000);

    it("takes a dead gateway's users offline within the heartbeat timeout", async () => {
      const gateways = fleet.byRole('gateway');
      const victim = gateways[gateways.length - 1]!;
      const lonelyAuth = await signup(fleet.apiUrls[0]!, `lonely${Date.now().toString(36)}`);
      const lonely = new TestClient(lonelyAuth, fleet.apiUrls);
      lonely.autoReconnect = false;
      // A user with no contacts: only they may see their own presence (strangers get `unknown`).
      const presenceOf = async () => {
        const { presence } = await api<{ presence: { userId: string; status: string }[] }>(
          fleet.apiUrls[1]!,
          'GET',
          `/v1/presence?userIds=${lonely.userId}`,
          lonelyAuth.token,
        );
        return presence.find((p) => p.userId === lonely.userId)?.status;
      };
      try {
        await lonely.moveTo(victim.process.wsUrl);
        await eventually(async () => (await presenceOf()) === 'online', 10_000, 'online');
        const killedAt = Date.now();
        await victim.process.kill('SIGKILL');
        // Lease TTL (PARLEY_HEARTBEAT_TIMEOUT_MS = 2 s) + sweep interval + grace, with margin.
        await eventually(async () => (await presenceOf()) === 'offline', 10_000, 'offline after the gateway died');
        expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1_000); // by expiry, not by a clean close
      } finally {
        lonely.close();
        await victim.process.restart();
      }
    }, 60_000);

    it('survives a Redis restart mid-traffic: every acked message reaches every open socket within seconds, with no reconnects', async () => {
      // Users on both gateways again (the killed ones were restarted).
      await spreadOverGateways();
      const reconnects = clients.map((c) => c.reconnects);
      // The devices do nothing but listen: no gap fills over HTTP, so what arrives is the server's doing.
      for (const client of clients) client.fillGaps = false;
      const diagnose = async (error: unknown, what: readonly Sent[]) => {
        const redis = await fleet.redisState(clients.map((c) => c.userId));
        const state = clients.map((c) => ({
          user: c.session.username,
          gateway: c.gatewayNodeId,
          connected: c.connected,
          seq: c.seq,
          missing: what.filter((m) => membersOf(m.channelId).includes(c.userId) && !c.messages.has(m.messageId)).length,
          reconnects: c.reconnects,
          pending: c.pendingCount,
          ...c.debugState(),
        }));
        return new Error(`${String(error)}\n${JSON.stringify(state)}\n${redis}\n${fleet.logs(3)}`);
      };
      try {
        let stop = traffic(60, 'redis');
        await sleep(1_000);
        // Down for a while (500 ms; PARLEY_TEST_REDIS_DOWN_MS to try others) while the traffic goes
        // on (PostgreSQL acks it); then silence: nothing is sent when Redis comes back, so no later
        // event can reveal a gap to anyone.
        await fleet.redis.stop();
        await sleep(REDIS_DOWN_MS);
        await stop();
        const ackedBefore = [...sent];
        const answeredAt = await fleet.redis.restart(0);
        await eventually(() => deliveredLive(ackedBefore), 15_000, 'what was acked before and during the outage').catch(
          async (error: unknown) => {
            throw await diagnose(error, ackedBefore);
          },
        );
        const caughtUpMs = Date.now() - answeredAt;
        // Live delivery again, including messages sent the moment the servers reconnect.
        stop = traffic(60, 'after');
        await sleep(1_000);
        await stop();
        await eventually(() => deliveredLive(sent), 15_000, 'every acked message on every socket').catch(
          async (error: unknown) => {
            throw await diagnose(error, sent);
          },
        );
        expect(clients.map((c) => c.reconnects)).toEqual(reconnects);
        const { caughtUp } = await verify();
        expect(caughtUp).toBe(0);
        const stale = clients.reduce((sum, c) => sum + c.staleEvents, 0);
        console.info(
          `redis restart (down ${REDIS_DOWN_MS} ms): ${sent.length} messages acked in all, no reconnects, no gap fills by the devices; ` +
            `everything acked before and during the outage was on every socket ${caughtUpMs} ms after Redis answered; ` +
            `${stale} duplicate events dropped by the devices`,
        );
      } finally {
        for (const client of clients) client.fillGaps = true;
      }
      for (const apiUrl of fleet.apiUrls) {
        await eventually(
          async () =>
            (await fetch(`${apiUrl}/v1/gateway`, { headers: { authorization: `Bearer ${sessions[0]!.token}` } })).ok,
          15_000,
          'discovery after the Redis restart',
        );
      }
    }, 120_000);
  },
);
