import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import type { AuthResult } from '@parley/protocol';
import { eventually, http, login, signup, TestSocket } from './harness.js';

let server: RunningServer;
let url: string;
const sockets: TestSocket[] = [];
async function connect(token: string, since?: number): Promise<TestSocket> {
  const socket = await TestSocket.connect(server.wsUrl, token, since);
  sockets.push(socket);
  return socket;
}
beforeAll(async () => {
  server = await startServer();
  url = server.baseUrl;
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await server.close();
});

let alice: AuthResult;
let bob: AuthResult;
let dmId: string;
beforeEach(async () => {
  alice = await signup(url, 'alice');
  bob = await signup(url, 'bob');
  dmId = (await http(url, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } })).body.channel.id;
});

describe('sending over WebSocket', () => {
  it('acks with the message id, then delivers to every device of every member', async () => {
    const alicePhone = await connect(alice.token);
    const aliceLaptop = await connect((await login(url, alice.user.username)).token);
    const bobPhone = await connect(bob.token);
    const ack = await alicePhone.sendMessage(dmId, 'hello bob', 'k1');
    expect(ack).toEqual({
      op: 'ack',
      clientMsgId: 'k1',
      messageId: expect.stringMatching(/^\d+$/),
      createdAt: expect.any(String),
    });
    for (const socket of [alicePhone, aliceLaptop, bobPhone]) {
      const event = await socket.next((f) => f.op === 'event' && f.type === 'message.created');
      expect(event.message).toEqual({
        id: ack.messageId,
        channelId: dmId,
        senderId: alice.user.id,
        text: 'hello bob',
        createdAt: ack.createdAt,
        clientMsgId: 'k1',
      });
    }
  });

  it('accepts exactly 100,000 code points, emoji counted as one', async () => {
    const socket = await connect(alice.token);
    const plain = await socket.sendMessage(dmId, 'a'.repeat(100_000));
    expect(plain.op).toBe('ack');
    const emoji = await socket.sendMessage(dmId, '👍'.repeat(100_000));
    expect(emoji.op).toBe('ack');
    const [stored] = (await http(url, 'GET', `/v1/channels/${dmId}/messages?limit=1`, { token: bob.token })).body
      .messages;
    expect(stored.text).toBe('👍'.repeat(100_000));
  });

  it('rejects 100,001 code points with message_too_long and stores nothing', async () => {
    const socket = await connect(alice.token);
    const error = await socket.sendMessage(dmId, '👍'.repeat(100_001), 'too-long');
    expect(error).toMatchObject({ op: 'error', code: 'message_too_long', clientMsgId: 'too-long' });
    const history = await http(url, 'GET', `/v1/channels/${dmId}/messages`, { token: alice.token });
    expect(history.body.messages).toEqual([]);
  });

  it('returns the same message id for a resend with the same clientMsgId, storing it once', async () => {
    const socket = await connect(alice.token);
    const first = await socket.sendMessage(dmId, 'once', 'same');
    const again = await socket.sendMessage(dmId, 'once', 'same');
    expect(again.messageId).toBe(first.messageId);
    const history = await http(url, 'GET', `/v1/channels/${dmId}/messages`, { token: alice.token });
    expect(history.body.messages).toHaveLength(1);
  });

  it('keeps a sender’s messages in the order sent', async () => {
    const socket = await connect(alice.token);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => socket.sendMessage(dmId, `m${i}`, `o${i}`)));
    const ids = acks.map((a) => BigInt(a.messageId));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    const history = await http(url, 'GET', `/v1/channels/${dmId}/messages?limit=100`, { token: bob.token });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(acks.map((_, i) => `m${i}`));
  });

  it('refuses a channel the sender is not in with not_found', async () => {
    const mallory = await signup(url, 'mallory');
    const socket = await connect(mallory.token);
    expect(await socket.sendMessage(dmId, 'let me in')).toMatchObject({ op: 'error', code: 'not_found' });
  });

  it('rate-limits a device that sends too fast', async () => {
    const limited = await startServer({ env: { PARLEY_SEND_RATE: '1', PARLEY_SEND_BURST: '2' } });
    try {
      const a = await signup(limited.baseUrl, 'fast');
      const b = await signup(limited.baseUrl, 'slow');
      const channel = (await http(limited.baseUrl, 'POST', '/v1/dms', { token: a.token, body: { userId: b.user.id } }))
        .body.channel;
      const socket = await TestSocket.connect(limited.wsUrl, a.token);
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await socket.sendMessage(channel.id, `m${i}`, `r${i}`));
      expect(results.map((r) => (r.op === 'ack' ? 'ack' : r.code))).toEqual(['ack', 'ack', 'rate_limited']);
      await socket.close();
    } finally {
      await limited.close();
    }
  });
});

