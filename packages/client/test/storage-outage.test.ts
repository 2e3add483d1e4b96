/**
 * The SDK through a database outage: the real server on PostgreSQL behind a TCP proxy the test
 * cuts for a few seconds. A device that reconnects in that window is refused with
 * `unavailable` (4100), keeps its session, keeps retrying, and is back online with its queued
 * message delivered once the database returns. Nobody is told `unauthorized`.
 */
import { startServer, type RunningServer } from '@parley/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  pgAdminUrl,
  pgSkipReason,
  type TestDatabase,
} from '../../server/src/adapters/postgres/testing.js';
import { TcpProxy } from '../../server/test/tcp-proxy.js';
import type { ConnectionState } from '../src/node.js';
import { Device, uniqueName, waitFor } from './helpers.js';

const skip = await pgSkipReason();
const OUTAGE_MS = 3_000;

describe.skipIf(skip !== false)('ParleyClient through a PostgreSQL outage', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: RunningServer;
  const devices: Device[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('sdk_outage');
    const admin = new URL(pgAdminUrl);
    proxy = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
    const url = new URL(database.url);
    url.host = `127.0.0.1:${proxy.port}`;
    server = await startServer({
      env: {
        PARLEY_DATABASE_URL: url.toString(),
        PARLEY_DATABASE_POOL_SIZE: '4',
        PARLEY_HEARTBEAT_MS: '200',
        PARLEY_HEARTBEAT_TIMEOUT_MS: '1000',
      },
    });
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.client.close()));
    await server?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('keeps the session through unavailable, retries, and delivers the queued message afterwards', async () => {
    const alice = new Device(server.baseUrl);
    const bob = new Device(server.baseUrl);
    devices.push(alice, bob);
    await alice.client.signup({ username: uniqueName('alice'), password: 'correct horse' });
    const b = await bob.client.signup({ username: uniqueName('bob'), password: 'correct horse' });
    const channel = await alice.client.api.openDm(b.user.id);
    await Promise.all([alice.client.connect(), bob.client.connect()]);
    const errors: string[] = [];
    alice.client.on('error', (e) => errors.push(e.code));
    const states: ConnectionState[] = [];
    alice.client.connection.subscribe((s) => states.push(s));

    proxy.cut('refuse');
    const cutAt = Date.now();
    let restoredAt = 0;
    try {
      // The network drops: the device says hello again while the database is away.
      alice.dropNetwork();
      const queued = alice.client.send(channel.id, 'sent during the outage');
      while (Date.now() - cutAt < OUTAGE_MS) {
        expect(alice.client.state).not.toBe('offline');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(alice.client.state).toBe('reconnecting');
      expect(alice.client.outbox.map((m) => m.clientMsgId)).toEqual([queued.clientMsgId]);
      expect(errors).not.toContain('unauthorized');
      expect(alice.client.session?.token).toBeDefined();

      proxy.restore();
      restoredAt = Date.now();
      await waitFor(() => alice.client.state === 'online', 'alice back online');
      console.info(`SDK back online ${Date.now() - restoredAt} ms after the database returned`);
      const settled = await alice.client.settled(queued.clientMsgId);
      expect(settled?.state).toBe('sent');
      await waitFor(() => bob.received.some((m) => m.id === settled?.messageId), 'bob got the message');
    } finally {
      if (restoredAt === 0) proxy.restore();
    }
    expect(errors).toEqual([]);
    expect(states.at(-1)).toBe('online');
  }, 30_000);
});
