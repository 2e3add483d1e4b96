/**
 * kill -9 of a notifier mid-queue, and a Redis restart, with real processes: an API node and a
 * notifier (the built server) on one PostgreSQL database and a private Redis, configured for
 * APNs by environment (key, ids, URL, CA file) against the local APNs of push-services.ts.
 *
 * The first notifier sends to one of a user's phones and hangs on the other (APNs does not
 * answer), and is killed there. Redis is restarted (it keeps nothing). A second notifier takes
 * the group over once the lease runs out and sends only the notification the killed one did not.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, pgSkipReason, type TestDatabase } from '../src/adapters/postgres/testing.js';
import { PrivateRedis } from '../src/adapters/redis/testing.js';
import { spawnServerProcess, type ServerProcess } from '../src/testing.js';
import { ensureBuilt } from './cluster/harness.js';
import { eventually, http, signup } from './harness.js';
import { makeTls, startFakeApns, type FakeApns, type Tls } from './push-services.js';

const skip = (await pgSkipReason()) || PrivateRedis.skipReason();

describe.skipIf(skip !== false)('a notifier killed mid-queue', () => {
  let tls: Tls;
  let apns: FakeApns;
  let database: TestDatabase;
  let redis: PrivateRedis;
  const processes: ServerProcess[] = [];
  let env: Record<string, string>;
  let caDir: string | undefined;

  beforeAll(async () => {
    ensureBuilt();
    tls = await makeTls();
    apns = await startFakeApns(tls);
    [database, redis] = await Promise.all([createTestDatabase('push-crash'), PrivateRedis.start()]);
    caDir = await mkdtemp(path.join(tmpdir(), 'parley-push-ca-'));
    const ca = path.join(caDir, 'ca.pem');
    await writeFile(ca, tls.ca);
    env = {
      PARLEY_DATABASE_URL: database.url,
      PARLEY_REDIS_URL: redis.url,
      PARLEY_APNS_KEY: apns.privateKey,
      PARLEY_APNS_KEY_ID: apns.keyId,
      PARLEY_APNS_TEAM_ID: apns.teamId,
      PARLEY_APNS_TOPIC: apns.topic,
      PARLEY_APNS_URL: apns.url,
      PARLEY_PUSH_CA_FILE: ca,
      PARLEY_PUSH_COALESCE_MS: '0',
      PARLEY_PUSH_POLL_MS: '50',
      PARLEY_PUSH_LEASE_MS: '2000',
    };
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) await p.cleanup();
    await redis?.stop();
    await database?.drop();
    await apns?.close();
    await tls?.cleanup();
    if (caDir) await rm(caDir, { recursive: true, force: true });
  });

  it('loses no notification and sends none twice', async () => {
    const api = await spawnServerProcess({ env: { ...env, PARLEY_ROLE: 'api' } });
    processes.push(api);
    const first = await spawnServerProcess({ env: { ...env, PARLEY_ROLE: 'notifier' } });
    processes.push(first);

    const alice = await signup(api.baseUrl, 'crashA');
    const bob = await signup(api.baseUrl, 'crashB');
    for (const token of ['f00d01', 'f00d02']) {
      const res = await http(api.baseUrl, 'POST', '/v1/push/subscriptions', {
        token: bob.token,
        body: { provider: 'apns', token },
      });
      expect(res.status).toBe(201);
    }
    // The second phone's notification hangs: the notifier is stuck with the group in hand.
    apns.script.set('f00d02', [{ status: 0 }]);
    const dm = await http(api.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } });
    const sent = await http(api.baseUrl, 'POST', `/v1/channels/${dm.body.channel.id}/messages`, {
      token: alice.token,
      body: { text: 'are you there?', clientMsgId: 'crash-1' },
    });
    expect(sent.status).toBe(201);

    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
      await eventually(() => apns.seen.some((r) => r.token === 'f00d02'), 10_000, 'the hanging request');
      await eventually(
        async () => (await count(`SELECT count(*) AS n FROM push_sent WHERE endpoint = 'f00d01'`)) === 1,
        10_000,
        'the first phone marked sent',
      );
      await first.kill('SIGKILL');
      expect(await count('SELECT count(*) AS n FROM push_outbox')).toBe(1);
      // Redis keeps nothing of the queue: restarting it loses no notification.
      await redis.restart(200);

      const second = await spawnServerProcess({ env: { ...env, PARLEY_ROLE: 'notifier' } });
      processes.push(second);
      await eventually(
        () => apns.delivered.some((r) => r.token === 'f00d02'),
        15_000,
        'the second phone’s notification',
      );
      await eventually(async () => (await count('SELECT count(*) AS n FROM push_outbox')) === 0, 10_000, 'done');
      // Nothing is left to send: the counts are final.
      expect(apns.delivered.filter((r) => r.token === 'f00d01')).toHaveLength(1);
      expect(apns.delivered.filter((r) => r.token === 'f00d02')).toHaveLength(1);
      expect(apns.delivered.map((r) => r.body.parley.messageId)).toEqual([sent.body.message.id, sent.body.message.id]);
    } finally {
      await db.end();
    }
  }, 120_000);
});
