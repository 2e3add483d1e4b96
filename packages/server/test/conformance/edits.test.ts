/**
 * Conformance: edit, delete, reply and reactions (docs/protocol.md, "Changing messages"):
 * permissions, the log (live, replayed on resume, /v1/sync) ending in the same state as history,
 * and a deleted text gone from every read path.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allMessages,
  closeAll,
  dm,
  errorCode,
  group,
  history,
  named,
  post,
  type Client,
  type Frame,
  type Sock,
} from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
let carol: Client;
let dave: Client;
const socks: Sock[] = [];

beforeAll(async () => {
  t = await startTarget();
  [alice, bob, carol, dave] = await named(t, ['alice', 'bob', 'carol', 'dave']);
});
afterAll(async () => {
  await closeAll(socks);
  await t.close();
});

const path = (channelId: string, messageId: string) => `/v1/channels/${channelId}/messages/${messageId}`;
const edit = (c: Client, channelId: string, messageId: string, text: string) =>
  c.req('PATCH', path(channelId, messageId), { text });
const remove = (c: Client, channelId: string, messageId: string) => c.req('DELETE', path(channelId, messageId));
const react = (c: Client, channelId: string, messageId: string, emoji: string, method = 'PUT') =>
  c.req(method, `${path(channelId, messageId)}/reactions/${encodeURIComponent(emoji)}`);

/** Every event of the user's log after `since`, through GET /v1/sync. */
async function syncAll(c: Client, since = 0): Promise<Frame[]> {
  const events: Frame[] = [];
  for (let seq = since; ;) {
    const res = await c.req('GET', `/v1/sync?since=${seq}`);
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    seq = res.body.seq;
    if (!res.body.hasMore) return events;
  }
}

/**
 * What a client ends with after applying `events` in order to `start` (as the SDK does): message
 * events replace the message; reaction events are set operations on each emoji's userIds.
 */
function applyEvents(start: Map<string, any>, events: readonly Frame[], viewerId: string): Map<string, any> {
  const state = new Map(start);
  for (const event of events) {
    if (event.type === 'message.created' || event.type === 'message.updated' || event.type === 'message.deleted') {
      state.set(event.message.id, event.message);
    } else if (event.type === 'reaction.added' || event.type === 'reaction.removed') {
      const message = state.get(event.messageId);
      if (message === undefined || message.deletedAt !== undefined) continue;
      const chips: any[] = (message.reactions ?? []).map((r: any) => ({ ...r, userIds: [...r.userIds] }));
      let chip = chips.find((r) => r.emoji === event.emoji);
      if (chip === undefined) chips.push((chip = { emoji: event.emoji, count: 0, me: false, userIds: [] }));
      const has = chip.userIds.includes(event.userId);
      if (event.type === 'reaction.added' && !has) chip.userIds.push(event.userId);
      if (event.type === 'reaction.removed' && has) chip.userIds.splice(chip.userIds.indexOf(event.userId), 1);
      chip.count = chip.userIds.length;
      chip.me = chip.userIds.includes(viewerId);
      const next = { ...message, reactions: chips.filter((r) => r.count > 0) };
      if (next.reactions.length === 0) delete next.reactions;
      state.set(event.messageId, next);
    }
  }
  return state;
}

