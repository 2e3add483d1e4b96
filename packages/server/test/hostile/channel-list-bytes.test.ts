/**
 * The channel list is bounded whatever the messages and however many channels: a page holds at
 * most limits.maxChannelsLimit views, and a view's lastMessage carries a preview of at most
 * limits.previewCodePoints code points, flagged `textTruncated`, never the whole 100,000 code
 * point text. The preview is cut in the domain, but each store pages the views itself, so both
 * stores are run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits, type AuthResult } from '@parley/protocol';
import { startServer, type RunningServer } from '@parley/server';
import { createTestDatabase, pgSkipReason, type TestDatabase } from '../../src/adapters/postgres/testing.js';
import { http, signup } from '../harness.js';

/** 400,000 UTF-8 bytes: 100,000 four-byte code points. */
const MAXIMAL = (i: number) => String.fromCodePoint(0x1f600 + i).repeat(limits.maxTextCodePoints);
/** 100,000 control characters: JSON writes each as \u00XX, 6 bytes. */
const ESCAPED = '\u0001'.repeat(limits.maxTextCodePoints);
const CHANNELS = 12;
/** A preview's text in JSON: at most 6 bytes per code point (a control character as \u00XX). */
const PREVIEW_JSON = 6 * limits.previewCodePoints;
/** What a two-member group view holds besides its preview's text: ids, names, members, stamps. */
const VIEW_FIELDS_JSON = 2048;

const codePoints = (text: string) => [...text];

const pgSkip = await pgSkipReason();

describe.each([
  { store: 'sqlite', skip: false as string | false },
  { store: 'postgres', skip: pgSkip },
])('channel list byte bound on $store', ({ store, skip }) => {
  let server: RunningServer;
  let database: TestDatabase | undefined;
  let alice: AuthResult;
  let bob: AuthResult;
  const sent = new Map<string, string>();
  let shortChannel = '';

  beforeAll(async () => {
    if (skip !== false) return;
    if (store === 'postgres') database = await createTestDatabase('channelbytes');
    server = await startServer({ env: database ? { PARLEY_DATABASE_URL: database.url } : {} });
    alice = await signup(server.baseUrl, 'alice');
    bob = await signup(server.baseUrl, 'bob');
    for (let i = 0; i <= CHANNELS; i++) {
      const group = await http(server.baseUrl, 'POST', '/v1/groups', {
        token: alice.token,
        body: { name: `g${i}`, memberIds: [bob.user.id] },
      });
      expect(group.status).toBe(201);
      const channelId = group.body.channel.id as string;
      // The last group gets a short message: its view carries it whole.
      const text = i === CHANNELS ? 'short' : i % 2 === 0 ? MAXIMAL(i) : ESCAPED;
      if (i === CHANNELS) shortChannel = channelId;
      const message = await http(server.baseUrl, 'POST', `/v1/channels/${channelId}/messages`, {
        token: alice.token,
        body: { text, clientMsgId: `m${i}` },
      });
      expect(message.status).toBe(201);
      sent.set(channelId, text);
    }
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it.skipIf(skip !== false)(
    'gives each channel a flagged preview of a maximal last message, so the reply stays small',
    async () => {
      const list = await http(server.baseUrl, 'GET', '/v1/channels', { token: bob.token });
      expect(list.status).toBe(200);
      const views = list.body.channels as any[];
      expect(views).toHaveLength(CHANNELS + 1);
      expect(Buffer.byteLength(list.raw)).toBeLessThan((CHANNELS + 1) * (PREVIEW_JSON + VIEW_FIELDS_JSON));
      for (const view of views) {
        const full = sent.get(view.id)!;
        if (view.id === shortChannel) {
          expect(view.lastMessage.text).toBe('short');
          expect(view.lastMessage).not.toHaveProperty('textTruncated');
          continue;
        }
        expect(view.lastMessage.textTruncated).toBe(true);
        expect(view.lastMessage.text).toBe(codePoints(full).slice(0, limits.previewCodePoints).join(''));
        expect(Buffer.byteLength(JSON.stringify(view.lastMessage.text))).toBeLessThanOrEqual(PREVIEW_JSON + 2);
      }
    },
  );

  it.skipIf(skip !== false)(
    'pages the list by count: each page at most limit, nextBefore leads to the rest',
    async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await http(server.baseUrl, 'GET', `/v1/channels?limit=5${before ? `&before=${before}` : ''}`, {
          token: bob.token,
        });
        expect(page.status).toBe(200);
        sizes.push(page.body.channels.length);
        seen.push(...page.body.channels.map((c: any) => c.id));
        if (!page.body.hasMore) {
          expect(page.body).not.toHaveProperty('nextBefore');
          break;
        }
        before = page.body.nextBefore;
      }
      expect(sizes).toEqual([5, 5, 3]);
      expect(seen).toEqual([...sent.keys()].reverse());
    },
  );

  it.skipIf(skip !== false)('refuses a page larger than maxChannelsLimit', async () => {
    const page = await http(server.baseUrl, 'GET', `/v1/channels?limit=${limits.maxChannelsLimit + 1}`, {
      token: bob.token,
    });
    expect(page.status).toBe(400);
    expect(page.body.error.code).toBe('invalid_request');
  });

  it.skipIf(skip !== false)('keeps the whole text in history: the preview is only the list', async () => {
    const [view] = (await http(server.baseUrl, 'GET', '/v1/channels', { token: bob.token })).body.channels;
    const history = await http(server.baseUrl, 'GET', `/v1/channels/${view.id}/messages?limit=1`, {
      token: bob.token,
    });
    expect(history.body.messages[0].id).toBe(view.lastMessage.id);
    expect(history.body.messages[0].text).toBe(sent.get(view.id));
    expect(history.body.messages[0]).not.toHaveProperty('textTruncated');
  });
});
