/**
 * PostgreSQL unreachable for a few seconds, behind a TCP proxy the test controls (the real
 * server is never touched), with the real Parley server (role `all`) on top: nobody is told
 * `unauthorized`, HTTP answers 503 `unavailable`, a hello gets `unavailable` + close 4100, and
 * once the database is back everything works again without anyone doing anything.
 */
import type { AuthResult } from '@parley/protocol';
import { CloseCode } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, pgAdminUrl, pgSkipReason, type TestDatabase } from '../src/adapters/postgres/testing.js';
import { startServer, type RunningServer } from '../src/testing.js';
import { TestSocket, http, signup } from './harness.js';
import { TcpProxy, type CutMode } from './tcp-proxy.js';

const skip = await pgSkipReason();
/** How long the database stays unreachable (at least; the checks may take longer). */
const OUTAGE_MS = 3_000;

describe.skipIf(skip !== false)('PostgreSQL unreachable for a few seconds', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: RunningServer;
  let wsUrl: string;
  let alice: AuthResult;
  let bob: AuthResult;
  let channelId: string;

  beforeAll(async () => {
    database = await createTestDatabase('outage');
    const admin = new URL(pgAdminUrl);
    proxy = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
    const url = new URL(database.url);
    url.host = `127.0.0.1:${proxy.port}`;
    server = await startServer({ env: { PARLEY_DATABASE_URL: url.toString(), PARLEY_DATABASE_POOL_SIZE: '4' } });
    wsUrl = server.baseUrl.replace(/^http/, 'ws') + '/v1/ws';
    [alice, bob] = await Promise.all([signup(server.baseUrl, 'alice'), signup(server.baseUrl, 'bob')]);
    const dm = await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } });
    channelId = dm.body.channel.id;
  });

  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await database?.drop();
  });

  const send = (text: string) =>
    http(server.baseUrl, 'POST', `/v1/channels/${channelId}/messages`, {
      token: alice.token,
      body: { text, clientMsgId: `${text}-${Math.random()}` },
    });

  /** Opens a socket, says hello, and returns every frame until the server closes it, and the code. */
  async function refusedHello(token: string): Promise<{ frames: unknown[]; code: number }> {
    const socket = await TestSocket.open(wsUrl);
    socket.send({ op: 'hello', token });
    const code = await socket.closed;
    return { frames: socket.frames, code };
  }

  /** Polls until a send succeeds again; returns how long that took. */
  async function recoveryMs(): Promise<number> {
    const started = Date.now();
    for (;;) {
      const result = await send('after');
      if (result.status === 201) return Date.now() - started;
      expect(result.body.error.code).toBe('unavailable');
      if (Date.now() - started > 30_000) throw new Error('sends did not recover within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  for (const mode of ['refuse', 'blackhole'] satisfies CutMode[]) {
    it(`(${mode}) answers unavailable, never unauthorized, and recovers once the database is back`, async () => {
      const connected = await TestSocket.connect(wsUrl, alice.token);
      expect((await send('before')).status).toBe(201);

      proxy.cut(mode);
      const cutAt = Date.now();
      try {
        const helloStarted = Date.now();
        const hello = await refusedHello(alice.token);
        const helloMs = Date.now() - helloStarted;
        expect(hello).toEqual({
          frames: [{ op: 'error', code: 'unavailable', message: expect.any(String) }],
          code: CloseCode.Unavailable,
        });
        // A token the server cannot look up is not judged either way.
        expect((await refusedHello('no-such-token')).code).toBe(CloseCode.Unavailable);

        const sent = await send('during');
        expect({ status: sent.status, body: sent.body }).toEqual({
          status: 503,
          body: { error: { code: 'unavailable', message: expect.any(String) } },
        });
        expect((await http(server.baseUrl, 'GET', '/v1/me', { token: alice.token })).status).toBe(503);

        // A socket that was already open stays open; its send is refused as retryable.
        connected.send({ op: 'send', channelId, text: 'over the socket', clientMsgId: `ws-${mode}` });
        const refused = await connected.next((f) => f.op === 'error' && f.clientMsgId === `ws-${mode}`, 15_000);
        expect(refused).toMatchObject({ op: 'error', code: 'unavailable', clientMsgId: `ws-${mode}` });
        console.info(`[${mode}] hello answered unavailable after ${helloMs} ms`);
        // The outage lasts a few seconds; every send meanwhile is refused the same way.
        while (Date.now() - cutAt < OUTAGE_MS) {
          expect((await send('still down')).body.error.code).toBe('unavailable');
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      } finally {
        proxy.restore();
      }

      console.info(`[${mode}] sends work again ${await recoveryMs()} ms after the database came back`);
      const again = await TestSocket.connect(wsUrl, alice.token);
      const acked = await again.sendMessage(channelId, 'back', `ws-back-${mode}`);
      expect(acked.op).toBe('ack');
      // The retry of the refused socket send, under the same clientMsgId, is stored now.
      expect((await connected.sendMessage(channelId, 'over the socket', `ws-${mode}`)).op).toBe('ack');
      // And a token that really is unknown is unauthorized again.
      expect(await refusedHello('no-such-token')).toEqual({
        frames: [{ op: 'error', code: 'unauthorized', message: expect.any(String) }],
        code: CloseCode.Unauthorized,
      });
      await Promise.all([connected.close(), again.close()]);
    }, 60_000);
  }
});
