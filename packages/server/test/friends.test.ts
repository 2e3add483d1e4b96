import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import { http, signup, TestSocket } from './harness.js';

let server: RunningServer;
let url: string;
beforeAll(async () => {
  server = await startServer();
  url = server.baseUrl;
});
afterAll(() => server.close());

it('requests, accepts, lists with presence, and removes a friend', async () => {
  const a = await signup(url, 'fa');
  const b = await signup(url, 'fb');
  const bSocket = await TestSocket.connect(server.wsUrl, b.token);
  const request = await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
  expect(request.status).toBe(201);
  expect(request.body.request).toMatchObject({
    fromUserId: a.user.id,
    toUserId: b.user.id,
    fromUser: { id: a.user.id },
  });
  // The event carries the very request the sender was answered with, profiles and time included.
  expect((await bSocket.next((f) => f.op === 'event' && f.type === 'friend.requested')).request).toEqual(
    request.body.request,
  );

  const pending = await http(url, 'GET', '/v1/friends/requests', { token: b.token });
  expect(pending.body.incoming.map((r: { id: string }) => r.id)).toEqual([request.body.request.id]);
  expect(pending.body.outgoing).toEqual([]);

  const accepted = await http(url, 'POST', `/v1/friends/requests/${request.body.request.id}/accept`, {
    token: b.token,
  });
  expect(accepted.body.friend).toEqual({ user: a.user, presence: { status: 'offline' } });
  const friendsOfA = await http(url, 'GET', '/v1/friends', { token: a.token });
  expect(friendsOfA.body.friends).toEqual([{ user: b.user, presence: { status: 'online' } }]);

  expect((await http(url, 'DELETE', `/v1/friends/${b.user.id}`, { token: a.token })).status).toBe(204);
  expect((await http(url, 'GET', '/v1/friends', { token: b.token })).body.friends).toEqual([]);
  await bSocket.close();
});

it('only the recipient can accept; a stranger gets not_found', async () => {
  const [a, b, c] = [await signup(url, 'fx'), await signup(url, 'fy'), await signup(url, 'fz')];
  const request = await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
  const byStranger = await http(url, 'POST', `/v1/friends/requests/${request.body.request.id}/accept`, {
    token: c.token,
  });
  expect(byStranger.status).toBe(404);
  const bySender = await http(url, 'POST', `/v1/friends/requests/${request.body.request.id}/accept`, {
    token: a.token,
  });
  expect(bySender.status).toBe(404);
});

it('befriends at once when both asked, and refuses asking a friend again', async () => {
  const [a, b] = [await signup(url, 'fm'), await signup(url, 'fn')];
  await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
  await http(url, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: a.user.id } });
  expect((await http(url, 'GET', '/v1/friends', { token: a.token })).body.friends).toHaveLength(1);
  const again = await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('conflict');
});

it('declines a request', async () => {
  const [a, b] = [await signup(url, 'fd'), await signup(url, 'fe')];
  const request = await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
  expect(
    (await http(url, 'DELETE', `/v1/friends/requests/${request.body.request.id}`, { token: b.token })).status,
  ).toBe(204);
  expect((await http(url, 'GET', '/v1/friends/requests', { token: a.token })).body.outgoing).toEqual([]);
});