describe('edit', () => {
  it('lets the sender change the text: same id and place, editedAt, seen in history and by the other side', async () => {
    const ch = await dm(alice, bob);
    const first = await post(alice, ch, 'helo');
    const second = await post(bob, ch, 'hi');
    const res = await edit(alice, ch, first.id, 'hello');
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({ id: first.id, text: 'hello', createdAt: first.createdAt });
    expect(res.body.message.editedAt).toEqual(expect.any(String));
    const page = (await history(bob, ch)).body.messages;
    expect(page.map((m: any) => [m.id, m.text])).toEqual([
      [first.id, 'hello'],
      [second.id, 'hi'],
    ]);
  });

  it('refuses anyone but the sender (forbidden), even a group owner, and non-members (not_found)', async () => {
    const ch = await group(alice, [bob, carol]);
    const sent = await post(bob, ch, 'mine');
    expect(errorCode(await edit(alice, ch, sent.id, 'owner edit'))).toBe('forbidden');
    expect(errorCode(await edit(carol, ch, sent.id, 'peer edit'))).toBe('forbidden');
    expect(errorCode(await edit(dave, ch, sent.id, 'outsider edit'))).toBe('not_found');
    expect((await history(alice, ch)).body.messages.at(-1).text).toBe('mine');
  });

  it('keeps the send rules: empty is invalid_request, too long is message_too_long; a deleted message is not_found', async () => {
    const ch = await dm(alice, bob);
    const sent = await post(alice, ch, 'x');
    expect(errorCode(await edit(alice, ch, sent.id, ''))).toBe('invalid_request');
    expect(errorCode(await edit(alice, ch, sent.id, 'a'.repeat(100_001)))).toBe('message_too_long');
    expect((await remove(alice, ch, sent.id)).status).toBe(204);
    expect(errorCode(await edit(alice, ch, sent.id, 'back'))).toBe('not_found');
    expect(errorCode(await edit(alice, ch, '123456789', 'none'))).toBe('not_found');
  });
});

describe('delete', () => {
  it('lets the sender, and a group owner or admin, delete; nobody else', async () => {
    const ch = await group(alice, [bob, carol]);
    expect((await bob.req('PATCH', `/v1/channels/${ch}/members/${carol.id}`, { role: 'admin' })).status).toBe(403);
    expect((await alice.req('PATCH', `/v1/channels/${ch}/members/${carol.id}`, { role: 'admin' })).status).toBe(200);
    const [one, two, three] = [await post(bob, ch, 'one'), await post(bob, ch, 'two'), await post(alice, ch, 'three')];
    expect(errorCode(await remove(dave, ch, one.id))).toBe('not_found');
    expect(errorCode(await remove(bob, ch, three.id))).toBe('forbidden'); // a member, not the sender
    expect((await remove(bob, ch, one.id)).status).toBe(204); // the sender
    expect((await remove(alice, ch, two.id)).status).toBe(204); // the owner
    expect((await remove(carol, ch, three.id)).status).toBe(204); // an admin
    expect((await remove(bob, ch, one.id)).status).toBe(204); // again: nothing changes
  });

  it('in a DM, only the sender deletes', async () => {
    const ch = await dm(alice, bob);
    const sent = await post(alice, ch, 'dm text');
    expect(errorCode(await remove(bob, ch, sent.id))).toBe('forbidden');
    expect((await remove(alice, ch, sent.id)).status).toBe(204);
  });

  it('erases the text from history, around=, sync, the channel list and replies; keeps a tombstone', async () => {
    const secret = `secret-${randomUUID()}`;
    const ch = await dm(alice, bob);
    const before = await syncAll(bob);
    const sent = await post(alice, ch, secret);
    const answer = await post(bob, ch, 'what?');
    const reply = await bob.req('POST', `/v1/channels/${ch}/messages`, {
      text: 'about that',
      clientMsgId: randomUUID(),
      replyToId: sent.id,
    });
    expect(reply.body.message.replyTo).toEqual({ id: sent.id, senderId: alice.id, preview: secret });
    await react(bob, ch, sent.id, '👍');
    expect((await remove(alice, ch, sent.id)).status).toBe(204);
    const tombstone = {
      id: sent.id,
      channelId: ch,
      senderId: alice.id,
      text: '',
      createdAt: sent.createdAt,
      clientMsgId: sent.clientMsgId,
      deletedAt: expect.any(String),
    };
    const all = await allMessages(bob, ch);
    const at = all.findIndex((m) => m.id === sent.id);
    expect(all[at]).toEqual(tombstone);
    expect(all[at + 1].id).toBe(answer.id);
    expect(all[at + 2].replyTo).toEqual({ id: sent.id, senderId: alice.id });
    expect((await history(bob, ch, `around=${sent.id}&limit=1`)).body.messages).toEqual([tombstone]);
    const events = await syncAll(bob, before.at(-1)?.seq ?? 0);
    expect(JSON.stringify(events)).not.toContain(secret);
    expect(events.filter((e) => e.type === 'message.deleted').map((e) => e.message)).toEqual([tombstone]);
    const replies = (await syncAll(alice)).filter((e) => e.message?.id === reply.body.message.id);
    expect(replies.map((e) => e.message.replyTo)).toEqual([{ id: sent.id, senderId: alice.id }]);
    // Deleted last: the channel list shows the tombstone, and it counts as unread for nobody.
    const last = await post(alice, ch, secret);
    await remove(alice, ch, last.id);
    const channels = (await bob.req('GET', '/v1/channels')).body.channels;
    const view = channels.find((c: any) => c.id === ch);
    expect(view.lastMessage).toMatchObject({ id: last.id, text: '', deletedAt: expect.any(String) });
    expect(JSON.stringify(channels)).not.toContain(secret);
  });

  it('does not count a deleted message as unread', async () => {
    const ch = await dm(carol, dave);
    const sent = await post(carol, ch, 'oops');
    await post(carol, ch, 'real');
    const unread = async () =>
      (await dave.req('GET', '/v1/channels')).body.channels.find((c: any) => c.id === ch).unreadCount;
    expect(await unread()).toBe(2);
    await remove(carol, ch, sent.id);
    expect(await unread()).toBe(1);
  });
});

