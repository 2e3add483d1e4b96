/**
 * Conformance: garbage on the socket and over HTTP never crashes the server, never leaks, and
 * never disturbs other clients.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAll, dm, http, newUser, post, type Client, Sock } from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
let ch: string;
let bystander: Sock;

beforeAll(async () => {
  t = await startTarget();
  [alice, bob] = await Promise.all([newUser(t, 'alice'), newUser(t, 'bob')]);
  ch = await dm(alice, bob);
  bystander = await bob.connect();
});
afterAll(async () => {
  await bystander.close();
  await t.close();
});

/** The server is alive and still serving the bystander live. */
async function stillServing(): Promise<void> {
  expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  const m = await post(alice, ch, `alive ${randomUUID()}`);
  await bystander.gotMessage(m.id);
  await bystander.roundTrip();
}

const garbage: (string | Buffer)[] = [
  'not json',
  '{"op":',
  '',
  'null',
  '[]',
  '42',
  '"hello"',
  '{}',
  '{"op":42}',
  '{"op":"nope"}',
  '{"op":"send"}',
  '{"op":"send","channelId":123,"text":"x","clientMsgId":"a"}',
  '{"op":"send","channelId":"1","text":["x"],"clientMsgId":"a"}',
  '{"op":"send","channelId":"1","text":"x","clientMsgId":{"a":1}}',
  `{"op":"send","channelId":"1","text":"x","clientMsgId":"${'c'.repeat(129)}"}`,
  '{"op":"read","channelId":null,"messageId":true}',
  '{"op":"typing"}',
  '{"op":"hello","token":{"$ne":null}}',
  '{"__proto__":{"polluted":true},"op":"ping"}',
  '{"constructor":{"prototype":{"polluted":true}},"op":"ping"}',
  '['.repeat(100_000) + ']'.repeat(100_000),
  '{"op":"send","text":"\\ud800","channelId":"1","clientMsgId":"lone"}',
];

describe('garbage after hello', () => {
  it('answers each bad frame with exactly one invalid_request and keeps the socket usable', async () => {
    const s = await alice.connect();
    for (const frame of garbage) {
      const label = String(frame).slice(0, 60);
      const isPing = label.includes('"op":"ping"');
      const errors = () => s.frames.filter((f) => f.op === 'error').length;
      const before = errors();
      s.send(frame);
      if (isPing) {
        await s.roundTrip(); // a valid ping with extra keys: answered with pong, no error
        expect({ label, errors: errors() - before }).toEqual({ label, errors: 0 });
      } else {
        // Every bad frame gets exactly one error answer; the socket stays open.
        await s.until(() => errors() > before || s.closeCode !== undefined, `answer to ${label}`);
        await s.roundTrip();
        const answers = s.frames.filter((f) => f.op === 'error').slice(before);
        // A frame that does not match the schema is invalid_request (docs/protocol.md, Errors),
        // whatever else is wrong with it: it is refused before any channel is looked up.
        expect({ label, codes: answers.map((f) => f.code) }).toEqual({ label, codes: ['invalid_request'] });
      }
      expect({ label, open: s.open }).toEqual({ label, open: true });
    }
    expect(s.nonJson).toEqual([]);
    // Still a working session.
    const ack = await s.sendMsg(ch, 'still fine');
    expect(ack.op).toBe('ack');
    expect(({} as any).polluted).toBeUndefined();
    await s.close();
    await stillServing();
  });

  it('refuses a binary frame without crashing', async () => {
    const s = await alice.connect();
    s.ws.send(Buffer.from([0, 1, 2, 255, 254]), { binary: true });
    await s.until(() => s.frames.some((f) => f.op === 'error') || s.closeCode !== undefined, 'binary refused');
    await s.close();
    await stillServing();
  });

  it('closes a frame over 1 MiB (1009) and keeps serving others', async () => {
    const s = await alice.connect();
    s.send({ op: 'send', channelId: ch, text: 'x'.repeat(1_100_000), clientMsgId: 'huge' });
    expect(await s.closed).toBe(1009);
    await stillServing();
    // Nothing stored.
    const page = await bob.req('GET', `/v1/channels/${ch}/messages?limit=100`);
    expect(page.body.messages.some((m: any) => m.clientMsgId === 'huge')).toBe(false);
  });

  it('survives a flood of mixed frames from many sockets at once', async () => {
    const many = await Promise.all(Array.from({ length: 10 }, () => alice.connect()));
    for (const s of many) for (let i = 0; i < 50; i++) s.send(garbage[i % garbage.length]!);
    await Promise.all(many.map((s) => s.roundTrip()));
    await closeAll(many);
    await stillServing();
  });

  it('a second hello on a ready socket does not crash or switch user', async () => {
    const s = await alice.connect();
    s.send({ op: 'hello', token: bob.token });
    await s.roundTrip();
    expect(s.frames.filter((f) => f.op === 'ready' && f.userId === bob.id)).toEqual([]);
    await s.close();
    await stillServing();
  });
});

