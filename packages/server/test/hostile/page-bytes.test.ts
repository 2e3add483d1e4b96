/**
 * Pages are bounded in bytes as well as count: maximal messages (100,000 code points, the
 * largest the server accepts) never make a sync page, a history page or a replay batch larger
 * than the page budget plus one message, on either store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits, type AuthResult } from '@parley/protocol';
import { startServer, type RunningServer } from '@parley/server';
import { createTestDatabase, pgSkipReason, type TestDatabase } from '../../src/adapters/postgres/testing.js';
import { http, signup, TestSocket } from '../harness.js';

/** 400,000 UTF-8 bytes: 100,000 four-byte code points. */
const MAXIMAL = (i: number) => String.fromCodePoint(0x1f600 + i).repeat(limits.maxTextCodePoints);
/** 100,000 control characters: 100,000 bytes stored, 600,000 in JSON (each escapes to \u00XX). */
const ESCAPED = '\u0001'.repeat(limits.maxTextCodePoints);
const MESSAGES = 7;
/** What one message's event can add to a page past the budget: its text in JSON plus its fields. */
const ONE_MESSAGE_JSON = 6 * limits.maxTextCodePoints + 1024;
/**
 * The documented bound of a page's JSON: texts below the budget before the last message (JSON
 * writes a stored byte as at most 6: a control character becomes \u00XX), plus that message.
 */
const PAGE_JSON_BOUND = 6 * limits.pageTextBytes + ONE_MESSAGE_JSON;

const utf8 = (text: string) => Buffer.byteLength(text);

/** GET returning the parsed body and the size of the body on the wire. */
async function getPage(baseUrl: string, path: string, token: string): Promise<{ body: any; bytes: number }> {
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const raw = Buffer.from(await response.arrayBuffer());
  expect(response.status).toBe(200);
  return { body: JSON.parse(raw.toString('utf8')), bytes: raw.length };
}

const pgSkip = await pgSkipReason();

describe.each([
  { store: 'sqlite', skip: false as string | false },
  { store: 'postgres', skip: pgSkip },
])('page byte budget on $store', ({ store, skip }) => {
  let server: RunningServer;
  let database: TestDatabase | undefined;
  let alice: AuthResult;
  let bob: AuthResult;
  let dmId: string;
  const texts: string[] = [];

  beforeAll(async () => {
    if (skip !== false) return;
    if (store === 'postgres') database = await createTestDatabase('pagebytes');
    server = await startServer({ env: database ? { PARLEY_DATABASE_URL: database.url } : {} });
    alice = await signup(server.baseUrl, 'alice');
    bob = await signup(server.baseUrl, 'bob');
    dmId = (await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } })).body
      .channel.id;
    for (let i = 0; i < MESSAGES; i++) {
      const text = i === 3 ? ESCAPED : MAXIMAL(i);
      texts.push(text);
      const sent = await http(server.baseUrl, 'POST', `/v1/channels/${dmId}/messages`, {
        token: alice.token,
        body: { text, clientMsgId: `m${i}` },
      });
      expect(sent.status).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it.skipIf(skip !== false)(
    'ends a sync page once its texts reach the budget, and hasMore leads to the rest',
    async () => {
      // bob's log: channel.created, then the 7 messages. Texts 0-2 are 400,000 bytes each: the page
      // reaches 1 MiB with the third, whatever the count limit (the SDK asks for 1000).
      const first = await getPage(server.baseUrl, '/v1/sync?since=0&limit=1000', bob.token);
      expect(first.body.events.map((e: any) => e.type)).toEqual([
        'channel.created',
        'message.created',
        'message.created',
        'message.created',
      ]);
      expect(first.body.hasMore).toBe(true);
      expect(first.body.seq).toBe(4);
      expect(first.bytes).toBeLessThan(limits.pageTextBytes + ONE_MESSAGE_JSON);

      const received: string[] = first.body.events.slice(1).map((e: any) => e.message.text);
      let since = first.body.seq as number;
      let pages = 1;
      for (let more = first.body.hasMore as boolean; more; pages++) {
        const page = await getPage(server.baseUrl, `/v1/sync?since=${since}&limit=1000`, bob.token);
        const pageTexts = page.body.events.map((e: any) => e.message.text as string);
        // Before its last event a page's texts stay below the budget.
        expect(pageTexts.slice(0, -1).reduce((sum: number, t: string) => sum + utf8(t), 0)).toBeLessThan(
          limits.pageTextBytes,
        );
        expect(page.bytes).toBeLessThan(PAGE_JSON_BOUND);
        received.push(...pageTexts);
        since = page.body.seq;
        more = page.body.hasMore;
      }
      expect(received).toEqual(texts);
      // 0-2 | 3 (100,000 bytes), 4, 5 (900,000) and 6 reaches it | nothing more.
      expect(pages).toBe(2);
    },
  );

  it.skipIf(skip !== false)(
    'ends a history page once its texts reach the budget, and says more are older',
    async () => {
      const latest = await getPage(server.baseUrl, `/v1/channels/${dmId}/messages?limit=100`, bob.token);
      expect(latest.body.messages.map((m: any) => m.text)).toEqual(texts.slice(4));
      expect(latest.body.hasMore).toBe(true);
      expect(latest.bytes).toBeLessThan(limits.pageTextBytes + ONE_MESSAGE_JSON);

      const older = await getPage(
        server.baseUrl,
        `/v1/channels/${dmId}/messages?before=${latest.body.messages[0].id}&limit=100`,
        bob.token,
      );
      // 3 (the escaped one, 100,000 bytes stored), 2 and 1 (900,000 bytes), 0 reaches the budget.
      expect(older.body.messages.map((m: any) => m.text)).toEqual(texts.slice(0, 4));
      expect(older.body.hasMore).toBe(true);
      const last = await getPage(
        server.baseUrl,
        `/v1/channels/${dmId}/messages?before=${older.body.messages[0].id}&limit=100`,
        bob.token,
      );
      expect(last.body).toEqual({ messages: [], hasMore: false });

      const forward = await getPage(
        server.baseUrl,
        `/v1/channels/${dmId}/messages?after=${older.body.messages[0].id}&limit=2`,
        bob.token,
      );
      expect(forward.body.messages.map((m: any) => m.text)).toEqual(texts.slice(1, 3));
      expect(forward.body.hasMore).toBe(true);
    },
  );

  it.skipIf(skip !== false)('replays the whole log after hello, in order, a budgeted page at a time', async () => {
    const socket = await TestSocket.connect(server.wsUrl, bob.token, 0);
    try {
      const last = await socket.next((f) => f.op === 'event' && f.seq === MESSAGES + 1, 20_000);
      expect(last.message.text).toBe(texts.at(-1));
      const events = socket.events();
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: MESSAGES + 1 }, (_, i) => i + 1));
      expect(events.slice(1).map((e) => e.message.text)).toEqual(texts);
    } finally {
      await socket.close();
    }
  });
});