describe('reply', () => {
  it('accepts replyToId over the socket and HTTP, only for a message of the same channel', async () => {
    const ch = await dm(alice, bob);
    const other = await dm(alice, carol);
    const original = await post(alice, ch, 'question '.repeat(30));
    const elsewhere = await post(alice, other, 'elsewhere');
    const sock = await bob.connect();
    socks.push(sock);
    sock.send({ op: 'send', channelId: ch, text: 'answer', clientMsgId: 'r1', replyToId: original.id });
    await sock.next((f) => f.op === 'ack' && f.clientMsgId === 'r1');
    const created = await sock.next((f) => f.type === 'message.created' && f.message.text === 'answer');
    expect(created.message.replyTo).toEqual({
      id: original.id,
      senderId: alice.id,
      preview: [...original.text].slice(0, 100).join(''),
    });
    sock.send({ op: 'send', channelId: ch, text: 'bad', clientMsgId: 'r2', replyToId: elsewhere.id });
    const refused = await sock.next((f) => f.op === 'error' && f.clientMsgId === 'r2');
    expect(refused.code).toBe('invalid_request');
    const res = await bob.req('POST', `/v1/channels/${ch}/messages`, {
      text: 'x',
      clientMsgId: randomUUID(),
      replyToId: elsewhere.id,
    });
    expect(errorCode(res)).toBe('invalid_request');
    expect((await history(alice, ch)).body.messages.at(-1).replyTo.preview).toBe(created.message.replyTo.preview);
  });
});

