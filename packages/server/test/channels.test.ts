import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import type { AuthResult } from '@parley/protocol';
import { http, signup, TestSocket } from './harness.js';

let server: RunningServer;
let url: string;
beforeAll(async () => {
  server = await startServer();
  url = server.baseUrl;
});
afterAll(() => server.close());

async function users(n: number, name = 'u'): Promise<AuthResult[]> {
  return Promise.all(Array.from({ length: n }, () => signup(url, name)));
}
async function createGroup(owner: AuthResult, members: AuthResult[], name = 'Team') {
  const res = await http(url, 'POST', '/v1/groups', {
    token: owner.token,
    body: { name, memberIds: members.map((m) => m.user.id) },
  });
  return res;
}
async function send(user: AuthResult, channelId: string, text: string) {
  const res = await http(url, 'POST', `/v1/channels/${channelId}/messages`, {
    token: user.token,
    body: { text, clientMsgId: `${text}-${Math.random()}` },
  });
  return res.body.message;
}

describe('direct messages', () => {
  it('gives a pair the same channel whoever opens it', async () => {
    const [a, b] = await users(2);
    const first = await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: b!.user.id } });
    const second = await http(url, 'POST', '/v1/dms', { token: b!.token, body: { userId: a!.user.id } });
    expect(second.body.channel.id).toBe(first.body.channel.id);
    expect(first.body.channel).toMatchObject({ kind: 'dm' });
    expect(first.body.channel.members.map((m: { id: string }) => m.id).sort()).toEqual([a!.user.id, b!.user.id].sort());
  });

  it('refuses a DM with oneself or with nobody', async () => {
    const [a] = await users(1);
    expect(
      (await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: a!.user.id } })).body.error.code,
    ).toBe('invalid_request');
    expect((await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: '42' } })).body.error.code).toBe(
      'not_found',
    );
  });
});

