/**
 * The domain's rules under concurrent writers: two API servers on one PostgreSQL database decide
 * on what they read and write conditionally (ports/store.ts, ConditionalWrite); a change decided
 * on a state that moved meanwhile is decided again, so the rules hold across processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import type { AuthResult } from '@parley/protocol';
import { createTestDatabase, pgSkipReason, type TestDatabase } from '../src/adapters/postgres/testing.js';
import { http, signup } from './harness.js';

const skip = await pgSkipReason();

describe.skipIf(skip !== false)('two servers on one PostgreSQL database', () => {
  let database: TestDatabase;
  let one: RunningServer;
  let two: RunningServer;
  beforeAll(async () => {
    database = await createTestDatabase('races');
    one = await startServer({ env: { PARLEY_DATABASE_URL: database.url } });
    two = await startServer({ env: { PARLEY_DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.drop();
  });

  it('makes two users who ask each other at the same moment friends, once', async () => {
    for (let round = 0; round < 10; round++) {
      const [a, b] = [await signup(one.baseUrl, 'ra'), await signup(one.baseUrl, 'rb')];
      const [fromA, fromB] = await Promise.all([
        http(one.baseUrl, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } }),
        http(two.baseUrl, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: a.user.id } }),
      ]);
      expect([fromA.status, fromB.status]).toEqual([201, 201]);
      for (const [me, other] of [
        [a, b],
        [b, a],
      ] as [AuthResult, AuthResult][]) {
        const friends = await http(one.baseUrl, 'GET', '/v1/friends', { token: me.token });
        expect(friends.body.friends.map((f: any) => f.user.id)).toEqual([other.user.id]);
        expect(await http(one.baseUrl, 'GET', '/v1/friends/requests', { token: me.token })).toMatchObject({
          body: { incoming: [], outgoing: [] },
        });
        const sync = await http(two.baseUrl, 'GET', '/v1/sync?since=0&limit=100', { token: me.token });
        const added = sync.body.events.filter((e: any) => e.type === 'friend.added');
        expect(added.map((e: any) => e.friend.id)).toEqual([other.user.id]);
      }
    }
  });

  it('lets only one of two concurrent adds take the last place in a full group', async () => {
    const owner = await signup(one.baseUrl, 'own');
    const members = await Promise.all(Array.from({ length: 98 }, () => signup(one.baseUrl, 'm')));
    const [x, y] = [await signup(one.baseUrl, 'x'), await signup(one.baseUrl, 'y')];
    const created = await http(one.baseUrl, 'POST', '/v1/groups', {
      token: owner.token,
      body: { name: 'nearly full', memberIds: members.map((m) => m.user.id) },
    });
    const channelId = created.body.channel.id;
    expect(created.body.channel.members).toHaveLength(99);
    const adds = await Promise.all([
      http(one.baseUrl, 'POST', `/v1/channels/${channelId}/members`, {
        token: owner.token,
        body: { userId: x.user.id },
      }),
      http(two.baseUrl, 'POST', `/v1/channels/${channelId}/members`, {
        token: owner.token,
        body: { userId: y.user.id },
      }),
    ]);
    expect(adds.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(adds.find((r) => r.status === 409)?.body.error.code).toBe('group_full');
    const channel = await http(two.baseUrl, 'GET', `/v1/channels/${channelId}`, { token: owner.token });
    expect(channel.body.channel.members).toHaveLength(100);
  });

  it('hands the group to one heir when the owner leaves while an admin is being named', async () => {
    for (let round = 0; round < 5; round++) {
      const [owner, early, late] = [
        await signup(one.baseUrl, 'o'),
        await signup(one.baseUrl, 'e'),
        await signup(one.baseUrl, 'l'),
      ];
      const created = await http(one.baseUrl, 'POST', '/v1/groups', {
        token: owner.token,
        body: { name: 'heirs', memberIds: [early.user.id, late.user.id] },
      });
      const channelId = created.body.channel.id;
      const [named, left] = await Promise.all([
        http(two.baseUrl, 'PATCH', `/v1/channels/${channelId}/members/${late.user.id}`, {
          token: owner.token,
          body: { role: 'admin' },
        }),
        http(one.baseUrl, 'DELETE', `/v1/channels/${channelId}/members/${owner.user.id}`, { token: owner.token }),
      ]);
      expect(left.status).toBe(204);
      const roles = Object.fromEntries(
        (await http(one.baseUrl, 'GET', `/v1/channels/${channelId}`, { token: early.token })).body.channel.members.map(
          (m: any) => [m.id, m.role],
        ),
      );
      // Named first: the admin inherits. Left first: the owner could no longer name anyone
      // (not_found, as for any non-member), and the oldest member inherits.
      if (named.status === 200) expect(roles).toEqual({ [early.user.id]: 'member', [late.user.id]: 'owner' });
      else {
        expect(named.body.error.code).toBe('not_found');
        expect(roles).toEqual({ [early.user.id]: 'owner', [late.user.id]: 'member' });
      }
    }
  });
});