describe('before hello', () => {
  it('refuses any first frame that is not a valid hello, and gives no data', async () => {
    for (const first of [
      JSON.stringify({ op: 'send', channelId: ch, text: 'sneaky', clientMsgId: 'pre' }),
      JSON.stringify({ op: 'ping' }),
      JSON.stringify({ op: 'hello' }),
      JSON.stringify({ op: 'hello', token: 42 }),
      'garbage',
    ]) {
      const s = await Sock.open(t.wsUrl);
      s.send(first);
      const code = await s.closed;
      // Not a valid hello (whatever it is instead): protocol error, close 4002.
      expect({ first, code }).toEqual({ first, code: 4002 });
      expect(s.frames.filter((f) => f.op !== 'error')).toEqual([]);
    }
    const page = await bob.req('GET', `/v1/channels/${ch}/messages?limit=100`);
    expect(page.body.messages.some((m: any) => m.text === 'sneaky')).toBe(false);
    await stillServing();
  });

  it('refuses a bad token with error unauthorized and close 4001', async () => {
    const s = await Sock.open(t.wsUrl);
    s.send({ op: 'hello', token: 'bogus' });
    expect((await s.waitFor((f) => f.op === 'error')).code).toBe('unauthorized');
    expect(await s.closed).toBe(4001);
  });

  it('survives sockets that connect and vanish without a close handshake', async () => {
    for (let i = 0; i < 10; i++) {
      const ws = new WebSocket(t.wsUrl);
      await new Promise((resolve) => ws.once('open', resolve));
      if (i % 2) ws.send(JSON.stringify({ op: 'hello', token: alice.token }));
      ws.terminate();
    }
    await stillServing();
  });
});

describe('HTTP garbage', () => {
  it('answers malformed and mistyped bodies with 400 invalid_request, oversized ones with 413 payload_too_large', async () => {
    const cases: [string, string, string | undefined, string | undefined, number][] = [
      ['POST', `/v1/channels/${ch}/messages`, '{"text":', 'application/json', 400],
      ['POST', `/v1/channels/${ch}/messages`, '[1,2,3]', 'application/json', 400],
      ['POST', `/v1/channels/${ch}/messages`, 'text=hi', 'application/x-www-form-urlencoded', 400],
      [
        'POST',
        `/v1/channels/${ch}/messages`,
        JSON.stringify({ text: 'x'.repeat(2_000_000), clientMsgId: 'z' }),
        'application/json',
        413,
      ],
      ['POST', `/v1/channels/${ch}/read`, '{"messageId":{"$gt":0}}', 'application/json', 400],
      ['PATCH', '/v1/me', '{"displayName":null}', 'application/json', 400],
      ['POST', '/v1/dms', '{}', 'application/json', 400],
    ];
    const codeOf: Record<number, string> = { 400: 'invalid_request', 413: 'payload_too_large' };
    for (const [method, path, rawBody, contentType, status] of cases) {
      const res = await http(t.baseUrl, method, path, {
        token: alice.token,
        ...(rawBody === undefined ? {} : { rawBody }),
        ...(contentType === undefined ? {} : { contentType }),
      });
      const label = `${method} ${path} ${String(rawBody).slice(0, 30)}`;
      expect({ label, status: res.status, code: res.body?.error?.code }).toEqual({
        label,
        status,
        code: codeOf[status],
      });
    }
    await stillServing();
  });
});
