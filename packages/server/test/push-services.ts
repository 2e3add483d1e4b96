/**
 * Local stand-ins for Apple's and Google's push services, checking requests as their docs
 * describe them, over TLS with a throwaway certificate made here (openssl):
 * - APNs: HTTP/2; `POST /3/device/<token>`; `authorization: bearer <JWT>` verified against the
 *   test key (ES256, `kid` header, `iss` = team id, `iat` within the hour); `apns-topic`,
 *   `apns-push-type: alert`, `apns-priority`, `apns-collapse-id` (≤ 64 bytes); a JSON body with
 *   `aps.alert.{title, body}` under 4 KiB. Answers with Apple's documented statuses and
 *   `{"reason": ...}` bodies.
 * - FCM: the OAuth2 token endpoint (JWT bearer grant: RS256 assertion verified against the
 *   service account's key, `iss`, `scope`, `aud`, `exp`) and `messages:send` (bearer token it
 *   issued; `message.token`, `notification`, string-valued `data`, `android.collapse_key`).
 *   Answers with Google's documented error bodies.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Tls {
  key: Buffer;
  cert: Buffer;
  /** PEM of the certificate, for clients to trust. */
  ca: string;
  cleanup(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1. */
export async function makeTls(): Promise<Tls> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-push-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
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
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const [key, cert] = await Promise.all([readFile(keyFile), readFile(certFile)]);
  return { key, cert, ca: cert.toString('utf8'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Splits and checks a compact JWS; returns header and claims, or throws saying what is wrong. */
export function verifyJwt(
  jwt: string,
  key: KeyObject,
  alg: 'ES256' | 'RS256',
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c, s] = jwt.split('.');
  if (h === undefined || c === undefined || s === undefined) throw new Error('not a JWS');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (header.alg !== alg) throw new Error(`alg ${String(header.alg)}`);
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${c}`),
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('bad signature');
  return { header, claims: JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Record<string, unknown> };
}

export interface ApnsRequest {
  token: string;
  headers: http2.IncomingHttpHeaders;
  body: { aps: { alert: { title: string; body: string }; 'thread-id'?: string }; parley: Record<string, unknown> };
}

/** What the fake answers for one request: a status, and a reason / Retry-After; status 0 never answers. */
export interface Answer {
  status: number;
  reason?: string;
  retryAfter?: string;
}

export interface FakeApns {
  url: string;
  /** The .p8-style key the provider signs with (PKCS#8 PEM). */
  privateKey: string;
  keyId: string;
  teamId: string;
  topic: string;
  /** Requests that passed every check and were accepted (200). */
  delivered: ApnsRequest[];
  /** Every request that reached the server, with the check that failed, if one did. */
  seen: { token: string; problem?: string }[];
  /** Per token: answers to give, in order, before answering 200. */
  script: Map<string, Answer[]>;
  close(): Promise<void>;
}

export async function startFakeApns(tls: Tls): Promise<FakeApns> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const fake: FakeApns = {
    url: '',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyId: 'KEY1234567',
    teamId: 'TEAM123456',
    topic: 'chat.parley.app',
    delivered: [],
    seen: [],
    script: new Map(),
    close: async () => undefined,
  };
  const server = http2.createSecureServer({ key: tls.key, cert: tls.cert });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const answer = (status: number, reason?: string, retryAfter?: string) => {
        stream.respond({
          ':status': status,
          'apns-id': '00000000-0000-0000-0000-000000000000',
          ...(reason === undefined ? {} : { 'content-type': 'application/json' }),
          ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
        });
        stream.end(reason === undefined ? undefined : JSON.stringify({ reason }));
      };
      const match = /^\/3\/device\/([0-9a-zA-Z]+)$/.exec(String(headers[':path']));
      const token = match?.[1] ?? '';
      const problem = checkApns(fake, publicKey, headers, Buffer.concat(chunks));
      fake.seen.push(problem === undefined ? { token } : { token, problem });
      if (headers[':method'] !== 'POST' || match === null) return answer(405, 'MethodNotAllowed');
      if (problem !== undefined) return answer(problem.startsWith('jwt') ? 403 : 400, problem);
      const scripted = fake.script.get(token)?.shift();
      if (scripted?.status === 0) return; // a service that hangs
      if (scripted !== undefined) return answer(scripted.status, scripted.reason, scripted.retryAfter);
      fake.delivered.push({
        token,
        headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ApnsRequest['body'],
      });
      answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Open client sessions would keep close waiting.
      for (const session of sessions) session.destroy();
    });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  return fake;
}

/** Apple's checks, named by the reason APNs would answer. */
function checkApns(
  fake: FakeApns,
  publicKey: KeyObject,
  headers: http2.IncomingHttpHeaders,
  body: Buffer,
): string | undefined {
  const auth = String(headers.authorization ?? '');
  if (!auth.startsWith('bearer ')) return 'jwt: MissingProviderToken';
  try {
    const { header, claims } = verifyJwt(auth.slice('bearer '.length), publicKey, 'ES256');
    if (header.kid !== fake.keyId) return 'jwt: InvalidProviderToken (kid)';
    if (claims.iss !== fake.teamId) return 'jwt: InvalidProviderToken (iss)';
    const iat = Number(claims.iat);
    if (!(Math.abs(Date.now() / 1000 - iat) < 3600)) return 'jwt: ExpiredProviderToken';
  } catch (error) {
    return `jwt: InvalidProviderToken (${(error as Error).message})`;
  }
  if (headers['apns-topic'] !== fake.topic) return 'BadTopic';
  if (headers['apns-push-type'] !== 'alert') return 'InvalidPushType';
  if (!['5', '10'].includes(String(headers['apns-priority']))) return 'BadPriority';
  const collapse = headers['apns-collapse-id'];
  if (typeof collapse !== 'string' || Buffer.byteLength(collapse) > 64) return 'BadCollapseId';
  if (body.length > 4096) return 'PayloadTooLarge';
  try {
    const parsed = JSON.parse(body.toString('utf8')) as ApnsRequest['body'];
    if (typeof parsed.aps?.alert?.title !== 'string' || typeof parsed.aps.alert.body !== 'string')
      return 'PayloadEmpty';
  } catch {
    return 'PayloadEmpty';
  }
  return undefined;
}

export interface FcmRequest {
  message: {
    token: string;
    notification: { title: string; body: string };
    data: Record<string, string>;
    android: { collapse_key: string; priority: string; notification?: { tag?: string } };
  };
}

export interface FakeFcm {
  url: string;
  /** A service-account key whose token_uri points here. */
  serviceAccount: { project_id: string; client_email: string; private_key: string; token_uri: string };
  tokensIssued: number;
  delivered: FcmRequest[];
  seen: { token: string; problem?: string }[];
  script: Map<string, Answer[]>;
  close(): Promise<void>;
}

const FCM_ERRORS: Record<number, { status: string; errorCode: string }> = {
  400: { status: 'INVALID_ARGUMENT', errorCode: 'INVALID_ARGUMENT' },
  404: { status: 'NOT_FOUND', errorCode: 'UNREGISTERED' },
  429: { status: 'RESOURCE_EXHAUSTED', errorCode: 'QUOTA_EXCEEDED' },
  500: { status: 'INTERNAL', errorCode: 'INTERNAL' },
  503: { status: 'UNAVAILABLE', errorCode: 'UNAVAILABLE' },
};

export async function startFakeFcm(tls: Tls): Promise<FakeFcm> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issued = new Set<string>();
  const fake: FakeFcm = {
    url: '',
    serviceAccount: {
      project_id: 'parley-test',
      client_email: 'push@parley-test.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      token_uri: '',
    },
    tokensIssued: 0,
    delivered: [],
    seen: [],
    script: new Map(),
    close: async () => undefined,
  };
  const key = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const json = (status: number, value: unknown, extra: Record<string, string> = {}) =>
        response.writeHead(status, { 'content-type': 'application/json', ...extra }).end(JSON.stringify(value));
      const googleError = (status: number, message: string, retryAfter?: string) => {
        const known = FCM_ERRORS[status] ?? { status: 'UNKNOWN', errorCode: 'UNSPECIFIED_ERROR' };
        json(
          status,
          {
            error: {
              code: status,
              message,
              status: known.status,
              details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: known.errorCode }],
            },
          },
          retryAfter === undefined ? {} : { 'retry-after': retryAfter },
        );
      };
      if (request.url === '/token') {
        const form = new URLSearchParams(body);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
          return json(400, { error: 'unsupported_grant_type' });
        }
        try {
          const { claims } = verifyJwt(form.get('assertion') ?? '', key, 'RS256');
          const now = Date.now() / 1000;
          if (
            claims.iss !== fake.serviceAccount.client_email ||
            claims.aud !== fake.serviceAccount.token_uri ||
            claims.scope !== 'https://www.googleapis.com/auth/firebase.messaging' ||
            !(Number(claims.exp) > now && Number(claims.exp) - Number(claims.iat) <= 3600)
          ) {
            return json(400, { error: 'invalid_grant', error_description: 'claims' });
          }
        } catch (error) {
          return json(400, { error: 'invalid_grant', error_description: (error as Error).message });
        }
        const token = `ya29.test-${++fake.tokensIssued}`;
        issued.add(token);
        return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
      }
      if (request.url !== `/v1/projects/${fake.serviceAccount.project_id}/messages:send` || request.method !== 'POST') {
        return googleError(404, 'no such method');
      }
      const bearer = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!issued.has(bearer)) return googleError(401, 'Request had invalid authentication credentials.');
      let parsed: FcmRequest;
      try {
        parsed = JSON.parse(body) as FcmRequest;
      } catch {
        return googleError(400, 'Invalid JSON payload received.');
      }
      const token = parsed.message?.token ?? '';
      const problem = checkFcm(parsed);
      fake.seen.push(problem === undefined ? { token } : { token, problem });
      if (problem !== undefined) return googleError(400, problem);
      const scripted = fake.script.get(token)?.shift();
      if (scripted !== undefined) {
        return googleError(scripted.status, scripted.reason ?? 'scripted', scripted.retryAfter);
      }
      fake.delivered.push(parsed);
      json(200, { name: `projects/${fake.serviceAccount.project_id}/messages/${fake.delivered.length}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.serviceAccount.token_uri = `${fake.url}/token`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return fake;
}

function checkFcm(request: FcmRequest): string | undefined {
  const m = request.message;
  if (m === undefined || typeof m.token !== 'string' || m.token === '') return 'message.token is required';
  if (typeof m.notification?.title !== 'string' || typeof m.notification.body !== 'string') return 'notification';
  if (m.data !== undefined && Object.values(m.data).some((v) => typeof v !== 'string')) {
    return 'Invalid value at message.data: values must be strings';
  }
  if (typeof m.android?.collapse_key !== 'string') return 'android.collapse_key';
  if (!['high', 'normal', 'HIGH', 'NORMAL'].includes(m.android.priority)) return 'android.priority';
  return undefined;
}
