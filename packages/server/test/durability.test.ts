import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnServerProcess, type ServerProcess } from '@parley/server';
import { http, signup, TestSocket } from './harness.js';

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServerProcess();
});
afterAll(() => server.cleanup());

/** Every third text is long enough for the long-text file (adapters/sqlite/long-texts.ts). */
const textOf = (i: number) => (i % 3 === 0 ? `m${i} ${'long text '.repeat(500)}` : `m${i}`);

it('loses nothing that was acked when the server is killed with SIGKILL', async () => {
  const alice = await signup(server.baseUrl, 'dur');
  const bob = await signup(server.baseUrl, 'dur');
  const channelId = (
    await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } })
  ).body.channel.id;
  const socket = await TestSocket.connect(server.wsUrl, alice.token);
  const acked: string[] = [];
  const sentTexts = new Map<string, string>();
  socket.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.op === 'ack') {
      acked.push(frame.messageId);
      sentTexts.set(frame.messageId, textOf(Number(frame.clientMsgId.slice(1))));
    }
  });
  // Keep sending until well after the kill, so some sends are in flight when it lands.
  let i = 0;
  const sending = setInterval(() => {
    for (let k = 0; k < 20 && socket.ws.readyState === socket.ws.OPEN; k++) {
      socket.send({ op: 'send', channelId, text: textOf(i), clientMsgId: `k${i}` });
      i++;
    }
  }, 2);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (acked.length >= 200) {
        clearInterval(check);
        resolve();
      }
    }, 1);
  });
  await server.kill('SIGKILL');
  clearInterval(sending);
  await socket.closed;
  expect(acked.length).toBeGreaterThanOrEqual(200);

  await server.restart();
  const stored = new Map<string, string>();
  let before = '';
  for (;;) {
    const page = await http(server.baseUrl, 'GET', `/v1/channels/${channelId}/messages?limit=100${before}`, {
      token: bob.token,
    });
    for (const m of page.body.messages) stored.set(m.id, m.text);
    if (page.body.messages.length < 100) break;
    before = `&before=${page.body.messages[0].id}`;
  }
  expect(acked.filter((id) => !stored.has(id))).toEqual([]);
  expect(acked.filter((id) => stored.get(id) !== sentTexts.get(id))).toEqual([]);

  // Bob's log is gap-free across the crash: 1 channel.created + one entry per stored message.
  const seqs: number[] = [];
  for (let since = 0, more = true; more;) {
    const sync = await http(server.baseUrl, 'GET', `/v1/sync?since=${since}&limit=500`, { token: bob.token });
    seqs.push(...sync.body.events.map((e: { seq: number }) => e.seq));
    ({ seq: since, hasMore: more } = sync.body);
  }
  expect(seqs).toEqual(Array.from({ length: stored.size + 1 }, (_, k) => k + 1));
});

it('shuts down gracefully on SIGTERM, closing sockets with going-away', async () => {
  const user = await signup(server.baseUrl, 'term');
  const socket = await TestSocket.connect(server.wsUrl, user.token);
  await server.kill('SIGTERM');
  expect(await socket.closed).toBe(1001);
  expect(server.child.exitCode).toBe(0);
  await server.restart();
});
