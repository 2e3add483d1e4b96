/**
 * Web Push: the server says whether it has VAPID keys (GET /v1/push/config); the browser
 * subscribes through the service worker and the subscription is stored per device on the
 * server (POST/DELETE /v1/push/subscriptions). The service worker shows the notifications.
 */
import type { Backend } from './state/backend';

type Api = Backend['api'];

export type PushState = 'unsupported' | 'off' | 'on' | 'blocked';

export function pushSupported(): boolean {
  return (
    typeof window !== 'undefined' &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    typeof Notification !== 'undefined'
  );
}

/** The server's VAPID public key, or undefined when push is not configured there. */
export async function pushKey(api: Api): Promise<string | undefined> {
  const config = await api.request<{ enabled: boolean; vapidPublicKey?: string }>('GET', '/v1/push/config');
  return config.enabled ? config.vapidPublicKey : undefined;
}

export async function pushState(api: Api): Promise<PushState> {
  if (!pushSupported()) return 'unsupported';
  const key = await pushKey(api).catch(() => undefined);
  if (!key) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  return subscription ? 'on' : 'off';
}

/** Why turning notifications on did not work, so the switch can say so instead of just flipping back. */
export class PushUnavailable extends Error {
  constructor(
    /** dismissed: the permission prompt was closed; service: the browser's push service refused; server: registering failed. */
    readonly reason: 'dismissed' | 'service' | 'server',
    cause: unknown = undefined,
  ) {
    super(`push unavailable: ${reason}`, { cause });
  }
}

/** Turns notifications on; throws PushUnavailable with the reason when that is not possible. */
export async function enablePush(api: Api): Promise<PushState> {
  const key = await pushKey(api);
  if (!key) return 'unsupported';
  const permission = await Notification.requestPermission();
  if (permission === 'denied') return 'blocked';
  if (permission !== 'granted') throw new PushUnavailable('dismissed');
  const registration = await navigator.serviceWorker.ready;
  let subscription: PushSubscription;
  try {
    subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: base64UrlToBytes(key),
      }));
  } catch (error) {
    throw new PushUnavailable('service', error);
  }
  const json = subscription.toJSON() as { endpoint?: string; keys?: { p256dh?: string; auth?: string } };
  try {
    await api.request('POST', '/v1/push/subscriptions', {
      body: { endpoint: json.endpoint, keys: { p256dh: json.keys?.p256dh, auth: json.keys?.auth } },
    });
  } catch (error) {
    await subscription.unsubscribe().catch(() => false);
    throw new PushUnavailable('server', error);
  }
  return 'on';
}

/** Unsubscribes here and on the server (best effort on the server: logout removes it anyway). */
export async function disablePush(api: Api | undefined): Promise<void> {
  if (!pushSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  const endpoint = subscription.endpoint;
  await subscription.unsubscribe().catch(() => false);
  if (api) await api.request('DELETE', '/v1/push/subscriptions', { body: { endpoint } }).catch(() => undefined);
}

/** VAPID keys travel as unpadded base64url. */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (value.length % 4)) % 4);
  const raw = atob(base64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
