import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushSubscriptionRecord, PushSubscriptionStore } from '../push.js';
import type { AccountStore } from '../store.js';
import type { PortHarness } from './suite.js';

/** Subscriptions belong to users' devices, so the store holds accounts too. */
export type PushSubscriptionHarness = PortHarness<PushSubscriptionStore & AccountStore>;

/** The PushSubscriptionStore part of the Store contract, run against every backend. */
export function describePushSubscriptionStoreContract(
  name: string,
  makeHarness: () => Promise<PushSubscriptionHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`PushSubscriptionStore contract: ${name}`, () => {
    let harness: PushSubscriptionHarness;
    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(() => harness.cleanup());

    const userId = '7400000000000000101';
    const deviceId = '7400000000000000102';
    const subscription = (
      endpoint: string,
      overrides: Partial<PushSubscriptionRecord> = {},
    ): PushSubscriptionRecord => ({
      provider: 'webpush',
      endpoint,
      p256dh: 'p',
      auth: 'a',
      userId,
      deviceId,
      createdAt: '2026-06-01T00:00:00.000Z',
      ...overrides,
    });

    beforeEach(async () => {
      await harness.store.createUser({
        id: userId,
        username: 'pushy',
        displayName: 'P',
        passwordHash: 'h',
        createdAt: '2026-06-01T00:00:00.000Z',
      });
      await harness.store.createDevice({
        id: deviceId,
        userId,
        name: 'd',
        tokenHash: 't',
        createdAt: '2026-06-01T00:00:00.000Z',
      });
    });

    it('saves, replaces by endpoint and lists by user', async () => {
      await harness.store.savePushSubscription(subscription('https://push.example/1'));
      await harness.store.savePushSubscription(subscription('https://push.example/1', { p256dh: 'new' }));
      await harness.store.savePushSubscription(subscription('https://push.example/2'));
      const listed = await harness.store.pushSubscriptions([userId]);
      expect(listed.map((s) => [s.endpoint, s.p256dh])).toEqual([
        ['https://push.example/1', 'new'],
        ['https://push.example/2', 'p'],
      ]);
      expect(listed[0]).toMatchObject({ userId, deviceId });
    });

    it('deletes only a subscription of the given user', async () => {
      await harness.store.savePushSubscription(subscription('https://push.example/3'));
      await harness.store.deletePushSubscription('https://push.example/3', '7400000000000000999');
      expect(await harness.store.pushSubscriptions([userId])).toHaveLength(1);
      await harness.store.deletePushSubscription('https://push.example/3', userId);
      expect(await harness.store.pushSubscriptions([userId])).toEqual([]);
    });

    it('keeps phone tokens beside Web Push subscriptions, and deletes all of a device’s', async () => {
      await harness.store.savePushSubscription(subscription('https://push.example/5'));
      await harness.store.savePushSubscription(
        subscription('a1b2c3', { provider: 'apns', p256dh: '', auth: '', createdAt: '2026-06-01T00:00:01.000Z' }),
      );
      await harness.store.savePushSubscription(
        subscription('fcm:tok', { provider: 'fcm', p256dh: '', auth: '', createdAt: '2026-06-01T00:00:02.000Z' }),
      );
      const listed = await harness.store.pushSubscriptions([userId]);
      expect(listed.map((s) => [s.provider, s.endpoint])).toEqual([
        ['webpush', 'https://push.example/5'],
        ['apns', 'a1b2c3'],
        ['fcm', 'fcm:tok'],
      ]);
      await harness.store.deleteDevicePushSubscriptions(deviceId);
      expect(await harness.store.pushSubscriptions([userId])).toEqual([]);
    });

    it('forgets a device’s subscriptions when the device is revoked', async () => {
      await harness.store.savePushSubscription(subscription('https://push.example/4'));
      await harness.store.revokeDevice(deviceId);
      expect(await harness.store.pushSubscriptions([userId])).toEqual([]);
    });
  });
}
