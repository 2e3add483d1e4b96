/**
 * The AccountStore contract (ports/store.ts).
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore } from '../store.js';
import { at, createUser, expectStoreError, nextId, type PortHarness } from './suite.js';

export function describeAccountStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<AccountStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`AccountStore contract: ${name}`, () => {
    let harness: PortHarness<AccountStore>;
    let store: AccountStore;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(() => harness.cleanup());
    const user = (username: string) => createUser(store, username);

    describe('accounts', () => {
      it('finds a user by username case-insensitively, with the exact 64-bit id', async () => {
        const id = await user('Alice');
        const found = await store.findUserByUsername('ALICE');
        expect(found).toMatchObject({ id, username: 'alice', displayName: 'ALICE', passwordHash: 'h' });
      });

      it('rejects a taken username as a conflict', async () => {
        await user('alice');
        await expectStoreError(user('ALICE'), 'conflict');
      });

      it('searches users by username prefix, in username order', async () => {
        await user('bob');
        await user('bobby');
        await user('alice');
        const found = await store.searchUsers('bo', 10);
        expect(found.map((u) => u.username)).toEqual(['bob', 'bobby']);
      });

      it('updates a profile and clears the status text with null', async () => {
        const id = await user('carol');
        expect((await store.updateProfile(id, { statusText: 'busy' }, [], at())).user).toMatchObject({
          statusText: 'busy',
        });
        const updated = await store.updateProfile(id, { displayName: 'Carol C', statusText: null }, [], at());
        expect(updated.user).toEqual({ id, username: 'carol', displayName: 'Carol C' });
      });

      it('finds a device by token hash until it is revoked', async () => {
        const userId = await user('dave');
        const deviceId = nextId();
        await store.createDevice({ id: deviceId, userId, name: 'phone', tokenHash: 'th', createdAt: at() });
        expect(await store.findDeviceByTokenHash('th')).toEqual({ deviceId, userId, lastUsedAt: at() });
        await store.revokeDevice(deviceId);
        expect(await store.findDeviceByTokenHash('th')).toBeUndefined();
      });

      it("records a device's last use, which its token lookup reports", async () => {
        const userId = await user('dora');
        const deviceId = nextId();
        await store.createDevice({ id: deviceId, userId, name: 'phone', tokenHash: 'tu', createdAt: at() });
        await store.touchDevice(deviceId, at(90_000));
        expect(await store.findDeviceByTokenHash('tu')).toEqual({ deviceId, userId, lastUsedAt: at(90_000) });
      });

      it('keeps last-seen times', async () => {
        const a = await user('erin');
        const b = await user('frank');
        const c = await user('grace');
        await store.setLastSeen([a, c], at(5));
        const seen = await store.getLastSeen([a, b, c]);
        expect([...seen].sort()).toEqual(
          [
            [a, at(5)],
            [c, at(5)],
          ].sort(),
        );
      });
    });
  });
}
