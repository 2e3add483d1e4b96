/**
 * The InviteStore contract (ports/store.ts), with the invite's use taken by
 * AccountStore.createUser. Run against every backend; each test gets a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore, InviteRecord, InviteStore, NewUser } from '../store.js';
import { at, createUser, expectStoreError, nextId, type PortHarness } from './suite.js';

export function describeInviteStoreContract(
  name: string,
  makeHarness: () => Promise<PortHarness<InviteStore & AccountStore>>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`InviteStore contract: ${name}`, () => {
    let harness: PortHarness<InviteStore & AccountStore>;
    let store: InviteStore & AccountStore;
    let admin: string;
    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
      admin = await createUser(store, 'admin');
    });
    afterEach(() => harness.cleanup());

    const invite = async (extra: Partial<InviteRecord> = {}): Promise<InviteRecord> => {
      const record: InviteRecord = {
        id: nextId(),
        codeHash: `hash-${nextId()}`,
        createdBy: admin,
        createdAt: at(),
        expiresAt: at(86_400_000),
        maxUses: 1,
        uses: 0,
        ...extra,
      };
      await store.createInvite(record);
      return record;
    };
    const signup = (username: string, inviteId: string, expectedUses: number): NewUser => ({
      id: nextId(),
      username,
      displayName: username,
      passwordHash: 'h',
      createdAt: at(),
      invite: { inviteId, expectedUses },
    });

    it('finds an invite by its code hash and by id, as created', async () => {
      const record = await invite({ maxUses: 3 });
      expect(await store.findInvite(record.codeHash)).toEqual(record);
      expect(await store.getInvite(record.id)).toEqual(record);
      expect(await store.findInvite('nope')).toBeUndefined();
    });

    it('takes a use with the sign-up, and refuses a use decided on a stale count', async () => {
      const record = await invite({ maxUses: 2 });
      expect(await store.createUser(signup('one', record.id, 0))).toMatchObject({ status: 'created' });
      expect((await store.getInvite(record.id))?.uses).toBe(1);
      expect(await store.createUser(signup('two', record.id, 0))).toEqual({ status: 'stale' });
      expect(await store.findUserByUsername('two')).toBeUndefined();
    });

    it('gives the last use to exactly one of concurrent sign-ups', async () => {
      const record = await invite({ maxUses: 1 });
      const results = await Promise.all(
        ['r1', 'r2', 'r3'].map((username) => store.createUser(signup(username, record.id, 0))),
      );
      expect(results.filter((r) => r.status === 'created')).toHaveLength(1);
      expect((await store.getInvite(record.id))?.uses).toBe(1);
    });

    it('takes no use when the username is taken', async () => {
      const record = await invite({ maxUses: 1 });
      await createUser(store, 'taken');
      await expectStoreError(store.createUser(signup('taken', record.id, 0)), 'conflict');
      expect((await store.getInvite(record.id))?.uses).toBe(0);
    });

    it('refuses a use of a revoked invite, and keeps the first revocation time', async () => {
      const record = await invite({ maxUses: 5 });
      await store.revokeInvite(record.id, at(1));
      await store.revokeInvite(record.id, at(2));
      expect((await store.getInvite(record.id))?.revokedAt).toBe(at(1));
      expect(await store.createUser(signup('late', record.id, 0))).toEqual({ status: 'stale' });
    });

    it("lists the newest invites first, everyone's or one creator's", async () => {
      const other = await createUser(store, 'other');
      const first = await invite();
      const second = await invite({ createdBy: other });
      const third = await invite();
      expect((await store.listInvites(undefined, 10)).map((i) => i.id)).toEqual([third.id, second.id, first.id]);
      expect((await store.listInvites(admin, 1)).map((i) => i.id)).toEqual([third.id]);
      expect((await store.listInvites(other, 10)).map((i) => i.id)).toEqual([second.id]);
    });
  });
}
