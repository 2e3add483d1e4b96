/**
 * The send rate limit, set low on purpose (20/s with bursts of 100; the defaults are 100/s and
 * 1000) with the full password hashing cost: how a rate-limited client is answered.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allMessages, dm, newUser, type Client } from '../harness.js';
import { externalUrl, startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;

describe.skipIf(externalUrl)('default settings', () => {
  beforeAll(async () => {
    t = await startTarget({ PARLEY_SEND_RATE: '20', PARLEY_SEND_BURST: '100', PARLEY_PASSWORD_HASH_COST: '15' });
    [alice, bob] = await Promise.all([newUser(t, 'alice'), newUser(t, 'bob')]);
  });
  afterAll(() => t?.close());

  it('a burst of 150 sends from one device: the first 100 pass, the rest get 429 rate_limited and are not stored', async () => {
    const ch = await dm(alice, bob);
    const results = [];
    for (let i = 0; i < 150; i++) {
      results.push(
        await alice.req('POST', `/v1/channels/${ch}/messages`, {
          text: `b${i}`,
          clientMsgId: `burst-${i}-${randomUUID()}`,
        }),
      );
    }
    const ok = results.filter((r) => r.status === 201).length;
    expect(ok).toBeGreaterThanOrEqual(100);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe('rate_limited');
    }
    expect((await allMessages(bob, ch)).length).toBe(ok);
    // Another device of the same user has its own budget.
    const phone = await alice.newDevice('phone');
    const other = await phone.req('POST', `/v1/channels/${ch}/messages`, {
      text: 'other device',
      clientMsgId: randomUUID(),
    });
    expect(other.status).toBe(201);
  });

  it('on the socket a rate-limited send is an error frame with its clientMsgId', async () => {
    const u = await newUser(t, 'ws');
    const ch = await dm(u, bob);
    const s = await u.connect();
    for (let i = 0; i < 130; i++) s.send({ op: 'send', channelId: ch, text: `w${i}`, clientMsgId: `w-${i}` });
    await s.until(
      () =>
        s.frames.filter((f) => (f.op === 'ack' || f.op === 'error') && String(f.clientMsgId).startsWith('w-')).length >=
        130,
      'answers to 130 sends',
      10_000,
    );
    const errors = s.frames.filter((f) => f.op === 'error');
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors)
      expect(e).toMatchObject({ code: 'rate_limited', clientMsgId: expect.stringMatching(/^w-/) });
    await s.close();
  });
});
