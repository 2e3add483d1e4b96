/**
 * Firebase Cloud Messaging, HTTP v1 API, with Node's own `https` and `crypto`.
 *
 * Authentication: an OAuth2 access token from the service-account key, by the JWT bearer grant
 * (RFC 7523): an RS256 JWT `{iss: client_email, scope: firebase.messaging, aud: token_uri, iat,
 * exp}` is posted to the key's `token_uri`; the token is reused until a minute before it
 * expires (or until FCM answers 401).
 *
 * Sending: `POST {baseUrl}/v1/projects/{project_id}/messages:send` with `{message: {token,
 * notification, data, android: {collapse_key, priority, notification: {tag}}}}`. Answers: 200
 * delivered; 404 or errorCode UNREGISTERED: the token is gone; 400 INVALID_ARGUMENT naming the
 * token: gone too; 401: a new access token, retried; 429 / 5xx: retried, honouring Retry-After;
 * other 4xx: refused.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { PushNotification, PushOutcome, PushProvider, PushSubscriptionRecord } from '../../ports/push.js';
import { isRetryableStatus, retryAfterMs } from '../push-http.js';

/** The fields of a service-account key file that are used. */
export interface ServiceAccountKey {
  project_id: string;
  client_email: string;
  private_key: string;
  /** https://oauth2.googleapis.com/token in real keys. */
  token_uri: string;
}

export interface FcmProviderOptions {
  serviceAccount: ServiceAccountKey;
  /** https://fcm.googleapis.com (default), or a test server. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Extra trusted CA (PEM), for a test server. */
  ca?: string;
  now?: () => number;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class FcmProvider implements PushProvider {
  readonly kind = 'fcm' as const;
  readonly #key: KeyObject;
  readonly #baseUrl: string;
  readonly #now: () => number;
  #accessToken: { token: string; until: number } | undefined;
  #fetching: Promise<string> | undefined;

  constructor(private readonly options: FcmProviderOptions) {
    this.#key = createPrivateKey(options.serviceAccount.private_key);
    this.#baseUrl = options.baseUrl ?? 'https://fcm.googleapis.com';
    this.#now = options.now ?? Date.now;
  }

  async send(subscription: PushSubscriptionRecord, notification: PushNotification): Promise<PushOutcome> {
    const payload = JSON.parse(notification.payload) as Record<string, unknown>;
    const message = {
      message: {
        token: subscription.endpoint,
        notification: { title: notification.title, body: notification.body },
        // FCM data values are strings.
        data: Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])),
        android: {
          collapse_key: notification.collapseKey,
          priority: 'high',
          notification: { tag: notification.collapseKey },
        },
      },
    };
    let answer: HttpAnswer;
    try {
      const token = await this.accessToken();
      answer = await this.#request(
        `${this.#baseUrl}/v1/projects/${encodeURIComponent(this.options.serviceAccount.project_id)}/messages:send`,
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        JSON.stringify(message),
      );
    } catch (error) {
      return { status: 'retry', reason: error instanceof Error ? error.message : 'no answer' };
    }
    if (answer.status === 200) return { status: 'delivered' };
    const error = parseError(answer.body);
    const why = `${answer.status} ${error.status ?? ''} ${error.errorCode ?? ''}`.trim();
    if (answer.status === 404 || error.errorCode === 'UNREGISTERED') return { status: 'gone' };
    if (answer.status === 400 && error.errorCode === 'INVALID_ARGUMENT' && /token/i.test(error.message ?? '')) {
      return { status: 'gone' };
    }
    if (answer.status === 401) {
      this.#accessToken = undefined;
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

  /** A cached OAuth2 access token, fetched by the JWT bearer grant when none is valid. */
  async accessToken(): Promise<string> {
    if (this.#accessToken !== undefined && this.#now() < this.#accessToken.until) return this.#accessToken.token;
    this.#fetching ??= this.#fetchToken().finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }

  async #fetchToken(): Promise<string> {
    const key = this.options.serviceAccount;
    const iat = Math.floor(this.#now() / 1000);
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({ iss: key.client_email, scope: SCOPE, aud: key.token_uri, iat, exp: iat + 3600 }),
    ).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), this.#key).toString('base64url');
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: `${header}.${claims}.${signature}`,
    });
    const answer = await this.#request(
      key.token_uri,
      { 'content-type': 'application/x-www-form-urlencoded' },
      form.toString(),
    );
    if (answer.status !== 200) throw new Error(`FCM token endpoint answered ${answer.status}`);
    const { access_token, expires_in } = JSON.parse(answer.body) as { access_token: string; expires_in: number };
    this.#accessToken = { token: access_token, until: this.#now() + Math.max(0, expires_in - 60) * 1000 };
    return access_token;
  }

  #request(url: string, headers: Record<string, string>, body: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const request = https.request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: this.options.timeoutMs ?? 10_000,
          ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('FCM did not answer in time')));
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** `{error: {code, message, status, details: [{@type, errorCode}]}}`, as far as it is there. */
function parseError(body: string): { status?: string; errorCode?: string; message?: string } {
  try {
    const { error } = JSON.parse(body) as {
      error?: { message?: string; status?: string; details?: { errorCode?: string }[] };
    };
    const errorCode = error?.details?.find((d) => d.errorCode !== undefined)?.errorCode;
    const result: { status?: string; errorCode?: string; message?: string } = {};
    if (error?.status !== undefined) result.status = error.status;
    if (errorCode !== undefined) result.errorCode = errorCode;
    if (error?.message !== undefined) result.message = error.message;
    return result;
  } catch {
    return {};
  }
}