describe('sending over HTTP', () => {
  it('goes through the same pipeline: 201, live delivery, idempotent resend', async () => {
    const bobSocket = await connect(bob.token);
    const res = await http(url, 'POST', `/v1/channels/${dmId}/messages`, {
      token: alice.token,
      body: { text: 'via http', clientMsgId: 'h1' },
    });
    expect(res.status).toBe(201);
    expect(res.body.message).toMatchObject({
      channelId: dmId,
      senderId: alice.user.id,
      text: 'via http',
      clientMsgId: 'h1',
    });
    const event = await bobSocket.next((f) => f.op === 'event' && f.type === 'message.created');
    expect(event.message.id).toBe(res.body.message.id);
    const again = await http(url, 'POST', `/v1/channels/${dmId}/messages`, {
      token: alice.token,
      body: { text: 'via http', clientMsgId: 'h1' },
    });
    expect(again.body.message.id).toBe(res.body.message.id);
  });

  it('rejects too long, empty and malformed sends without storing anything', async () => {
    const send = (body: unknown) => http(url, 'POST', `/v1/channels/${dmId}/messages`, { token: alice.token, body });
    expect((await send({ text: 'x'.repeat(100_001), clientMsgId: 'a' })).body.error.code).toBe('message_too_long');
    expect((await send({ text: '', clientMsgId: 'b' })).body.error.code).toBe('invalid_request');
    expect((await send({ text: 'no key' })).body.error.code).toBe('invalid_request');
    expect((await send({ text: '\ud800 lone surrogate', clientMsgId: 'c' })).body.error.code).toBe('invalid_request');
    expect((await http(url, 'GET', `/v1/channels/${dmId}/messages`, { token: alice.token })).body.messages).toEqual([]);
  });
});

describe('the socket protocol', () => {
  it('closes with 4001 after an unauthorized hello', async () => {
    const socket = await TestSocket.open(server.wsUrl);
    sockets.push(socket);
    socket.send({ op: 'hello', token: 'not-a-token' });
    expect(await socket.next((f) => f.op === 'error')).toMatchObject({ code: 'unauthorized' });
    expect(await socket.closed).toBe(4001);
  });

  it('serves frames sent right behind the hello, without waiting for ready', async () => {
    const socket = await TestSocket.open(server.wsUrl);
    sockets.push(socket);
    socket.send({ op: 'hello', token: alice.token });
    socket.send({ op: 'send', channelId: dmId, text: 'eager', clientMsgId: 'eager-1' });
    socket.send({ op: 'ping' });
    expect(await socket.next((f) => f.op === 'ack')).toMatchObject({ clientMsgId: 'eager-1' });
    await socket.next((f) => f.op === 'pong');
    expect(socket.frames[0]?.op).toBe('ready');
  });

  it('closes with 4002 when the first frame is not a hello', async () => {
    const socket = await TestSocket.open(server.wsUrl);
    sockets.push(socket);
    socket.send({ op: 'send', channelId: '1', text: 'x', clientMsgId: 'x' });
    expect(await socket.closed).toBe(4002);
  });

  it('closes a first frame over the size limit with 1009 at once, and answers one under it with 4002', async () => {
    // Sockets that said hello and left right after ready change nothing for the next one.
    for (let i = 0; i < 2; i++) await (await connect(alice.token)).close();
    const huge = '\u0001'.repeat(100_000); // six bytes of JSON each
    const over = await TestSocket.open(server.wsUrl);
    sockets.push(over);
    over.send({ text: huge, since: huge });
    expect(await over.closed).toBe(1009);
    expect(over.frames).toEqual([]);
    const under = await TestSocket.open(server.wsUrl);
    sockets.push(under);
    under.send({ channelId: null, text: huge });
    expect(await under.next((f) => f.op === 'error')).toMatchObject({ code: 'invalid_request' });
    expect(await under.closed).toBe(4002);
  });

  it('answers garbage frames with invalid_request and stays usable', async () => {
    const socket = await connect(alice.token);
    for (const garbage of [
      'not json',
      '{"op":"nope"}',
      '[]',
      'null',
      '{"op":"send","channelId":"x"}',
      '{"op":"send"',
      '',
    ]) {
      socket.send(garbage);
      expect(await socket.next((f) => f.op === 'error')).toMatchObject({ code: 'invalid_request' });
    }
    socket.ws.send(Buffer.from([0, 1, 2]), { binary: true });
    expect(await socket.next((f) => f.op === 'error')).toMatchObject({ code: 'invalid_request' });
    socket.send({ op: 'ping' });
    expect((await socket.next((f) => f.op === 'pong')).op).toBe('pong');
    expect((await socket.sendMessage(dmId, 'still here')).op).toBe('ack');
  });

  it('closes a frame over the size limit with 1009 and keeps serving others', async () => {
    const socket = await connect(alice.token);
    socket.send({ op: 'send', channelId: dmId, text: 'x'.repeat(2 * 1024 * 1024), clientMsgId: 'big' });
    expect(await socket.closed).toBe(1009);
    const other = await connect(bob.token);
    expect((await other.sendMessage(dmId, 'fine')).op).toBe('ack');
  });
});

