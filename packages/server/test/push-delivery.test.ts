/**
 * Push delivery end to end: the real server, its outbox and notifier, APNs / FCM / Web Push
 * providers talking to local servers that check requests as Apple, Google and RFC 8030 describe
 * them. The server's clock is the test's (real time plus an offset the test moves), so a burst
 * is due only when the test says and "nothing was sent" needs no sleep.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import { ApnsProvider } from '../src/adapters/apns/apns-provider.js';
import { FcmProvider } from '../src/adapters/fcm/fcm-provider.js';
import { WebPushProvider } from '../src/adapters/webpush/web-push-provider.js';
import type { AuthResult } from '@parley/protocol';
import { eventually, http, login, signup } from './harness.js';
import { makeTls, startFakeApns, startFakeFcm, type FakeApns, type FakeFcm, type Tls } from './push-services.js';

const WINDOW_MS = 60_000;
let offset = 0;
const clock = { now: () => Date.now() + offset };

let tls: Tls;
let apns: FakeApns;
let fcm: FakeFcm;
let webPush: https.Server;
const webPushed: string[] = [];
let server: RunningServer;
let alice: AuthResult;
let bob: AuthResult;
let bobPhone: AuthResult;
let dmId: string;

beforeAll(async () => {
  tls = await makeTls();
  [apns, fcm] = await Promise.all([startFakeApns(tls), startFakeFcm(tls)]);
  webPush = https.createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    request.resume();
    request.on('end', () => {
      webPushed.push(request.url ?? '');
      response.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => webPush.listen(0, '127.0.0.1', resolve));
  const vapid = WebPushProvider.generateKeys();
  server = await startServer({
    clock,
    env: { PARLEY_PUSH_COALESCE_MS: String(WINDOW_MS), PARLEY_PUSH_POLL_MS: '20' },
    // No jitter: a retry comes after exactly half its backoff ceiling, or its Retry-After.
    pushRandom: () => 0,
    pushProviders: [
      new WebPushProvider({
        vapidPublicKey: vapid.publicKey,
        vapidPrivateKey: vapid.privateKey,
        subject: 'mailto:ops@example.com',
        agent: new https.Agent({ ca: tls.ca }),
      }),
      new ApnsProvider({
        privateKey: apns.privateKey,
        keyId: apns.keyId,
        teamId: apns.teamId,
        topic: apns.topic,
        baseUrl: apns.url,
        ca: tls.ca,
      }),
      new FcmProvider({ serviceAccount: fcm.serviceAccount, baseUrl: fcm.url, ca: tls.ca }),
    ],
  });
  alice = await signup(server.baseUrl, 'pdAlice');
  bob = await signup(server.baseUrl, 'pdBob');
  bobPhone = await login(server.baseUrl, bob.user.username, 'phone');
  await register(bob, { provider: 'apns', token: 'b0b1' });
  await register(bob, { provider: 'fcm', token: 'bob-fcm-1' });
  await register(bobPhone, { provider: 'apns', token: 'b0b2' });
  const port = (webPush.address() as AddressInfo).port;
  await register(bob, {
    endpoint: `https://127.0.0.1:${port}/bob-browser`,
    keys: {
      p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
      auth: 'tBHItJI5svbpez7KI4CCXg',
    },
  });
  const opened = await http(server.baseUrl, 'POST', '/v1/dms', { token: alice.token, body: { userId: bob.user.id } });
  dmId = opened.body.channel.id;
});

afterAll(async () => {
  await server.close();
  await Promise.all([apns.close(), fcm.close(), new Promise((resolve) => webPush.close(resolve))]);
  await tls.cleanup();
});

async function register(device: AuthResult, body: unknown): Promise<void> {
  const res = await http(server.baseUrl, 'POST', '/v1/push/subscriptions', { token: device.token, body });
  expect(res.status).toBe(201);
}

let sentCount = 0;
async function send(text: string): Promise<string> {
  const res = await http(server.baseUrl, 'POST', `/v1/channels/${dmId}/messages`, {
    token: alice.token,
    body: { text, clientMsgId: `pd-${++sentCount}` },
  });
  expect(res.status).toBe(201);
  return res.body.message.id as string;
}

async function metric(name: string): Promise<number> {
  const res = await fetch(`${server.baseUrl}/metrics`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

const apnsTo = (token: string) => apns.delivered.filter((r) => r.token === token);
const fcmTo = (token: string) => fcm.delivered.filter((r) => r.message.token === token);
const counts = () => [apnsTo('b0b1').length, apnsTo('b0b2').length, fcmTo('bob-fcm-1').length, webPushed.length];

/** Moves the server's clock past the coalescing window. */
const windowPasses = () => (offset += WINDOW_MS + 1);

