import type { Agent } from 'node:https';
import webpush from 'web-push';
import type { PushOutcome, PushProvider, PushSubscriptionRecord } from '../../ports/push.js';

export interface WebPushProviderOptions {
  vapidPublicKey: string;
  vapidPrivateKey: string;
  /** mailto: or https: contact for the push service operator. */
  subject: string;
  /** Seconds the push service keeps an undelivered notification. */
  ttlSeconds?: number;
  /** For a proxy or a private CA. */
  agent?: Agent;
}

/** Web Push (RFC 8030 + VAPID, payload encrypted per RFC 8291) through the `web-push` library. */
export class WebPushProvider implements PushProvider {
  constructor(private readonly options: WebPushProviderOptions) {}

  static generateKeys(): { publicKey: string; privateKey: string } {
    return webpush.generateVAPIDKeys();
  }

  async send(subscription: PushSubscriptionRecord, payload: string): Promise<PushOutcome> {
    try {
      await webpush.sendNotification(
        { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
        payload,
        {
          vapidDetails: {
            subject: this.options.subject,
            publicKey: this.options.vapidPublicKey,
            privateKey: this.options.vapidPrivateKey,
          },
          TTL: this.options.ttlSeconds ?? 24 * 3600,
          ...(this.options.agent ? { agent: this.options.agent } : {}),
        },
      );
      return 'delivered';
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404 || status === 410) return 'gone';
      throw error;
    }
  }
}
