/**
 * The APNs and FCM providers against local servers that check requests as Apple and Google
 * document them (push-services.ts), and answer with their documented errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApnsProvider } from '../src/adapters/apns/apns-provider.js';
import { FcmProvider } from '../src/adapters/fcm/fcm-provider.js';
import type { PushNotification, PushSubscriptionRecord } from '../src/ports/push.js';
import { makeTls, startFakeApns, startFakeFcm, type FakeApns, type FakeFcm, type Tls } from './push-services.js';

let tls: Tls;
let apnsServer: FakeApns;
let fcmServer: FakeFcm;

beforeAll(async () => {
  tls = await makeTls();
  [apnsServer, fcmServer] = await Promise.all([startFakeApns(tls), startFakeFcm(tls)]);
});
afterAll(async () => {
  await Promise.all([apnsServer.close(), fcmServer.close()]);
  await tls.cleanup();
});

const notification: PushNotification = {
  title: 'Alice in Hikers',
  body: '3 new messages',
  payload: JSON.stringify({
    title: 'Alice in Hikers',
    body: '3 new messages',
    channelId: '7400000000000000042',
    channelName: 'Hikers',
    messageId: '7400000000000000099',
    count: 3,
    tag: '7400000000000000042',
  }),
  collapseKey: '7400000000000000042',
};

const registration = (provider: 'apns' | 'fcm', token: string): PushSubscriptionRecord => ({
  provider,
  endpoint: token,
  p256dh: '',
  auth: '',
  userId: '1',
  deviceId: '2',
  createdAt: '2026-06-01T00:00:00.000Z',
});

describe('APNs', () => {
  const provider = () =>
    new ApnsProvider({
      privateKey: apnsServer.privateKey,
      keyId: apnsServer.keyId,
      teamId: apnsServer.teamId,
      topic: apnsServer.topic,
      baseUrl: apnsServer.url,
      ca: tls.ca,
      timeoutMs: 5000,
    });

  it('sends an alert Apple accepts: signed provider token, topic, push type, collapse id, payload', async () => {
    const apns = provider();
    expect(await apns.send(registration('apns', 'aa01'), notification)).toEqual({ status: 'delivered' });
    const [request] = apnsServer.delivered.filter((r) => r.token === 'aa01');
    expect(request!.headers['apns-collapse-id']).toBe('7400000000000000042');
    expect(request!.headers['apns-priority']).toBe('10');
    expect(request!.body.aps.alert).toEqual({ title: 'Alice in Hikers', body: '3 new messages' });
    expect(request!.body.aps['thread-id']).toBe('7400000000000000042');
    expect(request!.body.parley).toMatchObject({ channelId: '7400000000000000042', count: 3 });
    apns.close();
  });

  it('reuses its provider token for 50 minutes, then signs a new one', () => {
    let now = Date.UTC(2026, 5, 1);
    const apns = new ApnsProvider({
      privateKey: apnsServer.privateKey,
      keyId: 'K',
      teamId: 'T',
      topic: 't',
      now: () => now,
    });
    const first = apns.providerToken();
    now += 49 * 60_000;
    expect(apns.providerToken()).toBe(first);
    now += 2 * 60_000;
    expect(apns.providerToken()).not.toBe(first);
  });

  it('reports BadDeviceToken and Unregistered (410) as gone', async () => {
    const apns = provider();
    apnsServer.script.set('bb01', [{ status: 400, reason: 'BadDeviceToken' }]);
    apnsServer.script.set('bb02', [{ status: 410, reason: 'Unregistered' }]);
    expect(await apns.send(registration('apns', 'bb01'), notification)).toEqual({ status: 'gone' });
    expect(await apns.send(registration('apns', 'bb02'), notification)).toEqual({ status: 'gone' });
    apns.close();
  });

  it('asks for a retry on 429 and 5xx, with Retry-After when given', async () => {
    const apns = provider();
    apnsServer.script.set('cc01', [{ status: 429, reason: 'TooManyRequests', retryAfter: '7' }]);
    apnsServer.script.set('cc02', [{ status: 503, reason: 'ServiceUnavailable' }]);
    expect(await apns.send(registration('apns', 'cc01'), notification)).toEqual({
      status: 'retry',
      reason: '429 TooManyRequests',
      retryAfterMs: 7000,
    });
    expect(await apns.send(registration('apns', 'cc02'), notification)).toMatchObject({ status: 'retry' });
    apns.close();
  });

  it('asks for a retry when nothing answers', async () => {
    const apns = new ApnsProvider({
      privateKey: apnsServer.privateKey,
      keyId: apnsServer.keyId,
      teamId: apnsServer.teamId,
      topic: apnsServer.topic,
      baseUrl: 'https://127.0.0.1:1',
      ca: tls.ca,
    });
    expect(await apns.send(registration('apns', 'dd01'), notification)).toMatchObject({ status: 'retry' });
    apns.close();
  });
});

describe('FCM', () => {
  const provider = () =>
    new FcmProvider({ serviceAccount: fcmServer.serviceAccount, baseUrl: fcmServer.url, ca: tls.ca, timeoutMs: 5000 });

  it('gets an access token by the JWT bearer grant, caches it, and sends a collapsible message', async () => {
    const fcm = provider();
    const before = fcmServer.tokensIssued;
    expect(await fcm.send(registration('fcm', 'tok-a'), notification)).toEqual({ status: 'delivered' });
    expect(await fcm.send(registration('fcm', 'tok-a'), notification)).toEqual({ status: 'delivered' });
    expect(fcmServer.tokensIssued - before).toBe(1);
    const sent = fcmServer.delivered.filter((r) => r.message.token === 'tok-a');
    expect(sent).toHaveLength(2);
    expect(sent[0]!.message.android).toEqual({
      collapse_key: '7400000000000000042',
      priority: 'high',
      notification: { tag: '7400000000000000042' },
    });
    expect(sent[0]!.message.notification).toEqual({ title: 'Alice in Hikers', body: '3 new messages' });
    expect(sent[0]!.message.data).toMatchObject({ channelId: '7400000000000000042', count: '3' });
  });

  it('reports UNREGISTERED (404) as gone', async () => {
    fcmServer.script.set('tok-gone', [{ status: 404, reason: 'Requested entity was not found.' }]);
    expect(await provider().send(registration('fcm', 'tok-gone'), notification)).toEqual({ status: 'gone' });
  });

  it('asks for a retry on 429 and 503, honouring Retry-After', async () => {
    fcmServer.script.set('tok-busy', [
      { status: 429, retryAfter: '3' },
      { status: 503, retryAfter: '11' },
    ]);
    const fcm = provider();
    expect(await fcm.send(registration('fcm', 'tok-busy'), notification)).toMatchObject({
      status: 'retry',
      retryAfterMs: 3000,
    });
    expect(await fcm.send(registration('fcm', 'tok-busy'), notification)).toMatchObject({
      status: 'retry',
      retryAfterMs: 11_000,
    });
    expect(await fcm.send(registration('fcm', 'tok-busy'), notification)).toEqual({ status: 'delivered' });
  });
});
