/**
 * A database outage on a fleet: an API node and a gateway as separate processes on Redis and on
 * PostgreSQL behind a TCP proxy the test cuts for a few seconds (the real PostgreSQL is never
 * touched). Meanwhile a hello on the gateway gets `unavailable` + 4100, never `unauthorized`,
 * and a send on the API node answers 503 `unavailable`; once the proxy is restored both work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloseCode } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createTestDatabase,
  pgAdminUrl,
  pgSkipReason,
  type TestDatabase,
} from '../../src/adapters/postgres/testing.js';
import { PrivateRedis } from '../../src/adapters/redis/testing.js';
import { freePort } from '../../src/testing.js';
import { TcpProxy } from '../tcp-proxy.js';
import { api, ensureBuilt, ServerProcess, signup, sleep, type Session } from './harness.js';

const skip = PrivateRedis.skipReason() || (await pgSkipReason());
const OUTAGE_MS = 3_000;

/**
 * Says hello on a new socket; the frames up to `ready` or up to the server's close, and the close
 * code. (What follows `ready`, such as the presence snapshot, may arrive in the same write.)
 */
function hello(wsUrl: string, token: string): Promise<{ frames: unknown[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    const frames: { op: string }[] = [];
    ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token })));
    ws.on('message', (data) => {
      if (frames.at(-1)?.op === 'ready') return;
      const frame = JSON.parse(String(data)) as { op: string };
      frames.push(frame);
      if (frame.op === 'ready') ws.close();
    });
    ws.on('close', (code) => resolve({ frames, code }));
    ws.on('error', reject);
  });
}

async function send(apiUrl: string, session: Session, channelId: string, text: string) {
  const response = await fetch(`${apiUrl}/v1/channels/${channelId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text, clientMsgId: `${text}-${Math.random()}` }),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

describe.skipIf(skip !== false)('fleet: PostgreSQL unreachable for a few seconds', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let redis: PrivateRedis;
  let apiNode: ServerProcess;
  let gateway: ServerProcess;
  const logDir = mkdtempSync(path.join(tmpdir(), 'parley-outage-'));

  beforeAll(async () => {
    ensureBuilt();
    database = await createTestDatabase('fleet_outage');
    const admin = new URL(pgAdminUrl);
    proxy = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
    redis = await PrivateRedis.start();
    const url = new URL(database.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const env = {
      PARLEY_DATABASE_URL: url.toString(),
      PARLEY_REDIS_URL: redis.url,
      PARLEY_HEARTBEAT_MS: '500',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_PASSWORD_HASH_COST: '10',
      PARLEY_HOST: '127.0.0.1',
    };
    const [apiPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    gateway = new ServerProcess(
      gatewayPort,
      {
        ...env,
        PARLEY_ROLE: 'gateway',
        PARLEY_PORT: String(gatewayPort),
        PARLEY_DATA_DIR: path.join(logDir, 'gateway'),
        PARLEY_ADVERTISE_URL: `ws://127.0.0.1:${gatewayPort}/v1/ws`,
      },
      path.join(logDir, 'gateway.log'),
    );
    apiNode = new ServerProcess(
      apiPort,
      { ...env, PARLEY_ROLE: 'api', PARLEY_PORT: String(apiPort), PARLEY_DATA_DIR: path.join(logDir, 'api') },
      path.join(logDir, 'api.log'),
    );
    await Promise.all([gateway.start(), apiNode.start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([apiNode?.kill(), gateway?.kill()].map((p) => p?.catch(() => undefined)));
    await proxy?.close();
    await redis?.stop().catch(() => undefined);
    await database?.drop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('answers unavailable on both roles, never unauthorized, and recovers when the database returns', async () => {
    const alice = await signup(apiNode.baseUrl, `alice${Date.now()}`);
    const bob = await signup(apiNode.baseUrl, `bob${Date.now()}`);
    const dm = await api<{ channel: { id: string } }>(apiNode.baseUrl, 'POST', '/v1/dms', alice.token, {
      userId: bob.userId,
    });
    expect((await hello(gateway.wsUrl, alice.token)).frames).toMatchObject([{ op: 'ready' }]);

    proxy.cut('refuse');
    const cutAt = Date.now();
    try {
      expect(await hello(gateway.wsUrl, alice.token)).toEqual({
        frames: [{ op: 'error', code: 'unavailable', message: expect.any(String) }],
        code: CloseCode.Unavailable,
      });
      while (Date.now() - cutAt < OUTAGE_MS) {
        expect(await send(apiNode.baseUrl, alice, dm.channel.id, 'during')).toEqual({
          status: 503,
          body: { error: { code: 'unavailable', message: expect.any(String) } },
        });
        await sleep(250);
      }
    } finally {
      proxy.restore();
    }

    const restoredAt = Date.now();
    let sent = await send(apiNode.baseUrl, alice, dm.channel.id, 'after');
    while (sent.status !== 201) {
      expect(sent.body.error?.code).toBe('unavailable');
      if (Date.now() - restoredAt > 30_000) throw new Error(`no recovery:\n${apiNode.tail()}`);
      await sleep(100);
      sent = await send(apiNode.baseUrl, alice, dm.channel.id, 'after');
    }
    console.info(`fleet: sends work again ${Date.now() - restoredAt} ms after the database came back`);
    expect((await hello(gateway.wsUrl, alice.token)).frames).toMatchObject([{ op: 'ready' }]);
  }, 60_000);
});