it('makes one notification per device of a burst, saying how many, collapsing by conversation', async () => {
  await send('one');
  await send('two');
  const last = await send('three');
  // Not due before the window ends.
  expect(counts()).toEqual([0, 0, 0, 0]);
  windowPasses();
  await eventually(() => counts().every((n) => n === 1), 5000, 'one notification per device');
  const [toLaptop] = apnsTo('b0b1');
  expect(toLaptop!.headers['apns-collapse-id']).toBe(dmId);
  expect(toLaptop!.body.aps.alert).toEqual({ title: alice.user.displayName, body: '3 new messages' });
  expect(toLaptop!.body.parley).toMatchObject({
    channelId: dmId,
    messageId: last,
    count: 3,
    channelName: alice.user.displayName,
  });
  expect(fcmTo('bob-fcm-1')[0]!.message.android.collapse_key).toBe(dmId);
  // Counted once the group is done (after its last device's answer).
  await eventually(async () => (await metric('parley_push_coalesced_total')) === 2, 5000, 'two messages coalesced');
  expect(await metric('parley_push_sent_total{provider="apns"}')).toBe(2);
  expect(counts()).toEqual([1, 1, 1, 1]);
});

it('sends nothing for messages read on another device before the window ended', async () => {
  const before = await metric('parley_push_suppressed_total{reason="read"}');
  await send('four');
  const last = await send('five');
  const read = await http(server.baseUrl, 'POST', `/v1/channels/${dmId}/read`, {
    token: bob.token,
    body: { messageId: last },
  });
  expect(read.status).toBe(204);
  windowPasses();
  await eventually(
    async () => (await metric('parley_push_suppressed_total{reason="read"}')) === before + 2,
    5000,
    'two read suppressions',
  );
  expect(counts()).toEqual([1, 1, 1, 1]);
});

it('sends nothing in a muted conversation, and shows the mute in the channel list', async () => {
  const muted = await http(server.baseUrl, 'PATCH', `/v1/channels/${dmId}/settings`, {
    token: bobPhone.token,
    body: { muted: true },
  });
  expect(muted.body).toEqual({ channelId: dmId, muted: true });
  const list = await http(server.baseUrl, 'GET', '/v1/channels', { token: bob.token });
  expect(list.body.channels.find((c: { id: string }) => c.id === dmId).muted).toBe(true);
  // The other device learns it from the update log.
  const sync = await http(server.baseUrl, 'GET', '/v1/sync?since=0', { token: bob.token });
  expect(sync.body.events.at(-1)).toMatchObject({ type: 'channel.settings.updated', channelId: dmId, muted: true });
  const before = await metric('parley_push_suppressed_total{reason="muted"}');
  await send('muted one');
  windowPasses();
  await eventually(
    async () => (await metric('parley_push_suppressed_total{reason="muted"}')) === before + 1,
    5000,
    'a mute suppression',
  );
  expect(counts()).toEqual([1, 1, 1, 1]);
  await http(server.baseUrl, 'PATCH', `/v1/channels/${dmId}/settings`, { token: bob.token, body: { muted: false } });
});

it('deletes registrations the services report gone, and sends to them no more', async () => {
  await register(bob, { provider: 'apns', token: 'dead1' });
  await register(bob, { provider: 'fcm', token: 'dead-fcm' });
  apns.script.set('dead1', [{ status: 410, reason: 'Unregistered' }]);
  fcm.script.set('dead-fcm', [{ status: 404, reason: 'Requested entity was not found.' }]);
  await send('to the dead');
  windowPasses();
  await eventually(() => counts().every((n) => n === 2), 5000, 'the live devices’ notifications');
  await eventually(
    async () =>
      (await metric('parley_push_gone_total{provider="apns"}')) === 1 &&
      (await metric('parley_push_gone_total{provider="fcm"}')) === 1,
    5000,
    'both gone',
  );
  const seenBefore = apns.seen.filter((r) => r.token === 'dead1').length;
  await send('again');
  windowPasses();
  await eventually(() => counts().every((n) => n === 3), 5000, 'the next notifications');
  expect(apns.seen.filter((r) => r.token === 'dead1').length).toBe(seenBefore);
  expect(fcm.seen.filter((r) => r.token === 'dead-fcm')).toHaveLength(1);
});

