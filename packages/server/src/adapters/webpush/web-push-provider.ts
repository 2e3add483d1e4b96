import type { Agent } from 'node:https';
import webpush from 'web-push';
import type { PushNotification, PushOutcome, PushProvider, PushSubscriptionRecord } from '../../ports/push.js';
import { isRetryableStatus, retryAfterMs } from '../push-http.js';

export interface WebPushProviderOptions {
  vapidPublicKey: string;
  vapidPrivateKey: string;
  /** mailto: or https: contact for the push service operator. */
  subject: string;
  /** Seconds the push service keeps an undelivered notification. */
  ttlSeconds?: number;
  /** A request taking longer is abandoned and retried later. */
  timeoutMs?: number;
  /** For a proxy or a private CA. */
  agent?: Agent;
}

/**
 * Web Push (RFC 8030 + VAPID, payload encrypted per RFC 8291) through the `web-push` library.
 * The conversation is the message's Topic (RFC 8030 §5.4): the push service replaces an
 * undelivered notification of the same conversation; the service worker's `tag` does the same
 * on the screen.
 */
export class WebPushProvider implements PushProvider {
  readonly kind = 'webpush' as const;
  constructor(private readonly options: WebPushProviderOptions) {}

  static generateKeys(): { publicKey: string; privateKey: string } {
    return webpush.generateVAPIDKeys();
  }

  async send(subscription: PushSubscriptionRecord, notification: PushNotification): Promise<PushOutcome> {
    try {
      await webpush.sendNotification(
        { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
        notification.payload,
        {
          vapidDetails: {
            subject: this.options.subject,
            publicKey: this.options.vapidPublicKey,
            privateKey: this.options.vapidPrivateKey,
          },
          TTL: this.options.ttlSeconds ?? 24 * 3600,
          // Topic: at most 32 characters of the URL-safe base64 alphabet; channel ids are digits.
          topic: notification.collapseKey.slice(0, 32),
          urgency: 'high',
          timeout: this.options.timeoutMs ?? 10_000,
          ...(this.options.agent ? { agent: this.options.agent } : {}),
        },
      );
      return { status: 'delivered' };
    } catch (error) {
      const { statusCode, headers, body } = error as {
        statusCode?: number;
        headers?: Record<string, string>;
        body?: string;
      };
      if (statusCode === undefined) {
        return { status: 'retry', reason: error instanceof Error ? error.message : 'no answer' };
      }
      if (statusCode === 404 || statusCode === 410) return { status: 'gone' };
      const reason = `${statusCode} ${String(body ?? '').slice(0, 200)}`;
      if (isRetryableStatus(statusCode)) {
        const after = retryAfterMs(headers?.['retry-after']);
        return after === undefined ? { status: 'retry', reason } : { status: 'retry', reason, retryAfterMs: after };
      }
      return { status: 'failed', reason };
    }
  }
}
