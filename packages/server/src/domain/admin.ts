/**
 * Administration: what a server's administrators (role `admin`, accounts.ts) may do to other
 * accounts, and the server's figures. Everyone else gets `forbidden` for all of it. The rules:
 * - an administrator cannot demote, deactivate or delete themselves here (so a server never
 *   loses its last administrator by a slip; `npm run admin` can always make one);
 * - deactivation revokes every token of the account at once and closes its sockets (4001) on
 *   every gateway; the account cannot sign in until reactivated; its messages stay;
 * - a password reset signs every device of the account out.
 */
import type { AdminUser, AdminUserPage, ServerStats, UserRole } from '@parley/protocol';
import type { NodeRegistry } from '../ports/cluster.js';
import type { AccountStore, UserRecord } from '../ports/store.js';
import { hashPassword, type AccountService } from './accounts.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import { firstIdAt, type IdGenerator } from './ids.js';

export class AdminService {
  constructor(
    private readonly store: AccountStore,
    private readonly accounts: AccountService,
    private readonly registry: Pick<NodeRegistry, 'liveNodes'>,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly passwordHashCost = 15,
  ) {}

  /** Throws `forbidden` unless `userId` is an administrator. */
  async requireAdmin(userId: string): Promise<void> {
    const record = await storeCall(this.store.getUser(userId));
    if (record?.role !== 'admin') fail('forbidden', 'this needs an administrator');
  }

  async #target(actorId: string, userId: string, what: string): Promise<UserRecord> {
    if (actorId === userId) fail('invalid_request', `you cannot ${what} yourself here`);
    const record = await storeCall(this.store.getUser(userId));
    if (record === undefined || record.deletedAt !== undefined) fail('not_found', 'no such user');
    return record;
  }

  async listUsers(query: { query: string; after?: string | undefined; limit: number }): Promise<AdminUserPage> {
    const records = await storeCall(
      this.store.listAccounts({
        prefix: query.query,
        limit: query.limit + 1,
        ...(query.after === undefined ? {} : { after: query.after }),
      }),
    );
    const page = records.slice(0, query.limit);
    const result: AdminUserPage = { users: page.map(adminUser) };
    if (records.length > query.limit) result.nextAfter = page.at(-1)!.username;
    return result;
  }

  async getUser(userId: string): Promise<AdminUser> {
    const record = await storeCall(this.store.getUser(userId));
    if (record === undefined) fail('not_found', 'no such user');
    return adminUser(record);
  }

  /** Creates an account in any sign-up mode (the way in for a `closed` server). */
  async createUser(input: { username: string; password: string; displayName?: string | undefined; role: UserRole }) {
    const id = this.ids.next();
    await storeCall(
      this.store.createUser({
        id,
        username: input.username,
        displayName: input.displayName ?? input.username,
        passwordHash: await hashPassword(input.password, this.passwordHashCost),
        createdAt: isoNow(this.clock),
        role: input.role,
      }),
    );
    return this.getUser(id);
  }

  async setRole(actorId: string, userId: string, role: UserRole): Promise<AdminUser> {
    await this.#target(actorId, userId, 'change the role of');
    await storeCall(this.store.changeAccount({ userId, role, at: isoNow(this.clock) }), 'no such user');
    return this.getUser(userId);
  }

  async setDeactivated(actorId: string, userId: string, deactivated: boolean): Promise<AdminUser> {
    await this.#target(actorId, userId, deactivated ? 'deactivate' : 'reactivate');
    const at = isoNow(this.clock);
    const { revokedDeviceIds } = await storeCall(
      this.store.changeAccount(
        deactivated ? { userId, deactivatedAt: at, revokeDevices: {}, at } : { userId, deactivatedAt: null, at },
      ),
      'no such user',
    );
    await this.accounts.signedOut(userId, revokedDeviceIds);
    return this.getUser(userId);
  }

  async resetPassword(actorId: string, userId: string, newPassword: string): Promise<void> {
    await this.#target(actorId, userId, 'reset the password of');
    const { revokedDeviceIds } = await storeCall(
      this.store.changeAccount({
        userId,
        passwordHash: await hashPassword(newPassword, this.passwordHashCost),
        revokeDevices: {},
        at: isoNow(this.clock),
      }),
      'no such user',
    );
    await this.accounts.signedOut(userId, revokedDeviceIds);
  }

  async deleteUser(actorId: string, userId: string): Promise<void> {
    await this.#target(actorId, userId, 'delete');
    await this.accounts.deleteAccount(userId);
  }

  /** Figures of the last `days` UTC days (today included). */
  async stats(days: number): Promise<ServerStats> {
    const now = this.clock.now();
    const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
    const from = today - (days - 1) * 86_400_000;
    const [figures, nodes] = await Promise.all([
      storeCall(this.store.figures(firstIdAt(from))),
      this.registry.liveNodes().catch(() => []),
    ]);
    const counted = new Map(figures.messagesPerDay.map((d) => [d.day, d.count]));
    const messagesPerDay = Array.from({ length: days }, (_, i) => {
      const day = new Date(from + i * 86_400_000).toISOString().slice(0, 10);
      return { day, count: counted.get(day) ?? 0 };
    });
    return {
      users: figures.users,
      deactivatedUsers: figures.deactivatedUsers,
      connections: nodes.reduce((sum, node) => sum + node.connections, 0),
      messagesPerDay,
      storageBytes: figures.storageBytes,
    };
  }
}

function adminUser(record: UserRecord): AdminUser {
  const user: AdminUser = {
    id: record.id,
    username: record.username,
    displayName: record.displayName,
    role: record.role,
    createdAt: record.createdAt,
  };
  if (record.statusText) user.statusText = record.statusText;
  if (record.lastSeenAt !== undefined) user.lastSeenAt = record.lastSeenAt;
  if (record.deactivatedAt !== undefined) user.deactivatedAt = record.deactivatedAt;
  return user;
}

/**
 * What `npm run admin` does on a data directory or database, with no server call and no signed-in
 * administrator (the way to a first administrator, or back to one). Tokens it revokes are refused
 * at once; sockets that are open stay so until they reconnect (the admin API closes them at once).
 */
export class AdminCommands {
  constructor(
    private readonly store: Pick<AccountStore, 'createUser' | 'findUserByUsername' | 'changeAccount' | 'listAccounts'>,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly passwordHashCost = 15,
  ) {}

  async #find(username: string): Promise<UserRecord> {
    const record = await storeCall(this.store.findUserByUsername(username));
    if (record === undefined || record.deletedAt !== undefined) fail('not_found', `no user named ${username}`);
    return record;
  }

  async createAdmin(username: string, password: string): Promise<void> {
    await storeCall(
      this.store.createUser({
        id: this.ids.next(),
        username,
        displayName: username,
        passwordHash: await hashPassword(password, this.passwordHashCost),
        createdAt: isoNow(this.clock),
        role: 'admin',
      }),
    );
  }

  async setRole(username: string, role: UserRole): Promise<void> {
    const record = await this.#find(username);
    await storeCall(this.store.changeAccount({ userId: record.id, role, at: isoNow(this.clock) }));
  }

  /** Also signs every device of the account out. */
  async resetPassword(username: string, password: string): Promise<void> {
    const record = await this.#find(username);
    await storeCall(
      this.store.changeAccount({
        userId: record.id,
        passwordHash: await hashPassword(password, this.passwordHashCost),
        revokeDevices: {},
        at: isoNow(this.clock),
      }),
    );
  }

  async list(prefix: string, limit: number): Promise<AdminUser[]> {
    return (await storeCall(this.store.listAccounts({ prefix, limit }))).map(adminUser);
  }
}
