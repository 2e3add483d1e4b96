/**
 * APNs (Apple Push Notification service) over HTTP/2 with token-based authentication.
 *
 * Node's own `http2` and `crypto` do all of it: the provider token is a JWT signed with the
 * team's ES256 key (.p8), `{alg: ES256, kid}` / `{iss: teamId, iat}`, reused for 50 minutes
 * (Apple refuses tokens older than an hour and asks that they not be renewed more often than
 * every 20 minutes). One HTTP/2 session is kept per provider and reopened when it closes.
 *
 * Answers (Apple's "Handling notification responses from APNs"): 200 delivered; 410
 * (Unregistered, ExpiredToken) and 400 BadDeviceToken / DeviceTokenNotForTopic: the token is
 * gone; 403 ExpiredProviderToken / InvalidProviderToken: a new JWT, retried; 429
 * TooManyRequests and 5xx: retried, honouring Retry-After when sent; other 4xx: refused.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import type { PushNotification, PushOutcome, PushProvider, PushSubscriptionRecord } from '../../ports/push.js';
import { isRetryableStatus, retryAfterMs } from '../push-http.js';

export interface ApnsProviderOptions {
  /** The .p8 key (PEM, PKCS#8 EC P-256). */
  privateKey: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id (apns-topic). */
  topic: string;
  /** https://api.push.apple.com (default) or https://api.sandbox.push.apple.com; a test server. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Extra trusted CA (PEM), for a test server. */
  ca?: string;
  /** For tests; Date.now otherwise. */
  now?: () => number;
}

const TOKEN_REUSE_MS = 50 * 60_000;
const GONE_REASONS = new Set(['BadDeviceToken', 'DeviceTokenNotForTopic', 'Unregistered', 'ExpiredToken']);
const STALE_TOKEN_REASONS = new Set(['ExpiredProviderToken', 'InvalidProviderToken']);

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export class ApnsProvider implements PushProvider {
  readonly kind = 'apns' as const;
  readonly #key: KeyObject;
  readonly #baseUrl: string;
  readonly #now: () => number;
  #token: { jwt: string; at: number } | undefined;
  #session: http2.ClientHttp2Session | undefined;

  constructor(private readonly options: ApnsProviderOptions) {
    this.#key = createPrivateKey(options.privateKey);
    this.#baseUrl = options.baseUrl ?? 'https://api.push.apple.com';
    this.#now = options.now ?? Date.now;
  }

  /** The provider JWT, made anew when the cached one is 50 minutes old (or refused). */
  providerToken(): string {
    const now = this.#now();
    if (this.#token !== undefined && now - this.#token.at < TOKEN_REUSE_MS) return this.#token.jwt;
    const header = base64url(JSON.stringify({ alg: 'ES256', kid: this.options.keyId }));
    const claims = base64url(JSON.stringify({ iss: this.options.teamId, iat: Math.floor(now / 1000) }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    this.#token = { jwt: `${header}.${claims}.${base64url(signature)}`, at: now };
    return this.#token.jwt;
  }

  #connect(): http2.ClientHttp2Session {
    if (this.#session !== undefined && !this.#session.closed && !this.#session.destroyed) return this.#session;
    const session = http2.connect(this.#baseUrl, this.options.ca === undefined ? {} : { ca: this.options.ca });
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.unref();
    this.#session = session;
    return session;
  }

  async send(subscription: PushSubscriptionRecord, notification: PushNotification): Promise<PushOutcome> {
    const body = JSON.stringify({
      aps: {
        alert: { title: notification.title, body: notification.body },
        sound: 'default',
        'thread-id': notification.collapseKey,
      },
      parley: JSON.parse(notification.payload) as unknown,
    });
    let answer: { status: number; headers: http2.IncomingHttpHeaders; body: string };
    try {
      answer = await this.#post(subscription.endpoint, body, notification.collapseKey);
    } catch (error) {
      return { status: 'retry', reason: error instanceof Error ? error.message : 'no answer' };
    }
    if (answer.status === 200) return { status: 'delivered' };
    let reason = '';
    try {
      reason = (JSON.parse(answer.body) as { reason?: string }).reason ?? '';
    } catch {
      // not JSON: the status says enough
    }
    if (answer.status === 410 || GONE_REASONS.has(reason)) return { status: 'gone' };
    const why = `${answer.status} ${reason}`.trim();
    if (answer.status === 403 && STALE_TOKEN_REASONS.has(reason)) {
      this.#token = undefined;
      return { status: 'retry', reason: why };
    }
    if (isRetryableStatus(answer.status)) {
      const after = retryAfterMs(answer.headers['retry-after']);
      return after === undefined
        ? { status: 'retry', reason: why }
        : { status: 'retry', reason: why, retryAfterMs: after };
    }
    return { status: 'failed', reason: why };
  }

  #post(
    deviceToken: string,
    body: string,
    collapseId: string,
  ): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const session = this.#connect();
      const request = session.request({
        ':method': 'POST',
        ':path': `/3/device/${encodeURIComponent(deviceToken)}`,
        authorization: `bearer ${this.providerToken()}`,
        'apns-topic': this.options.topic,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        'apns-expiration': String(Math.floor(this.#now() / 1000) + 24 * 3600),
        // At most 64 bytes; channel ids are up to 20 digits.
        'apns-collapse-id': collapseId.slice(0, 64),
        'content-type': 'application/json',
      });
      request.setTimeout(this.options.timeoutMs ?? 10_000, () => {
        request.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error('APNs did not answer in time'));
      });
      let headers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      request.on('response', (h) => (headers = h));
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () =>
        resolve({ status: Number(headers[':status'] ?? 0), headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.#session?.close();
  }
}