describe('update log and replay', () => {
  it('replays exactly what a device missed, in order, then goes live', async () => {
    const bobSocket = await connect(bob.token);
    const aliceSocket = await connect(alice.token);
    await aliceSocket.sendMessage(dmId, 'seen live');
    const live = await bobSocket.next((f) => f.op === 'event' && f.type === 'message.created');
    await bobSocket.close();
    for (let i = 0; i < 5; i++) await aliceSocket.sendMessage(dmId, `missed ${i}`);

    const resumed = await connect(bob.token, live.seq);
    await eventually(() => resumed.events('message.created').length >= 5, 5000, 'replay');
    await aliceSocket.sendMessage(dmId, 'after resume');
    await resumed.next((f) => f.op === 'event' && f.message?.text === 'after resume');
    const events = resumed.events();
    expect(events.map((e) => e.message.text)).toEqual([
      'missed 0',
      'missed 1',
      'missed 2',
      'missed 3',
      'missed 4',
      'after resume',
    ]);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 6 }, (_, i) => live.seq + 1 + i));
  });

  it('tells the log head in ready and replays nothing without since', async () => {
    const aliceSocket = await connect(alice.token);
    await aliceSocket.sendMessage(dmId, 'before');
    await aliceSocket.next((f) => f.op === 'event');
    const fresh = await connect(bob.token);
    expect(fresh.frames[0]).toMatchObject({
      op: 'ready',
      userId: bob.user.id,
      seq: 2,
      heartbeatMs: expect.any(Number),
    });
    expect(fresh.events()).toEqual([]);
  });

  it('answers a since beyond the log with resync_required after ready', async () => {
    const socket = await TestSocket.open(server.wsUrl);
    sockets.push(socket);
    socket.send({ op: 'hello', token: bob.token, since: 999 });
    expect(await socket.next((f) => f.op === 'ready')).toMatchObject({ seq: 1 });
    expect(await socket.next((f) => f.op === 'error')).toMatchObject({ code: 'resync_required' });
  });

  it('serves the same log over HTTP with paging', async () => {
    const aliceSocket = await connect(alice.token);
    for (let i = 0; i < 3; i++) await aliceSocket.sendMessage(dmId, `s${i}`);
    const first = await http(url, 'GET', '/v1/sync?since=0&limit=2', { token: bob.token });
    expect(first.body).toMatchObject({ seq: 2, hasMore: true });
    expect(first.body.events.map((e: { type: string }) => e.type)).toEqual(['channel.created', 'message.created']);
    expect(first.body.events[0].channel).toMatchObject({ id: dmId, kind: 'dm' });
    const rest = await http(url, 'GET', `/v1/sync?since=${first.body.seq}&limit=10`, { token: bob.token });
    expect(rest.body).toMatchObject({ seq: 4, hasMore: false });
    expect(rest.body.events.map((e: { message: { text: string } }) => e.message.text)).toEqual(['s1', 's2']);
    const bad = await http(url, 'GET', '/v1/sync?since=99', { token: bob.token });
    expect(bad.status).toBe(410);
    expect(bad.body.error.code).toBe('resync_required');
  });
});
