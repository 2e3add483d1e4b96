/**
 * The AccountStore contract (ports/store.ts).
 * Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore, NewUser } from '../store.js';
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

    describe('roles, devices, deactivation and deletion', () => {
      const device = async (userId: string, tokenHash: string, offset = 0) => {
        const id = nextId();
        await store.createDevice({ id, userId, name: `d-${tokenHash}`, tokenHash, createdAt: at(offset) });
        return id;
      };
      const newUser = (username: string, extra: Partial<NewUser> = {}): NewUser => ({
        id: nextId(),
        username,
        displayName: username,
        passwordHash: 'h',
        createdAt: at(),
        ...extra,
      });

      it('makes a member by default and the given role otherwise', async () => {
        expect(await store.createUser(newUser('mia'))).toEqual({ status: 'created', role: 'member' });
        expect(await store.createUser(newUser('max', { role: 'admin' }))).toEqual({ status: 'created', role: 'admin' });
        expect((await store.findUserByUsername('max'))?.role).toBe('admin');
      });

      it('makes exactly one of concurrent first sign-ups the admin', async () => {
        const results = await Promise.all(
          ['u1', 'u2', 'u3', 'u4'].map((name) => store.createUser(newUser(name, { adminIfFirst: true }))),
        );
        const roles = results.map((r) => (r.status === 'created' ? r.role : 'stale'));
        expect(roles.filter((role) => role === 'admin')).toHaveLength(1);
        expect(roles.filter((role) => role === 'member')).toHaveLength(3);
      });

      it('creates an onlyIfFirst user on an empty store only, once among concurrent ones', async () => {
        const results = await Promise.all(
          ['f1', 'f2', 'f3'].map((name) => store.createUser(newUser(name, { onlyIfFirst: true, adminIfFirst: true }))),
        );
        expect(results.filter((r) => r.status === 'created')).toEqual([{ status: 'created', role: 'admin' }]);
        expect(await store.createUser(newUser('f4', { onlyIfFirst: true }))).toEqual({ status: 'stale' });
      });

      it('does not make a later sign-up admin', async () => {
        await user('first');
        expect(await store.createUser(newUser('second', { adminIfFirst: true }))).toEqual({
          status: 'created',
          role: 'member',
        });
      });

      it('lists live devices, oldest first, without revoked ones', async () => {
        const userId = await user('dan');
        const one = await device(userId, 'd1');
        const two = await device(userId, 'd2', 1000);
        await store.touchDevice(two, at(5000));
        await store.revokeDevice(one);
        expect(await store.listDevices(userId)).toEqual([
          { id: two, name: 'd-d2', createdAt: at(1000), lastUsedAt: at(5000) },
        ]);
      });

      it('changes a password and revokes every other device in one change', async () => {
        const userId = await user('pat');
        const keep = await device(userId, 'p1');
        const other = await device(userId, 'p2');
        const { revokedDeviceIds } = await store.changeAccount({
          userId,
          passwordHash: 'h2',
          revokeDevices: { except: keep },
          at: at(1),
        });
        expect(revokedDeviceIds).toEqual([other]);
        expect((await store.getUser(userId))?.passwordHash).toBe('h2');
        expect(await store.findDeviceByTokenHash('p1')).toBeDefined();
        expect(await store.findDeviceByTokenHash('p2')).toBeUndefined();
      });

      it('finds no token of a deactivated user, and finds them again after reactivation', async () => {
        const userId = await user('dee');
        await device(userId, 'x1');
        const changed = await store.changeAccount({ userId, deactivatedAt: at(1), at: at(1) });
        expect(changed.revokedDeviceIds).toEqual([]);
        expect(await store.findDeviceByTokenHash('x1')).toBeUndefined();
        expect((await store.getUser(userId))?.deactivatedAt).toBe(at(1));
        expect(await store.searchUsers('dee', 10)).toEqual([]);
        await store.changeAccount({ userId, deactivatedAt: null, at: at(2) });
        expect(await store.findDeviceByTokenHash('x1')).toBeDefined();
      });

      it('changes the role', async () => {
        const userId = await user('rob');
        await store.changeAccount({ userId, role: 'admin', at: at() });
        expect((await store.getUser(userId))?.role).toBe('admin');
      });

      it('refuses a change or deletion of an unknown user as not_found', async () => {
        await expectStoreError(store.changeAccount({ userId: nextId(), role: 'admin', at: at() }), 'not_found');
        await expectStoreError(
          store.deleteAccount({ userId: nextId(), eraseMessages: false, at: at(), events: [] }),
          'not_found',
        );
      });

      it('pages all accounts by username, with a prefix', async () => {
        for (const name of ['ann', 'anna', 'annie', 'bob']) await user(name);
        const first = await store.listAccounts({ prefix: 'an', limit: 2 });
        expect(first.map((u) => u.username)).toEqual(['ann', 'anna']);
        const second = await store.listAccounts({ prefix: 'an', after: 'anna', limit: 2 });
        expect(second.map((u) => u.username)).toEqual(['annie']);
        expect((await store.listAccounts({ prefix: '', limit: 10 })).map((u) => u.username)).toEqual([
          'ann',
          'anna',
          'annie',
          'bob',
        ]);
      });

      it('anonymises a deleted account, frees its username and revokes its devices', async () => {
        const userId = await user('gone');
        await device(userId, 'g1');
        const { revokedDeviceIds } = await store.deleteAccount({ userId, eraseMessages: false, at: at(1), events: [] });
        expect(revokedDeviceIds).toHaveLength(1);
        expect(await store.findDeviceByTokenHash('g1')).toBeUndefined();
        expect(await store.findUserByUsername('gone')).toBeUndefined();
        const record = await store.getUser(userId);
        expect(record).toMatchObject({ id: userId, username: `deleted-${userId}`, displayName: 'Deleted user' });
        expect(record?.deletedAt).toBe(at(1));
        expect(record?.passwordHash).toBe('');
        await user('gone');
      });

      it('counts users that are not deleted, and the deactivated among them', async () => {
        const a = await user('c1');
        const b = await user('c2');
        await user('c3');
        await store.changeAccount({ userId: a, deactivatedAt: at(), at: at() });
        await store.deleteAccount({ userId: b, eraseMessages: false, at: at(), events: [] });
        const figures = await store.figures('0');
        expect(figures).toMatchObject({ users: 2, deactivatedUsers: 1, messagesPerDay: [] });
        expect(figures.storageBytes).toBeGreaterThan(0);
      });
    });
  });
}