describe('groups', () => {
  it('creates a group with the creator as owner and tells every member', async () => {
    const [owner, m1, m2] = await users(3);
    const socket = await TestSocket.connect(server.wsUrl, m1!.token);
    const res = await createGroup(owner!, [m1!, m2!]);
    expect(res.status).toBe(201);
    expect(res.body.channel).toMatchObject({ kind: 'group', name: 'Team' });
    const roles = Object.fromEntries(res.body.channel.members.map((m: { id: string; role: string }) => [m.id, m.role]));
    expect(roles).toEqual({ [owner!.user.id]: 'owner', [m1!.user.id]: 'member', [m2!.user.id]: 'member' });
    const event = await socket.next((f) => f.op === 'event' && f.type === 'channel.created');
    expect(event.channel.id).toBe(res.body.channel.id);
    await socket.close();
  });

  it('holds at most 100 members, owner included', async () => {
    const [owner] = await users(1);
    const many = await users(100, 'm');
    const tooMany = await createGroup(owner!, many);
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error.code).toBe('group_full');
    const full = await createGroup(owner!, many.slice(0, 99));
    expect(full.body.channel.members).toHaveLength(100);
    const add = await http(url, 'POST', `/v1/channels/${full.body.channel.id}/members`, {
      token: owner!.token,
      body: { userId: many[99]!.user.id },
    });
    expect(add.body.error.code).toBe('group_full');
  });

  it('lets the owner and admins add and remove, and anyone leave', async () => {
    const [owner, admin, member, newcomer] = await users(4);
    const id = (await createGroup(owner!, [admin!, member!])).body.channel.id;
    const promote = await http(url, 'PATCH', `/v1/channels/${id}/members/${admin!.user.id}`, {
      token: owner!.token,
      body: { role: 'admin' },
    });
    expect(promote.status).toBe(200);
    const byMember = await http(url, 'POST', `/v1/channels/${id}/members`, {
      token: member!.token,
      body: { userId: newcomer!.user.id },
    });
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe('forbidden');
    const byAdmin = await http(url, 'POST', `/v1/channels/${id}/members`, {
      token: admin!.token,
      body: { userId: newcomer!.user.id },
    });
    expect(byAdmin.body.channel.members).toHaveLength(4);
    expect(
      (await http(url, 'DELETE', `/v1/channels/${id}/members/${owner!.user.id}`, { token: admin!.token })).status,
    ).toBe(403);
    expect(
      (await http(url, 'DELETE', `/v1/channels/${id}/members/${newcomer!.user.id}`, { token: admin!.token })).status,
    ).toBe(204);
    expect(
      (await http(url, 'DELETE', `/v1/channels/${id}/members/${member!.user.id}`, { token: member!.token })).status,
    ).toBe(204);
    expect((await http(url, 'GET', `/v1/channels/${id}`, { token: member!.token })).status).toBe(404);
    const left = await http(url, 'GET', `/v1/channels/${id}`, { token: owner!.token });
    expect(left.body.channel.members.map((m: { id: string }) => m.id).sort()).toEqual(
      [owner!.user.id, admin!.user.id].sort(),
    );
  });

  it('passes ownership on when the owner leaves', async () => {
    const [owner, admin, member] = await users(3);
    const id = (await createGroup(owner!, [member!, admin!])).body.channel.id;
    await http(url, 'PATCH', `/v1/channels/${id}/members/${admin!.user.id}`, {
      token: owner!.token,
      body: { role: 'admin' },
    });
    await http(url, 'DELETE', `/v1/channels/${id}/members/${owner!.user.id}`, { token: owner!.token });
    const channel = (await http(url, 'GET', `/v1/channels/${id}`, { token: member!.token })).body.channel;
    expect(channel.members.find((m: { id: string }) => m.id === admin!.user.id).role).toBe('owner');
  });

  it('renames a group (owner or admin)', async () => {
    const [owner, member] = await users(2);
    const id = (await createGroup(owner!, [member!])).body.channel.id;
    expect((await http(url, 'PATCH', `/v1/channels/${id}`, { token: member!.token, body: { name: 'x' } })).status).toBe(
      403,
    );
    const renamed = await http(url, 'PATCH', `/v1/channels/${id}`, { token: owner!.token, body: { name: 'Renamed' } });
    expect(renamed.body.channel.name).toBe('Renamed');
  });

  it('delivers group messages to all members live', async () => {
    const [owner, m1, m2] = await users(3);
    const id = (await createGroup(owner!, [m1!, m2!])).body.channel.id;
    const s1 = await TestSocket.connect(server.wsUrl, m1!.token);
    const s2 = await TestSocket.connect(server.wsUrl, m2!.token);
    const message = await send(owner!, id, 'hello group');
    for (const s of [s1, s2]) {
      expect((await s.next((f) => f.op === 'event' && f.type === 'message.created')).message.id).toBe(message.id);
    }
    await s1.close();
    await s2.close();
  });
});

describe('privacy', () => {
  it('hides a channel from non-members everywhere with not_found', async () => {
    const [a, b, outsider] = await users(3);
    const id = (await createGroup(a!, [b!])).body.channel.id;
    const message = await send(a!, id, 'secret');
    const probes = [
      http(url, 'GET', `/v1/channels/${id}`, { token: outsider!.token }),
      http(url, 'GET', `/v1/channels/${id}/messages`, { token: outsider!.token }),
      http(url, 'GET', `/v1/channels/${id}/messages?around=${message.id}`, { token: outsider!.token }),
      http(url, 'POST', `/v1/channels/${id}/messages`, {
        token: outsider!.token,
        body: { text: 'hi', clientMsgId: 'x' },
      }),
      http(url, 'POST', `/v1/channels/${id}/read`, { token: outsider!.token, body: { messageId: message.id } }),
      http(url, 'POST', `/v1/channels/${id}/members`, { token: outsider!.token, body: { userId: outsider!.user.id } }),
      http(url, 'DELETE', `/v1/channels/${id}/members/${b!.user.id}`, { token: outsider!.token }),
    ];
    for (const res of await Promise.all(probes)) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    const list = await http(url, 'GET', '/v1/channels', { token: outsider!.token });
    expect(list.body.channels).toEqual([]);
    const socket = await TestSocket.connect(server.wsUrl, outsider!.token);
    socket.send({ op: 'typing', channelId: id });
    expect(await socket.next((f) => f.op === 'error')).toMatchObject({ code: 'not_found' });
    await socket.close();
  });

  it('does not deliver a group’s messages to someone who left', async () => {
    const [a, b] = await users(2);
    const id = (await createGroup(a!, [b!])).body.channel.id;
    await http(url, 'DELETE', `/v1/channels/${id}/members/${b!.user.id}`, { token: b!.token });
    const socket = await TestSocket.connect(server.wsUrl, b!.token);
    await send(a!, id, 'after you left');
    const self = await TestSocket.connect(server.wsUrl, a!.token);
    await send(a!, id, 'marker');
    await self.next((f) => f.op === 'event' && f.message?.text === 'marker');
    expect(socket.events('message.created')).toEqual([]);
    await socket.close();
    await self.close();
  });
});

