/** The SDK against the real server in this process: REST, live delivery, presence, errors. */
import { startServer } from '@parley/server';
import type { RunningServer } from '@parley/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatError, MemoryStorage } from '../src/node.js';
import type { ConnectionState, OutboxMessage, PresenceUpdate } from '../src/node.js';
import { Device, uniqueName, waitFor } from './helpers.js';

let server: RunningServer;
const devices: Device[] = [];

beforeAll(async () => {
  server = await startServer({
    env: { PARLEY_HEARTBEAT_MS: '200', PARLEY_HEARTBEAT_TIMEOUT_MS: '1000', PARLEY_PRESENCE_GRACE_MS: '50' },
  });
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.client.close()));
  await server?.close();
});

function device(options: ConstructorParameters<typeof Device>[1] = {}): Device {
  const d = new Device(server.baseUrl, options);
  devices.push(d);
  return d;
}

async function signedUp(d: Device, name = uniqueName('u')) {
  const auth = await d.client.signup({ username: name, password: 'correct horse', displayName: name });
  return auth.user;
}

describe('ParleyClient against the server', () => {
  it('signs up, opens a DM, sends and receives live, and reports presence', async () => {
    const alice = device();
    const bob = device();
    const a = await signedUp(alice);
    const b = await signedUp(bob);
    const request = await alice.client.api.sendFriendRequest(b.id);
    await bob.client.api.acceptFriendRequest(request.id);
    const presence: PresenceUpdate[] = [];
    bob.client.on('presence', (p) => presence.push(p));
    await bob.client.connect();
    const states: ConnectionState[] = [];
    alice.client.connection.subscribe((s) => states.push(s));
    await alice.client.connect();
    expect(states).toEqual(['offline', 'connecting', 'online']);
    await waitFor(() => presence.some((p) => p.userId === a.id && p.status === 'online'), 'alice online at bob');
    expect(bob.client.presenceOf(a.id)?.status).toBe('online');

    const dm = await alice.client.api.openDm(b.id);
    expect(dm.kind).toBe('dm');
    expect((await bob.client.api.openDm(a.id)).id).toBe(dm.id);

    const outbox: OutboxMessage[] = [];
    alice.client.on('outbox', (m) => outbox.push(m));
    const pending = alice.client.send(dm.id, 'hello bob');
    expect(pending.state).toBe('pending');
    const sent = await alice.client.settled(pending.clientMsgId);
    expect(sent).toMatchObject({ state: 'sent', clientMsgId: pending.clientMsgId });

    await waitFor(() => bob.received.length === 1 && alice.received.length === 1, 'delivery to both users');
    expect(bob.received[0]).toMatchObject({ id: sent?.messageId, text: 'hello bob', senderId: a.id, channelId: dm.id });
    expect(alice.received[0]?.id).toBe(sent?.messageId);

    const typing: string[] = [];
    bob.client.on('typing', (t) => typing.push(`${t.channelId}:${t.userId}`));
    alice.client.typing(dm.id);
    await waitFor(() => typing.length === 1, 'typing at bob');
    expect(typing).toEqual([`${dm.id}:${a.id}`]);

    const history = await bob.client.api.messages(dm.id);
    expect(history.map((m) => m.id)).toEqual([sent?.messageId]);

    await alice.client.close();
    await waitFor(() => bob.client.presenceOf(a.id)?.status === 'offline', 'alice offline at bob');
    expect(bob.client.presenceOf(a.id)?.lastSeenAt).toBeDefined();
  });

  it('surfaces permanent errors as failed with their code, and REST errors as ChatError', async () => {
    const alice = device();
    const bob = device();
    const carol = device();
    await signedUp(alice);
    const b = await signedUp(bob);
    await signedUp(carol);
    await Promise.all([alice.client.connect(), carol.client.connect()]);
    const dm = await bob.client.api.openDm((await alice.client.api.me()).id);

    const notMember = carol.client.send(dm.id, 'let me in');
    expect(await carol.client.settled(notMember.clientMsgId)).toMatchObject({
      state: 'failed',
      error: { code: 'not_found' },
    });
    const tooLong = alice.client.send(dm.id, 'x'.repeat(100_001));
    expect(tooLong).toMatchObject({ state: 'failed', error: { code: 'message_too_long' } });
    expect(alice.client.outbox.map((m) => m.state)).toEqual(['failed']);

    const error = await carol.client.api.messages(dm.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error).toMatchObject({ code: expect.stringMatching(/^(not_found|forbidden)$/) });
    await expect(alice.client.api.user('999999999')).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      alice.client.api.request('POST', '/v1/auth/login', { body: { username: b.username, password: 'wrong pass' } }),
    ).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('goes offline with unauthorized after logout on another device, and reports it', async () => {
    const phone = device();
    const name = uniqueName('u');
    await phone.client.signup({ username: name, password: 'correct horse' });
    await phone.client.connect();
    const errors: string[] = [];
    phone.client.on('error', (e) => errors.push(e.code));
    await phone.client.api.logout(); // revokes this very token
    await waitFor(() => phone.client.state === 'offline', 'offline after the token was revoked');
    expect(errors).toContain('unauthorized');
  });

  it('replays what a device missed after its stored seq, and resyncs when that seq is unknown to the server', async () => {
    const storage = new MemoryStorage();
    const phone = device({ storage });
    const bob = device();
    const p = await signedUp(phone);
    const b = await signedUp(bob);
    const dm = await bob.client.api.openDm(p.id);
    await phone.client.connect();
    const start = phone.client.seq!;
    await phone.client.close();
    // While the phone is off, bob writes; the phone comes back with its stored seq.
    await bob.client.connect();
    const sent = await Promise.all(
      [1, 2, 3].map((n) => bob.client.settled(bob.client.send(dm.id, `m${n}`).clientMsgId)),
    );
    const again = device({ storage });
    await again.client.resume();
    await again.client.connect();
    await waitFor(() => again.received.length === 3, 'the replay');
    expect(again.received.map((m) => m.id)).toEqual(sent.map((m) => m?.messageId));
    expect(again.client.seq).toBeGreaterThan(start);
    await again.client.close();

    // A position the server does not know (e.g. the server's data was restored from a backup).
    await storage.set(`seq.${p.id}`, '1000000');
    const restored = device({ storage });
    await restored.client.resume();
    const resyncs: number[] = [];
    restored.client.on('resync', (r) => resyncs.push(r.seq));
    await restored.client.connect();
    await waitFor(() => resyncs.length === 1, 'resync');
    expect(restored.client.seq).toBe(resyncs[0]);
    expect(resyncs[0]).toBeLessThan(1000000);
    bob.client.send(dm.id, 'after resync');
    await waitFor(() => restored.received.length === 1, 'live delivery after resync');
    expect(b.id).toBeDefined();
  });

  it('starts a logged-in device at its log-in seq: what came before its first hello arrives', async () => {
    const alice = device();
    const a = await signedUp(alice);
    const phone = device();
    const login = await phone.client.login({ username: a.username, password: 'correct horse' });
    expect(phone.client.seq).toBe(login.seq);
    const resyncs: unknown[] = [];
    phone.client.on('resync', (r) => resyncs.push(r));
    // Sent after the log-in, before the phone connects: its HTTP reads would not have it.
    const bob = device();
    await signedUp(bob);
    const dm = await bob.client.api.openDm(a.id);
    await bob.client.api.postMessage(dm.id, { text: 'while the phone was connecting', clientMsgId: 'early-1' });
    await phone.client.connect();
    await waitFor(() => phone.received.length === 1, 'the message from before the first hello');
    expect(phone.received[0]!.text).toBe('while the phone was connecting');
    expect(resyncs).toEqual([]);
  });

  it('delivers channel, member and friend events', async () => {
    const alice = device();
    const bob = device();
    const a = await signedUp(alice);
    const b = await signedUp(bob);
    await Promise.all([alice.client.connect(), bob.client.connect()]);
    const types: string[] = [];
    bob.client.on('event', (e) => types.push(e.type));
    const request = await alice.client.api.sendFriendRequest(b.id);
    await waitFor(() => types.includes('friend.requested'), 'friend.requested');
    await bob.client.api.acceptFriendRequest(request.id);
    await waitFor(() => types.includes('friend.added'), 'friend.added');
    const group = await alice.client.api.createGroup({ name: 'team', memberIds: [b.id] });
    await waitFor(() => types.some((t) => t === 'channel.created' || t === 'member.added'), 'group event');
    const m = alice.client.send(group.id, 'hi team');
    const sent = await alice.client.settled(m.clientMsgId);
    await waitFor(() => bob.received.some((x) => x.id === sent?.messageId), 'group message');

    // In a DM the sender learns the reader's cursor.
    const reads: string[] = [];
    alice.client.on('read', (r) => reads.push(`${r.userId}:${r.messageId}`));
    const dm = await alice.client.api.openDm(b.id);
    const hello = await alice.client.settled(alice.client.send(dm.id, 'read me').clientMsgId);
    await waitFor(() => bob.received.some((x) => x.id === hello?.messageId), 'dm message');
    await bob.client.markRead(dm.id, hello!.messageId!);
    await waitFor(() => reads.includes(`${b.id}:${hello!.messageId}`), 'read receipt at alice');
    expect((await bob.client.api.channels()).find((c) => c.id === dm.id)?.lastReadMessageId).toBe(hello!.messageId);
    expect((await alice.client.api.friends()).map((f) => f.user.id)).toEqual([b.id]);
    expect(a.id).not.toBe(b.id);

    // In a group, a member's read position arrives as an ephemeral read frame: the same event.
    await bob.client.markRead(group.id, sent!.messageId!);
    await waitFor(() => reads.includes(`${b.id}:${sent!.messageId}`), 'group read position at alice');

    // A friend's new profile arrives as a typed user event.
    const users: string[] = [];
    alice.client.on('user', (u) => users.push(`${u.id}:${u.displayName}`));
    await bob.client.api.updateMe({ displayName: 'Bob Renamed' });
    await waitFor(() => users.includes(`${b.id}:Bob Renamed`), 'user event at alice');
  });
});
