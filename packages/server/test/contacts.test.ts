/**
 * What the people you talk to learn about you, over real HTTP and WebSocket, on the embedded
 * store and on PostgreSQL: group read positions ("Seen by N"), DM partners' and new friends'
 * presence, live profile changes, and who may ask for your presence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import type { AuthResult } from '@parley/protocol';
import { createTestDatabase, pgSkipReason, type TestDatabase } from '../src/adapters/postgres/testing.js';
import { http, signup, TestSocket } from './harness.js';

const fast = { PARLEY_HEARTBEAT_MS: '100', PARLEY_HEARTBEAT_TIMEOUT_MS: '2000', PARLEY_PRESENCE_GRACE_MS: '200' };
const pgSkip = await pgSkipReason();

const stores: { name: string; skip: string | false; env: () => Promise<Record<string, string>> }[] = [
  { name: 'the embedded store', skip: false, env: async () => ({}) },
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    env: async () => {
      database = await createTestDatabase('contacts');
      return { PARLEY_DATABASE_URL: database.url };
    },
  },
];
let database: TestDatabase | undefined;

for (const store of stores) {
  describe.skipIf(store.skip !== false)(`on ${store.name}`, () => {
    let server: RunningServer;
    let url: string;
    const sockets: TestSocket[] = [];

    beforeAll(async () => {
      server = await startServer({ env: { ...fast, ...(await store.env()) } });
      url = server.baseUrl;
    });
    afterAll(async () => {
      await Promise.all(sockets.map((s) => s.close()));
      await server.close();
      await database?.drop();
      database = undefined;
    });

    const connect = async (user: AuthResult): Promise<TestSocket> => {
      const socket = await TestSocket.connect(server.wsUrl, user.token);
      sockets.push(socket);
      return socket;
    };
    /** Everything the server had queued for this socket before now has arrived. */
    const barrier = async (socket: TestSocket): Promise<void> => {
      socket.send({ op: 'ping' });
      await socket.next((f) => f.op === 'pong');
    };
    const befriend = async (a: AuthResult, b: AuthResult) => {
      await http(url, 'POST', '/v1/friends/requests', { token: a.token, body: { userId: b.user.id } });
      await http(url, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: a.user.id } });
    };
    const openDm = async (a: AuthResult, b: AuthResult): Promise<string> =>
      (await http(url, 'POST', '/v1/dms', { token: a.token, body: { userId: b.user.id } })).body.channel.id;
    const newGroup = async (owner: AuthResult, members: AuthResult[]): Promise<string> =>
      (
        await http(url, 'POST', '/v1/groups', {
          token: owner.token,
          body: { name: 'team', memberIds: members.map((m) => m.user.id) },
        })
      ).body.channel.id;
    const send = async (from: AuthResult, channelId: string, text: string): Promise<string> =>
      (
        await http(url, 'POST', `/v1/channels/${channelId}/messages`, {
          token: from.token,
          body: { text, clientMsgId: `${text}-${Math.random()}` },
        })
      ).body.message.id;
    const presenceFrom = (userId: string, status: string) => (f: Record<string, any>) =>
      f.op === 'presence' && f.userId === userId && f.status === status;

    describe('group read receipts', () => {
      it("shows the other members a reader's position as an ephemeral read frame, and the reader's devices a logged read.updated", async () => {
        const [reader, other, third] = [await signup(url, 'r'), await signup(url, 'o'), await signup(url, 't')];
        const channelId = await newGroup(reader, [other, third]);
        const messageId = await send(other, channelId, 'hello');
        const [readerSocket, otherSocket, thirdSocket] = [
          await connect(reader),
          await connect(other),
          await connect(third),
        ];
        const read = await http(url, 'POST', `/v1/channels/${channelId}/read`, {
          token: reader.token,
          body: { messageId },
        });
        expect(read.status).toBe(204);
        const frame = { op: 'read', channelId, userId: reader.user.id, messageId };
        expect(await otherSocket.next((f) => f.op === 'read')).toEqual(frame);
        expect(await thirdSocket.next((f) => f.op === 'read')).toEqual(frame);
        const logged = await readerSocket.next((f) => f.op === 'event' && f.type === 'read.updated');
        expect(logged).toMatchObject({ channelId, userId: reader.user.id, messageId });
        // Ephemeral: not in the others' logs; and the reader gets no read frame of their own.
        await barrier(readerSocket);
        expect(readerSocket.frames.filter((f) => f.op === 'read')).toEqual([]);
        const sync = await http(url, 'GET', '/v1/sync?since=0&limit=100', { token: other.token });
        expect(sync.body.events.map((e: any) => e.type)).not.toContain('read.updated');
      });

      it('comes from the socket as well as from HTTP, and only moving forward shows', async () => {
        const [reader, other] = [await signup(url, 'r'), await signup(url, 'o')];
        const channelId = await newGroup(reader, [other]);
        const first = await send(other, channelId, 'one');
        const second = await send(other, channelId, 'two');
        const [readerSocket, otherSocket] = [await connect(reader), await connect(other)];
        readerSocket.send({ op: 'read', channelId, messageId: second });
        expect(await otherSocket.next((f) => f.op === 'read')).toEqual({
          op: 'read',
          channelId,
          userId: reader.user.id,
          messageId: second,
        });
        await readerSocket.next((f) => f.op === 'event' && f.type === 'read.updated');
        // Backwards: nothing is stored, logged or shown.
        readerSocket.send({ op: 'read', channelId, messageId: first });
        await barrier(readerSocket);
        await barrier(otherSocket);
        expect(readerSocket.events('read.updated')).toHaveLength(1);
        expect(otherSocket.frames.filter((f) => f.op === 'read')).toHaveLength(1);
      });

      it("puts every member's read position in the channel views, in groups as in DMs", async () => {
        const [a, b, c] = [await signup(url, 'a'), await signup(url, 'b'), await signup(url, 'c')];
        const channelId = await newGroup(a, [b, c]);
        const messageId = await send(a, channelId, 'hi');
        await http(url, 'POST', `/v1/channels/${channelId}/read`, { token: b.token, body: { messageId } });
        const dmId = await openDm(a, c);
        const dmMessage = await send(a, dmId, 'psst');
        await http(url, 'POST', `/v1/channels/${dmId}/read`, { token: c.token, body: { messageId: dmMessage } });

        const positions = (channel: any) =>
          Object.fromEntries(channel.members.map((m: any) => [m.id, m.lastReadMessageId]));
        const one = await http(url, 'GET', `/v1/channels/${channelId}`, { token: c.token });
        expect(positions(one.body.channel)).toEqual({
          [a.user.id]: undefined,
          [b.user.id]: messageId,
          [c.user.id]: undefined,
        });
        const list = await http(url, 'GET', '/v1/channels', { token: a.token });
        const views = new Map(list.body.channels.map((ch: any) => [ch.id, ch]));
        expect(positions(views.get(channelId))).toEqual({
          [a.user.id]: undefined,
          [b.user.id]: messageId,
          [c.user.id]: undefined,
        });
        expect(positions(views.get(dmId))).toEqual({ [a.user.id]: undefined, [c.user.id]: dmMessage });
      });
    });

    describe('presence for everyone you talk to', () => {
      it('gives DM partners who are not friends each other’s presence: in the snapshot after ready, live, and in channel views', async () => {
        const [a, b] = [await signup(url, 'dma'), await signup(url, 'dmb')];
        const dmId = await openDm(a, b);
        const socketA = await connect(a);
        const keepA = setInterval(() => socketA.send({ op: 'ping' }), 100);
        try {
          // A's snapshot after ready: B, never connected yet.
          expect(await socketA.next((f) => f.op === 'presence' && f.userId === b.user.id)).toEqual({
            op: 'presence',
            userId: b.user.id,
            status: 'offline',
          });
          const socketB = await connect(b);
          expect(await socketB.next((f) => f.op === 'presence' && f.userId === a.user.id)).toEqual({
            op: 'presence',
            userId: a.user.id,
            status: 'online',
          });
          await socketA.next(presenceFrom(b.user.id, 'online'));
          const list = await http(url, 'GET', '/v1/channels', { token: b.token });
          const dm = list.body.channels.find((ch: any) => ch.id === dmId);
          expect(dm.members.find((m: any) => m.id === a.user.id).presence).toEqual({ status: 'online' });
          await socketB.close();
          const offline = await socketA.next(presenceFrom(b.user.id, 'offline'));
          expect(typeof offline.lastSeenAt).toBe('string');
        } finally {
          clearInterval(keepA);
        }
      });

      it("gives two users each other's presence at once when one opens a DM with the other", async () => {
        const [a, b] = [await signup(url, 'na'), await signup(url, 'nb')];
        const [socketA, socketB] = [await connect(a), await connect(b)];
        await barrier(socketB);
        expect(socketB.frames.filter((f) => f.op === 'presence' && f.userId === a.user.id)).toEqual([]);
        await openDm(a, b);
        await socketB.next(presenceFrom(a.user.id, 'online'));
        await socketA.next(presenceFrom(b.user.id, 'online'));
      });

      it("gives two new friends each other's presence at once, on both sides, whichever way they become friends", async () => {
        for (const accept of [true, false]) {
          const [a, b] = [await signup(url, 'fa'), await signup(url, 'fb')];
          const [socketA, socketB] = [await connect(a), await connect(b)];
          await barrier(socketA);
          expect(socketA.frames.filter((f) => f.op === 'presence' && f.userId === b.user.id)).toEqual([]);
          const asked = await http(url, 'POST', '/v1/friends/requests', {
            token: a.token,
            body: { userId: b.user.id },
          });
          if (accept) {
            await http(url, 'POST', `/v1/friends/requests/${asked.body.request.id}/accept`, { token: b.token });
          } else {
            await http(url, 'POST', '/v1/friends/requests', { token: b.token, body: { userId: a.user.id } });
          }
          await socketA.next(presenceFrom(b.user.id, 'online'));
          await socketB.next(presenceFrom(a.user.id, 'online'));
        }
      });
    });

    describe('profile changes', () => {
      it('reach the user’s other devices, friends, DM partners and group co-members once each, and nobody else', async () => {
        const [me, friend, partner, member, stranger] = [
          await signup(url, 'me'),
          await signup(url, 'fr'),
          await signup(url, 'pa'),
          await signup(url, 'gm'),
          await signup(url, 'st'),
        ];
        await befriend(me, friend);
        await openDm(me, partner);
        await openDm(me, friend); // a friend who is also a DM partner and a co-member hears it once
        await newGroup(member, [me, friend]);
        const [phone, friendSocket, partnerSocket, memberSocket, strangerSocket] = [
          await connect(me),
          await connect(friend),
          await connect(partner),
          await connect(member),
          await connect(stranger),
        ];
        const patched = await http(url, 'PATCH', '/v1/me', {
          token: me.token,
          body: { displayName: 'New Me', statusText: 'around' },
        });
        expect(patched.status).toBe(200);
        const user = { id: me.user.id, username: me.user.username, displayName: 'New Me', statusText: 'around' };
        expect(patched.body.user).toEqual(user);
        for (const socket of [phone, friendSocket, partnerSocket, memberSocket]) {
          const event = await socket.next((f) => f.op === 'event' && f.type === 'user.updated');
          expect(event).toEqual({ op: 'event', seq: event.seq, type: 'user.updated', user });
        }
        for (const socket of [phone, friendSocket, strangerSocket]) await barrier(socket);
        expect(friendSocket.events('user.updated')).toHaveLength(1);
        expect(strangerSocket.events('user.updated')).toEqual([]);
        // Logged: a device that was away finds it in its sync.
        const sync = await http(url, 'GET', '/v1/sync?since=0&limit=100', { token: member.token });
        expect(sync.body.events.filter((e: any) => e.type === 'user.updated').map((e: any) => e.user)).toEqual([user]);
      });
    });

    describe('profile changes, cleared', () => {
      it('clears the status with an empty string, and says so live', async () => {
        const [me, friend] = [await signup(url, 'cl'), await signup(url, 'cf')];
        await befriend(me, friend);
        await http(url, 'PATCH', '/v1/me', { token: me.token, body: { statusText: 'busy' } });
        const friendSocket = await connect(friend);
        const cleared = await http(url, 'PATCH', '/v1/me', { token: me.token, body: { statusText: '' } });
        const user = { id: me.user.id, username: me.user.username, displayName: me.user.displayName };
        expect(cleared.body.user).toEqual(user);
        const event = await friendSocket.next((f) => f.op === 'event' && f.type === 'user.updated');
        expect(event.user).toEqual(user);
      });
    });

    describe('presence privacy', () => {
      it('answers presence and last-seen to contacts only; anyone else gets unknown', async () => {
        const [subject, friend, partner, member, stranger] = [
          await signup(url, 'sub'),
          await signup(url, 'pf'),
          await signup(url, 'pp'),
          await signup(url, 'pm'),
          await signup(url, 'ps'),
        ];
        await befriend(subject, friend);
        await openDm(partner, subject);
        await newGroup(member, [subject]);
        const socket = await connect(subject);
        const watcher = await connect(friend);
        const keep = setInterval(() => watcher.send({ op: 'ping' }), 100);
        try {
          await socket.close();
          const offline = await watcher.next(presenceFrom(subject.user.id, 'offline'));
          const ask = async (asker: AuthResult) =>
            (
              await http(url, 'GET', `/v1/presence?userIds=${subject.user.id},${stranger.user.id}`, {
                token: asker.token,
              })
            ).body.presence;
          const seen = { userId: subject.user.id, status: 'offline', lastSeenAt: offline.lastSeenAt };
          for (const contact of [friend, partner, member]) {
            expect(await ask(contact)).toEqual([seen, { userId: stranger.user.id, status: 'unknown' }]);
          }
          expect(await ask(stranger)).toEqual([
            { userId: subject.user.id, status: 'unknown' },
            { userId: stranger.user.id, status: 'offline' },
          ]);
        } finally {
          clearInterval(keep);
        }
      });
    });
  });
}
