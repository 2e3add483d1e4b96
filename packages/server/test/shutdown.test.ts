/**
 * Graceful shutdown (what SIGTERM does): no ack is lost. Sends taken before the stop are
 * committed and acked on the socket before it closes with 1001; sends that arrive during the
 * stop are refused with `unavailable` and not stored (the client resends them elsewhere).
 */
import { rm } from 'node:fs/promises';
import { CloseCode } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../src/testing.js';
import { http, signup, TestSocket } from './harness.js';

describe('graceful shutdown', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('acks every send it stored before closing sockets with 1001, and stores none it refused', async () => {
    const env = { PARLEY_SEND_RATE: '100000', PARLEY_SEND_BURST: '100000' };
    const server = await startServer({ env, keepData: true });
    cleanups.push(() => rm(server.dataDir, { recursive: true, force: true }));
    const alice = await signup(server.baseUrl, 'alice');
    const bob = await signup(server.baseUrl, 'bob');
    const dm = await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } });
    const channelId = dm.body.channel.id as string;
    const socket = await TestSocket.connect(server.wsUrl, alice.token);

    const SENDS = 400;
    for (let i = 0; i < SENDS; i++) socket.send({ op: 'send', channelId, text: `m${i}`, clientMsgId: `k${i}` });
    await socket.next((f) => f.op === 'ack');
    const closed = server.close();
    // Sent during the stop: refused, or (if the socket is already closing) not read at all.
    const LATE = 5;
    for (let i = 0; i < LATE; i++) socket.send({ op: 'send', channelId, text: 'late', clientMsgId: `late${i}` });
    await closed;
    expect(await socket.closed).toBe(CloseCode.GoingAway);

    const acked = socket.frames.filter((f) => f.op === 'ack').map((f) => f.clientMsgId as string);
    const refused = socket.frames
      .filter((f) => f.op === 'error' && f.code === 'unavailable')
      .map((f) => f.clientMsgId as string);
    expect(new Set(acked).size).toBe(acked.length);
    // Every send taken before the stop was answered before the socket closed.
    expect(acked.filter((id) => id.startsWith('k')).length + refused.filter((id) => id.startsWith('k')).length).toBe(
      SENDS,
    );
    expect(acked.filter((id) => id.startsWith('late'))).toEqual([]);

    const again = await startServer({ env, dataDir: server.dataDir });
    cleanups.push(() => again.close());
    const sync = await http(again.baseUrl, 'GET', '/v1/sync?since=0&limit=1000', { token: bob.token });
    const stored = (sync.body.events as Array<{ type: string; message?: { clientMsgId?: string } }>)
      .filter((e) => e.type === 'message.created')
      .map((e) => e.message!.clientMsgId!);
    // What was stored is exactly what was acked: no sender is left to resend a stored message.
    expect(stored.sort()).toEqual([...acked].sort());
    console.info(`shutdown: ${acked.length} sends acked, ${refused.length} refused with unavailable`);
  });
});
