/**
 * Conformance: search and mentions (GET /v1/search, GET /v1/mentions, Message.mentions,
 * Channel.unreadMentionCount), through the public API only. Korean, Japanese, English, emoji and
 * mixed messages across channels the searcher is in, left, or never joined; every result opens in
 * context with `around=`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, dm, errorCode, group, named, post, type Client, type Sock } from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
let carol: Client;
const socks: Sock[] = [];

beforeAll(async () => {
  t = await startTarget();
  [alice, bob, carol] = await named(t, ['alice', 'bob', 'carol']);
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

const search = (c: Client, query: Record<string, string>) =>
  c.req('GET', `/v1/search?${new URLSearchParams(query).toString()}`);
const found = async (c: Client, query: Record<string, string>): Promise<string[]> => {
  const res = await search(c, query);
  expect(res.status).toBe(200);
  return res.body.results.map((r: { message: { id: string } }) => r.message.id);
};

describe('search', () => {
  let team: string;
  let left: string;
  let carols: string;
  let direct: string;
  const ids = {} as Record<'meeting' | 'tokyo' | 'cafe' | 'mixed' | 'left' | 'carol' | 'direct', string>;

  beforeAll(async () => {
    team = await group(alice, [bob]);
    left = await group(alice, [bob]);
    carols = await group(carol, []);
    direct = await dm(alice, bob);
    ids.meeting = (await post(alice, team, '내일 회의는 서울역에서 3시에 해요')).id;
    ids.tokyo = (await post(bob, team, '東京タワーに行きました 🗼')).id;
    ids.cafe = (await post(alice, team, 'The Café on Main St. opens at nine 🎉')).id;
    ids.mixed = (await post(bob, team, 'Parley회의 notes for 東京')).id;
    ids.left = (await post(alice, left, '회의 in the group bob leaves')).id;
    ids.carol = (await post(carol, carols, '회의 that only carol can see')).id;
    ids.direct = (await post(alice, direct, '회의록 in our DM')).id;
    const leave = await bob.req('DELETE', `/v1/channels/${left}/members/${bob.id}`);
    expect(leave.status).toBe(204);
  });

  it('finds a two-character Korean word inside longer words, newest first, only where the searcher is a member', async () => {
    expect(await found(bob, { q: '회의' })).toEqual([ids.direct, ids.mixed, ids.meeting]);
    expect(await found(alice, { q: '회의' })).toEqual([ids.direct, ids.left, ids.mixed, ids.meeting]);
    expect(await found(carol, { q: '회의' })).toEqual([ids.carol]);
    expect(await found(bob, { q: '서울' })).toEqual([ids.meeting]);
  });

  it('finds Japanese, English by prefix without case or accents, emoji, and ANDs the words', async () => {
    expect(await found(bob, { q: '東京' })).toEqual([ids.mixed, ids.tokyo]);
    expect(await found(bob, { q: 'タワー' })).toEqual([ids.tokyo]);
    expect(await found(bob, { q: 'CAFE' })).toEqual([ids.cafe]);
    expect(await found(bob, { q: 'caf' })).toEqual([ids.cafe]);
    expect(await found(bob, { q: '🎉' })).toEqual([ids.cafe]);
    expect(await found(bob, { q: 'parley 東京 회의' })).toEqual([ids.mixed]);
    expect(await found(bob, { q: 'café ten' })).toEqual([]);
  });

  it('highlights the matches as code-point ranges of the text', async () => {
    const res = await search(bob, { q: '東京 notes' });
    const hit = res.body.results.find((r: { message: { id: string } }) => r.message.id === ids.mixed);
    const text: string = hit.message.text;
    const marked = hit.highlights.map(([s, e]: [number, number]) => [...text].slice(s, e).join(''));
    expect(marked).toEqual(['notes', '東京']);
  });

  it('narrows to one channel, pages with before, and opens each result in context', async () => {
    expect(await found(bob, { q: '회의', channelId: team })).toEqual([ids.mixed, ids.meeting]);
    const first = await search(bob, { q: '회의', limit: '1' });
    expect(first.body).toMatchObject({ hasMore: true, results: [{ message: { id: ids.direct } }] });
    expect(await found(bob, { q: '회의', limit: '2', before: ids.direct })).toEqual([ids.mixed, ids.meeting]);
    const context = await bob.req('GET', `/v1/channels/${team}/messages?around=${ids.meeting}&limit=3`);
    expect(context.body.messages.map((m: { id: string }) => m.id)).toContain(ids.meeting);
  });

  it('refuses a channel the searcher is not in as not_found', async () => {
    expect(errorCode(await search(bob, { q: '회의', channelId: left }))).toBe('not_found');
    expect(errorCode(await search(bob, { q: '회의', channelId: carols }))).toBe('not_found');
  });

  it('refuses empty, punctuation-only and over-long queries with invalid_request', async () => {
    for (const q of ['', '   ', '?!…', '"*"', '회'.repeat(257)]) {
      const res = await search(bob, { q });
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('invalid_request');
    }
    expect(errorCode(await bob.req('GET', '/v1/search'))).toBe('invalid_request');
    expect(errorCode(await search(bob, { q: 'x', limit: '51' }))).toBe('invalid_request');
    expect((await search(bob, { q: '회'.repeat(256) })).status).toBe(200);
  });
});

describe('mentions', () => {
  it('flags, counts and lists the members a message names, without changing its text', async () => {
    const room = await group(alice, [bob]);
    const text = `hey @${bob.username.toUpperCase()} and @${carol.username}, see this`;
    const sent = await post(alice, room, text);
    expect(sent).toMatchObject({ text, mentions: [bob.id] });
    const history = await bob.req('GET', `/v1/channels/${room}/messages`);
    expect(history.body.messages.at(-1)).toMatchObject({ id: sent.id, text, mentions: [bob.id] });
    const channels = await bob.req('GET', '/v1/channels');
    expect(channels.body.channels.find((c: { id: string }) => c.id === room)).toMatchObject({
      unreadCount: 1,
      unreadMentionCount: 1,
    });
    const listed = await bob.req('GET', '/v1/mentions');
    expect(listed.status).toBe(200);
    expect(listed.body.results.map((r: { message: { id: string } }) => r.message.id)).toContain(sent.id);
    expect((await carol.req('GET', '/v1/mentions')).body.results).toEqual([]);
    expect((await bob.req('POST', `/v1/channels/${room}/read`, { messageId: sent.id })).status).toBe(204);
    const after = await bob.req('GET', '/v1/channels');
    expect(after.body.channels.find((c: { id: string }) => c.id === room)).toMatchObject({ unreadMentionCount: 0 });
  });

  it('carries mentions in the message.created event and stops listing a channel the user left', async () => {
    const room = await group(alice, [bob]);
    const sock = await bob.connect();
    socks.push(sock);
    const sent = await post(alice, room, `@${bob.username} ping`);
    const event = await sock.waitFor(
      (f) => f.op === 'event' && f.type === 'message.created' && f.message.id === sent.id,
    );
    expect(event.message.mentions).toEqual([bob.id]);
    const replayed = await bob.req('GET', `/v1/sync?since=${event.seq - 1}&limit=1`);
    expect(replayed.body.events[0]).toMatchObject({ type: 'message.created', message: { mentions: [bob.id] } });
    expect((await bob.req('DELETE', `/v1/channels/${room}/members/${bob.id}`)).status).toBe(204);
    const listed = await bob.req('GET', '/v1/mentions');
    expect(listed.body.results.map((r: { message: { id: string } }) => r.message.id)).not.toContain(sent.id);
  });
});
