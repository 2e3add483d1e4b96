/**
 * Web Push end to end: the server encrypts and signs real Web Push requests to a push service
 * (a local HTTPS server with a throwaway certificate), which decrypts them as a browser would.
 */
import { execFileSync } from 'node:child_process';
import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ece from 'http_ece';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@parley/server';
import { WebPushProvider } from '../src/adapters/webpush/web-push-provider.js';
import { eventually, http, signup, TestSocket } from './harness.js';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let certDir: string;
let pushService: Server;
let pushBase: string;
const received: Received[] = [];
let server: RunningServer;

beforeAll(async () => {
  certDir = await mkdtemp(path.join(tmpdir(), 'parley-push-'));
  const key = path.join(certDir, 'key.pem');
  const cert = path.join(certDir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const [keyPem, certPem] = await Promise.all([readFile(key), readFile(cert)]);
  pushService = createServer({ key: keyPem, cert: certPem }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(request.url?.startsWith('/gone') ? 410 : 201).end();
    });
  });
  await new Promise<void>((resolve) => pushService.listen(0, '127.0.0.1', resolve));
  pushBase = `https://127.0.0.1:${(pushService.address() as AddressInfo).port}`;
  const vapid = WebPushProvider.generateKeys();
  server = await startServer({
    env: { PARLEY_PUSH_COALESCE_MS: '0', PARLEY_PUSH_POLL_MS: '20' },
    pushProviders: [
      new WebPushProvider({
        vapidPublicKey: vapid.publicKey,
        vapidPrivateKey: vapid.privateKey,
        subject: 'mailto:ops@example.com',
        agent: new Agent({ ca: certPem }),
      }),
    ],
  });
});

afterAll(async () => {
  await server.close();
  await new Promise((resolve) => pushService.close(resolve));
  await rm(certDir, { recursive: true, force: true });
});

/** A browser-like subscription: the push service URL plus the keys to encrypt for. */
async function subscribe(token: string, name: string): Promise<{ endpoint: string; ecdh: ECDH; auth: Buffer }> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const endpoint = `${pushBase}/${name}`;
  const res = await http(server.baseUrl, 'POST', '/v1/push/subscriptions', {
    token,
    body: { endpoint, keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') } },
  });
  expect(res.status).toBe(201);
  return { endpoint, ecdh, auth };
}

function decrypt(request: Received, subscription: { ecdh: ECDH; auth: Buffer }): any {
  const plain = ece.decrypt(request.body, {
    version: 'aes128gcm',
    privateKey: subscription.ecdh,
    authSecret: subscription.auth,
  });
  return JSON.parse(plain.toString('utf8'));
}

it('publishes the VAPID key clients subscribe with', async () => {
  const res = await http(server.baseUrl, 'GET', '/v1/push/config');
  expect(res.body).toEqual({ enabled: true, providers: ['webpush'], vapidPublicKey: expect.any(String) });
});

it('sends an encrypted, VAPID-signed notification to an offline member, and none to an online one', async () => {
  const alice = await signup(server.baseUrl, 'pushA');
  const bob = await signup(server.baseUrl, 'pushB');
  const carol = await signup(server.baseUrl, 'pushC');
  const bobSub = await subscribe(bob.token, 'bob');
  const carolSub = await subscribe(carol.token, 'carol');
  const group = await http(server.baseUrl, 'POST', '/v1/groups', {
    token: alice.token,
    body: { name: 'Hikers', memberIds: [bob.user.id, carol.user.id] },
  });
  const bobOnline = await TestSocket.connect(server.wsUrl, bob.token);
  const sent = await http(server.baseUrl, 'POST', `/v1/channels/${group.body.channel.id}/messages`, {
    token: alice.token,
    body: { text: 'summit at noon', clientMsgId: 'p1' },
  });
  await eventually(() => received.some((r) => r.path === '/carol'), 5000, 'carol’s push');
  const toCarol = received.find((r) => r.path === '/carol')!;
  expect(String(toCarol.headers.authorization)).toMatch(/^vapid t=.+, k=.+/);
  // The conversation is the Topic: the push service replaces an undelivered earlier one.
  expect(toCarol.headers.topic).toBe(group.body.channel.id);
  expect(decrypt(toCarol, carolSub)).toEqual({
    title: `${alice.user.displayName} in Hikers`,
    body: 'summit at noon',
    channelId: group.body.channel.id,
    channelName: 'Hikers',
    messageId: sent.body.message.id,
    count: 1,
    tag: group.body.channel.id,
  });
  expect(received.filter((r) => r.path === '/bob')).toEqual([]);
  expect(bobSub.endpoint).toContain('/bob');
  await bobOnline.close();
});

it('forgets a subscription the push service reports gone', async () => {
  const alice = await signup(server.baseUrl, 'goneA');
  const bob = await signup(server.baseUrl, 'goneB');
  const dave = await signup(server.baseUrl, 'goneD');
  await subscribe(bob.token, 'gone-bob');
  await subscribe(dave.token, 'dave');
  const group = await http(server.baseUrl, 'POST', '/v1/groups', {
    token: alice.token,
    body: { name: 'G', memberIds: [bob.user.id, dave.user.id] },
  });
  const channelId = group.body.channel.id;
  for (const clientMsgId of ['g1', 'g2']) {
    const before = received.filter((r) => r.path === '/dave').length;
    await http(server.baseUrl, 'POST', `/v1/channels/${channelId}/messages`, {
      token: alice.token,
      body: { text: 'ping', clientMsgId },
    });
    await eventually(() => received.filter((r) => r.path === '/dave').length > before, 5000, 'dave’s push');
  }
  expect(received.filter((r) => r.path === '/gone-bob')).toHaveLength(1);
});

it('refuses a non-https endpoint', async () => {
  const user = await signup(server.baseUrl, 'pushX');
  const res = await http(server.baseUrl, 'POST', '/v1/push/subscriptions', {
    token: user.token,
    body: { endpoint: 'http://insecure.example/x', keys: { p256dh: 'a', auth: 'b' } },
  });
  expect(res.body.error.code).toBe('invalid_request');
});
