import { hash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { AuthResult, Device, SignupMode, User, UserRole } from '@parley/protocol';
import type {
  AccountChange,
  AccountStore,
  DeviceRef,
  FriendStore,
  InviteRecord,
  InviteStore,
  LogStore,
  NewUser,
  UserRecord,
} from '../ports/store.js';
import type { AccessLimits } from './access-limits.js';
import { isoNow, type Clock } from './clock.js';
import { decideAndWrite, STALE } from './decide.js';
import { fail, storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import type { IdGenerator } from './ids.js';
import type { LivePublisher } from './live.js';
import { friendsRemoved } from './log-appends.js';

/** scrypt with N=2^15, r=8 by default: 32 MiB and ~50 ms per hash, OWASP's recommended floor. */
const SCRYPT_MAXMEM = 256 * 1024 * 1024;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** The parameters are stored with the hash, so the cost can rise later without breaking logins. */
export async function hashPassword(password: string, cost = 15): Promise<string> {
  const salt = randomBytes(16);
  const params = { N: 2 ** cost, r: 8, p: 1 };
  const key = await scrypt(password, salt, { ...params, maxmem: SCRYPT_MAXMEM });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = encoded.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT_MAXMEM,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Tokens are random; only their SHA-256 is stored, so a database leak reveals no token. The
 * one-shot `hash` costs half of a Hash object's create, update and digest, once per hello.
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** A token's use is written down at most this often (each write renews its whole lifetime). */
export const RENEW_EVERY_MS = 60 * 60 * 1000;

/** What the HTTP layer hands in for a sign-up. */
export interface SignupInput {
  username: string;
  password: string;
  displayName?: string | undefined;
  deviceName?: string | undefined;
  inviteCode?: string | undefined;
}

/** The account rules that depend on the server's settings (config.accounts). */
export interface AccountPolicy {
  signup: SignupMode;
  /** A deleted account's messages: kept (their sender shows as "Deleted user") or erased. */
  deletedAccountMessages: 'keep' | 'erase';
}

/**
 * Who may sign up and how, signing in, devices and tokens, and the account's own changes
 * (password, devices, deletion). The rules, once:
 * - `open`: anyone signs up; `invite`: a valid invite code is needed; `closed`: only
 *   administrators create accounts (admin.ts). In every mode, the first account of an empty
 *   server may sign up without a code, and it becomes the administrator (decided by the store
 *   at the commit, so of two concurrent first sign-ups exactly one is).
 * - An invite is valid while it is not revoked, not expired and has uses left; a sign-up takes
 *   one use in its own commit (invites.ts creates them).
 * - A deactivated account cannot sign in and its tokens find nothing; a deleted one is gone.
 * - Signing a device out revokes its token, closes its sockets and forgets its push
 *   subscriptions (#signedOut).
 */
export class AccountService {
  /** Compared against when the user does not exist, so response time does not reveal that. */
  #decoyHash: Promise<string> | undefined;

  constructor(
    private readonly store: AccountStore & InviteStore & FriendStore & Pick<LogStore, 'logBounds'>,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    /** Sign-up and login rate limits, shared by the fleet. */
    private readonly limits: AccessLimits,
    private readonly policy: AccountPolicy,
    /** Closes revoked devices' sockets on every gateway. */
    private readonly live: Pick<LivePublisher, 'deviceRevoked'>,
    private readonly events: Pick<EventRouter, 'publish'>,
    private readonly passwordHashCost = 15,
    /** A token unused for this long expires; 0 = never. */
    private readonly tokenLifetimeMs = 0,
  ) {}

  get signupMode(): SignupMode {
    return this.policy.signup;
  }

  /** `address` is the client's (for the per-address limit). */
  async signup(input: SignupInput, address: string): Promise<AuthResult> {
    const code = this.policy.signup === 'invite' ? input.inviteCode : undefined;
    // An invite is a sign-up: both spend the address's sign-up budget (one take, not two).
    if (code !== undefined) await this.limits.redeemInvite(address);
    else await this.limits.signup(address);
    const passwordHash = await hashPassword(input.password, this.passwordHashCost);
    const userId = this.ids.next();
    const displayName = input.displayName ?? input.username;
    const role = await decideAndWrite(async () => {
      const user: NewUser = {
        id: userId,
        username: input.username,
        displayName,
        passwordHash,
        createdAt: isoNow(this.clock),
        adminIfFirst: true,
      };
      if (code !== undefined) {
        const invite = await storeCall(this.store.findInvite(hashToken(code)));
        if (invite === undefined || !inviteUsable(invite, this.clock.now())) {
          fail('forbidden', 'this invite code is not valid: it may have expired or been used up');
        }
        user.invite = { inviteId: invite.id, expectedUses: invite.uses };
      } else if (this.policy.signup !== 'open') {
        user.onlyIfFirst = true;
      }
      const created = await storeCall(this.store.createUser(user));
      if (created.status === 'created') return created.role;
      if (user.onlyIfFirst) {
        fail(
          'forbidden',
          this.policy.signup === 'invite'
            ? 'signing up here needs an invite code'
            : 'this server is closed to sign-ups; an administrator creates accounts',
        );
      }
      return STALE;
    });
    const user: User = { id: userId, username: input.username, displayName };
    return { user, role, ...(await this.#newDevice(userId, input.deviceName)) };
  }

  /** `address` is the client's (for the per-address limit). */
  async login(
    input: { username: string; password: string; deviceName?: string | undefined },
    address: string,
  ): Promise<AuthResult> {
    await this.limits.login(address, input.username);
    const record = await this.store.findUserByUsername(input.username);
    const valid = await verifyPassword(
      input.password,
      record?.passwordHash ?? (await (this.#decoyHash ??= hashPassword('decoy', this.passwordHashCost))),
    );
    if (record === undefined || !valid) fail('unauthorized', 'wrong username or password');
    await this.limits.loginSucceeded(input.username);
    // Told only to whoever knows the password.
    if (record.deactivatedAt !== undefined) fail('forbidden', 'this account is deactivated');
    return { user: publicUser(record), role: record.role, ...(await this.#newDevice(record.id, input.deviceName)) };
  }

  /** A device and its starting position in the user's log (read after it exists: see AuthResult.seq). */
  async #newDevice(
    userId: string,
    name: string | undefined,
  ): Promise<{ token: string; deviceId: string; seq: number }> {
    const token = randomBytes(32).toString('base64url');
    const deviceId = this.ids.next();
    await this.store.createDevice({
      id: deviceId,
      userId,
      name: name ?? 'device',
      tokenHash: hashToken(token),
      createdAt: isoNow(this.clock),
    });
    const { head } = await this.store.logBounds(userId);
    return { token, deviceId, seq: head };
  }

  /**
   * The device a bearer token belongs to, or an `unauthorized` error. A token unused for the
   * lifetime has expired; using it renews it (recorded at most once per RENEW_EVERY_MS).
   */
  async authenticate(token: string | undefined): Promise<DeviceRef> {
    if (!token) fail('unauthorized', 'a bearer token is required');
    const device = await this.store.findDeviceByTokenHash(hashToken(token));
    if (device === undefined) fail('unauthorized', 'the token is invalid or revoked');
    const unusedMs = this.clock.now() - Date.parse(device.lastUsedAt);
    if (this.tokenLifetimeMs > 0 && unusedMs > this.tokenLifetimeMs) {
      fail('unauthorized', 'the token expired after going unused; log in again');
    }
    if (unusedMs >= RENEW_EVERY_MS) await this.tokenUsed(device.deviceId);
    return { deviceId: device.deviceId, userId: device.userId };
  }

  /** Renews a device's token (a socket that stays open keeps using it). */
  async tokenUsed(deviceId: string): Promise<void> {
    await storeCall(this.store.touchDevice(deviceId, isoNow(this.clock)));
  }

  async logout(device: DeviceRef): Promise<void> {
    await this.store.revokeDevice(device.deviceId);
    await this.signedOut(device.userId, [device.deviceId]);
  }

  /**
   * After devices were revoked (their push subscriptions went in the same commit, see
   * AccountStore.changeAccount): their sockets close on every gateway (4001). The one place
   * that follows a sign-out, for the lead's push seam.
   */
  async signedOut(userId: string, deviceIds: readonly string[]): Promise<void> {
    await Promise.all(deviceIds.map((deviceId) => this.live.deviceRevoked(userId, deviceId).catch(() => undefined)));
  }

  async getUser(userId: string): Promise<User> {
    const record = await this.store.getUser(userId);
    if (record === undefined) fail('not_found', 'no such user');
    return publicUser(record);
  }

  /** Your profile and your server-wide role. */
  async me(userId: string): Promise<{ user: User; role: UserRole }> {
    const record = await this.store.getUser(userId);
    if (record === undefined) fail('not_found', 'no such user');
    return { user: publicUser(record), role: record.role };
  }

  async search(query: string, limit: number): Promise<User[]> {
    if (query === '') return [];
    return this.store.searchUsers(query, limit);
  }

  // ---- your own account

  async #checkPassword(userId: string, password: string): Promise<UserRecord> {
    const record = await this.store.getUser(userId);
    if (record === undefined) fail('not_found', 'no such user');
    if (!(await verifyPassword(password, record.passwordHash))) fail('forbidden', 'the password is wrong');
    return record;
  }

  /** Your other devices are signed out unless `keepOtherDevices`. */
  async changePassword(
    device: DeviceRef,
    input: { currentPassword: string; newPassword: string; keepOtherDevices: boolean },
  ): Promise<void> {
    await this.#checkPassword(device.userId, input.currentPassword);
    const change: AccountChange = {
      userId: device.userId,
      passwordHash: await hashPassword(input.newPassword, this.passwordHashCost),
      at: isoNow(this.clock),
    };
    if (!input.keepOtherDevices) change.revokeDevices = { except: device.deviceId };
    const { revokedDeviceIds } = await storeCall(this.store.changeAccount(change), 'no such user');
    await this.signedOut(device.userId, revokedDeviceIds);
  }

  async devices(device: DeviceRef): Promise<Device[]> {
    const records = await storeCall(this.store.listDevices(device.userId));
    return records.map((record) => ({ ...record, current: record.id === device.deviceId }));
  }

  /** Signs out one of your devices (this one too, like logout). */
  async signOutDevice(device: DeviceRef, deviceId: string): Promise<void> {
    const own = await storeCall(this.store.listDevices(device.userId));
    if (!own.some((d) => d.id === deviceId)) fail('not_found', 'no such device');
    await storeCall(this.store.revokeDevice(deviceId));
    await this.signedOut(device.userId, [deviceId]);
  }

  /** Signs out every device of yours but this one. */
  async signOutOthers(device: DeviceRef): Promise<void> {
    const { revokedDeviceIds } = await storeCall(
      this.store.changeAccount({
        userId: device.userId,
        revokeDevices: { except: device.deviceId },
        at: isoNow(this.clock),
      }),
      'no such user',
    );
    await this.signedOut(device.userId, revokedDeviceIds);
  }

  /** Deletes your account; asks for the password. */
  async deleteOwnAccount(userId: string, password: string): Promise<void> {
    await this.#checkPassword(userId, password);
    await this.deleteAccount(userId);
  }

  /**
   * Deletes an account (AccountDeletion): its friends learn `friend.removed`; its messages stay
   * or go by the server's policy; its sockets close.
   */
  async deleteAccount(userId: string): Promise<void> {
    const friendIds = await storeCall(this.store.listFriendIds(userId));
    const { revokedDeviceIds, entries } = await storeCall(
      this.store.deleteAccount({
        userId,
        eraseMessages: this.policy.deletedAccountMessages === 'erase',
        at: isoNow(this.clock),
        events: friendIds.flatMap((friendId) => friendsRemoved(friendId, userId).slice(0, 1)),
      }),
      'no such user',
    );
    await this.events.publish(entries);
    await this.signedOut(userId, revokedDeviceIds);
  }
}

/** An invite a sign-up may use at `now` (ms). */
export function inviteUsable(invite: InviteRecord, now: number): boolean {
  return invite.revokedAt === undefined && Date.parse(invite.expiresAt) > now && invite.uses < invite.maxUses;
}

/** What anyone may see of a user. */
export function publicUser(record: UserRecord): User {
  const user: User = { id: record.id, username: record.username, displayName: record.displayName };
  if (record.statusText) user.statusText = record.statusText;
  return user;
}