describe('reactions', () => {
  it('aggregates per emoji with `me` for the reader; PUT and DELETE are idempotent', async () => {
    const ch = await group(alice, [bob, carol]);
    const sent = await post(alice, ch, 'react to me');
    expect((await react(bob, ch, sent.id, '👍')).status).toBe(200);
    expect((await react(bob, ch, sent.id, '👍')).status).toBe(200);
    await react(carol, ch, sent.id, '👍');
    const mine = await react(carol, ch, sent.id, '🎉');
    expect(mine.body.message.reactions).toEqual([
      { emoji: '👍', count: 2, me: true, userIds: [bob.id, carol.id] },
      { emoji: '🎉', count: 1, me: true, userIds: [carol.id] },
    ]);
    const seen = async (c: Client) => (await history(c, ch)).body.messages.at(-1).reactions;
    expect(await seen(alice)).toEqual([
      { emoji: '👍', count: 2, me: false, userIds: [bob.id, carol.id] },
      { emoji: '🎉', count: 1, me: false, userIds: [carol.id] },
    ]);
    expect((await react(carol, ch, sent.id, '🎉', 'DELETE')).status).toBe(200);
    expect((await react(carol, ch, sent.id, '🎉', 'DELETE')).status).toBe(200);
    expect(await seen(bob)).toEqual([{ emoji: '👍', count: 2, me: true, userIds: [bob.id, carol.id] }]);
    await react(bob, ch, sent.id, '👍', 'DELETE');
    await react(carol, ch, sent.id, '👍', 'DELETE');
    expect(await seen(bob)).toBeUndefined();
  });

  it('takes one emoji only, and not from outsiders or on a deleted message', async () => {
    const ch = await dm(alice, bob);
    const sent = await post(alice, ch, 'x');
    for (const bad of ['a', '👍👍', 'ok', ' '])
      expect(errorCode(await react(bob, ch, sent.id, bad))).toBe('invalid_request');
    for (const good of ['👍🏽', '👨‍👩‍👧', '🇰🇷', '❤️', '1️⃣']) expect((await react(bob, ch, sent.id, good)).status).toBe(200);
    expect(errorCode(await react(carol, ch, sent.id, '👍'))).toBe('not_found');
    await remove(alice, ch, sent.id);
    expect(errorCode(await react(bob, ch, sent.id, '👍'))).toBe('not_found');
  });
});

describe('through the log', () => {
  it('gives a device that was away, on resume and through sync, the state history shows; twice applied changes nothing', async () => {
    const ch = await group(alice, [bob]);
    const away = await bob.newDevice('phone');
    const sock = await away.connect();
    const since = sock.ready!.seq as number;
    sock.ws.close();
    await sock.closed;
    const a = await post(alice, ch, 'first');
    const b = await post(bob, ch, 'second');
    await edit(alice, ch, a.id, 'first, edited');
    await react(alice, ch, b.id, '👍');
    await react(bob, ch, b.id, '👍');
    await react(bob, ch, b.id, '😂');
    await react(bob, ch, b.id, '😂', 'DELETE');
    const c = await bob.req('POST', `/v1/channels/${ch}/messages`, {
      text: 'third',
      clientMsgId: randomUUID(),
      replyToId: a.id,
    });
    await remove(bob, ch, b.id);
    await edit(alice, ch, a.id, 'first, edited twice');
    const truth = new Map((await allMessages(bob, ch)).map((m: any) => [m.id, m]));
    expect(truth.get(c.body.message.id).replyTo).toEqual({
      id: a.id,
      senderId: alice.id,
      preview: 'first, edited twice',
    });

    const back = await away.connect(since);
    socks.push(back);
    await back.until(() => back.frames.some((f) => f.type === 'message.updated' && f.message.text.endsWith('twice')));
    const replayed = back.frames.filter((f) => f.op === 'event');
    expect(applyEvents(new Map(), replayed, bob.id)).toEqual(truth);
    expect(applyEvents(new Map(), [...replayed, ...replayed], bob.id)).toEqual(truth);
    const synced = await syncAll(away, since);
    expect(applyEvents(new Map(), synced, bob.id)).toEqual(truth);
  });

  it('applies live reaction events on top of history to the same state', async () => {
    const ch = await dm(carol, dave);
    const sent = await post(carol, ch, 'live');
    const start = new Map((await allMessages(dave, ch)).map((m: any) => [m.id, m]));
    const sock = await dave.connect();
    socks.push(sock);
    await react(carol, ch, sent.id, '🔥');
    await react(dave, ch, sent.id, '🔥');
    await react(dave, ch, sent.id, '👀');
    await react(carol, ch, sent.id, '🔥', 'DELETE');
    await sock.until(() => sock.frames.filter((f) => f.type?.startsWith('reaction.')).length === 4);
    const live = sock.frames.filter((f) => f.type?.startsWith('reaction.'));
    const truth = new Map((await allMessages(dave, ch)).map((m: any) => [m.id, m]));
    expect(applyEvents(start, live, dave.id)).toEqual(truth);
    expect(applyEvents(applyEvents(start, live, dave.id), live, dave.id)).toEqual(truth);
  });
});