describe('history', () => {
  it('pages with before, after and around, always ascending, limit capped at 100', async () => {
    const [a, b] = await users(2);
    const id = (await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: b!.user.id } })).body.channel.id;
    const sent = [];
    for (let i = 0; i < 120; i++) sent.push(await send(i % 2 ? a! : b!, id, `h${i}`));
    const page = async (query: string) =>
      (await http(url, 'GET', `/v1/channels/${id}/messages?${query}`, { token: a!.token })).body.messages.map(
        (m: { text: string }) => m.text,
      );
    const texts = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `h${from + i}`);
    expect(await page('')).toEqual(texts(70, 120));
    expect(await page(`before=${sent[70].id}&limit=30`)).toEqual(texts(40, 70));
    expect(await page(`after=${sent[10].id}&limit=5`)).toEqual(texts(11, 16));
    expect(await page(`around=${sent[60].id}&limit=10`)).toEqual(texts(55, 65));
    expect(await page('limit=100')).toHaveLength(100);
    const tooMany = await http(url, 'GET', `/v1/channels/${id}/messages?limit=101`, { token: a!.token });
    expect(tooMany.body.error.code).toBe('invalid_request');
    const both = await http(url, 'GET', `/v1/channels/${id}/messages?before=1&after=2`, { token: a!.token });
    expect(both.body.error.code).toBe('invalid_request');
  });
});

describe('read cursors and unread counts', () => {
  it('counts unread messages from others and clears them on read', async () => {
    const [a, b] = await users(2);
    const id = (await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: b!.user.id } })).body.channel.id;
    await send(a!, id, 'one');
    const two = await send(a!, id, 'two');
    await send(b!, id, 'reply');
    const listFor = async (u: AuthResult) =>
      (await http(url, 'GET', '/v1/channels', { token: u.token })).body.channels[0];
    expect(await listFor(b!)).toMatchObject({ unreadCount: 2, lastMessage: { text: 'reply' } });
    expect(await listFor(a!)).toMatchObject({ unreadCount: 1 });
    expect(
      (await http(url, 'POST', `/v1/channels/${id}/read`, { token: b!.token, body: { messageId: two.id } })).status,
    ).toBe(204);
    expect(await listFor(b!)).toMatchObject({ unreadCount: 0, lastReadMessageId: two.id });
  });

  it('tells the reader’s other devices and the other DM member, never moving backwards', async () => {
    const [a, b] = await users(2);
    const id = (await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: b!.user.id } })).body.channel.id;
    const first = await send(a!, id, 'one');
    const second = await send(a!, id, 'two');
    const sender = await TestSocket.connect(server.wsUrl, a!.token);
    const readerOther = await TestSocket.connect(server.wsUrl, b!.token);
    const reader = await TestSocket.connect(server.wsUrl, b!.token);
    reader.send({ op: 'read', channelId: id, messageId: second.id });
    for (const s of [sender, readerOther]) {
      const event = await s.next((f) => f.op === 'event' && f.type === 'read.updated');
      expect(event).toMatchObject({ channelId: id, userId: b!.user.id, messageId: second.id });
    }
    reader.send({ op: 'read', channelId: id, messageId: first.id });
    await send(a!, id, 'marker');
    await sender.next((f) => f.op === 'event' && f.message?.text === 'marker');
    expect(sender.events('read.updated')).toHaveLength(1);
    for (const s of [sender, readerOther, reader]) await s.close();
  });

  it('rejects a read cursor on a message outside the channel', async () => {
    const [a, b] = await users(2);
    const id = (await http(url, 'POST', '/v1/dms', { token: a!.token, body: { userId: b!.user.id } })).body.channel.id;
    const res = await http(url, 'POST', `/v1/channels/${id}/read`, { token: a!.token, body: { messageId: '123' } });
    expect(res.body.error.code).toBe('not_found');
  });
});