it('retries 429 and 5xx after their backoff, and never sends a device the same message twice', async () => {
  apns.script.set('b0b1', [{ status: 429, reason: 'TooManyRequests', retryAfter: '30' }]);
  fcm.script.set('bob-fcm-1', [{ status: 503, reason: 'The service is currently unavailable.' }]);
  const retriedBefore = await metric('parley_push_retried_total{provider="apns"}');
  await send('flaky');
  windowPasses();
  await eventually(() => apnsTo('b0b2').length === 4 && webPushed.length === 4, 5000, 'the healthy devices');
  await eventually(
    async () => (await metric('parley_push_retried_total{provider="apns"}')) === retriedBefore + 1,
    5000,
    'a retry scheduled',
  );
  expect(counts()).toEqual([3, 4, 3, 4]);
  // Retry-After said 30 s.
  offset += 29_000;
  expect(apnsTo('b0b1')).toHaveLength(3);
  offset += 1_001;
  await eventually(() => apnsTo('b0b1').length === 4 && fcmTo('bob-fcm-1').length === 4, 5000, 'the retries');
  expect(counts()).toEqual([4, 4, 4, 4]);
});

it('leaves the text out when the user turned previews off', async () => {
  const set = await http(server.baseUrl, 'PATCH', '/v1/push/settings', { token: bob.token, body: { previews: false } });
  expect(set.body).toEqual({ previews: false });
  expect((await http(server.baseUrl, 'GET', '/v1/push/settings', { token: bobPhone.token })).body).toEqual({
    previews: false,
  });
  await send('the secret plan');
  windowPasses();
  await eventually(() => apnsTo('b0b2').length === 5, 5000, 'the notification');
  const request = apnsTo('b0b2')[4]!;
  const name = alice.user.displayName;
  expect(request.body.aps.alert).toEqual({ title: name, body: `New message from ${name}` });
  expect(JSON.stringify(request.body)).not.toContain('secret');
  await http(server.baseUrl, 'PATCH', '/v1/push/settings', { token: bob.token, body: { previews: true } });
});

it('forgets a device’s registrations when it logs out', async () => {
  const out = await http(server.baseUrl, 'POST', '/v1/auth/logout', { token: bobPhone.token });
  expect(out.status).toBe(204);
  await send('after logout');
  windowPasses();
  await eventually(() => apnsTo('b0b1').length === 6, 5000, 'the laptop’s notification');
  expect(apnsTo('b0b2')).toHaveLength(5);
});

it('refuses a registration for a provider that is configured, malformed, and unregisters', async () => {
  const bad = await http(server.baseUrl, 'POST', '/v1/push/subscriptions', {
    token: bob.token,
    body: { provider: 'apns', token: 'not a token!' },
  });
  expect(bad.body.error.code).toBe('invalid_request');
  const removed = await http(server.baseUrl, 'DELETE', '/v1/push/subscriptions', {
    token: bob.token,
    body: { provider: 'fcm', token: 'bob-fcm-1' },
  });
  expect(removed.status).toBe(204);
  const config = await http(server.baseUrl, 'GET', '/v1/push/config');
  expect(config.body).toEqual({
    enabled: true,
    providers: ['webpush', 'apns', 'fcm'],
    vapidPublicKey: expect.any(String),
  });
});

it('lets a mention through a mute, also one an edit adds, and notifies nobody else of an edit', async () => {
  await http(server.baseUrl, 'PATCH', `/v1/channels/${dmId}/settings`, { token: bob.token, body: { muted: true } });
  const laptop = () => apnsTo('b0b1');
  const before = laptop().length;
  const mutedBefore = await metric('parley_push_suppressed_total{reason="muted"}');
  await send(`look at this @${bob.user.username}`);
  windowPasses();
  await eventually(() => laptop().length === before + 1, 5000, 'the mention’s notification');
  expect(laptop().at(-1)!.body.aps.alert.body).toBe(`look at this @${bob.user.username}`);

  const plain = await send('no names here');
  windowPasses();
  await eventually(
    async () => (await metric('parley_push_suppressed_total{reason="muted"}')) === mutedBefore + 1,
    5000,
    'the plain message muted',
  );
  const edit = (text: string) =>
    http(server.baseUrl, 'PATCH', `/v1/channels/${dmId}/messages/${plain}`, { token: alice.token, body: { text } });
  expect((await edit('still no names')).status).toBe(200);
  expect((await edit(`now with @${bob.user.username}`)).body.message.mentions).toEqual([bob.user.id]);
  windowPasses();
  await eventually(() => laptop().length === before + 2, 5000, 'the newly mentioned user’s notification');
  expect(laptop().at(-1)!.body.parley).toMatchObject({ messageId: plain });
  // Editing again, still mentioning him, tells him nothing new.
  expect((await edit(`again @${bob.user.username}`)).status).toBe(200);
  const quiet = await send(`and a last @${bob.user.username}`);
  windowPasses();
  await eventually(() => laptop().length === before + 3, 5000, 'the next mention');
  expect(laptop().at(-1)!.body.parley).toMatchObject({ messageId: quiet, count: 1 });
});
