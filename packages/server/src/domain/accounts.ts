import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { AuthResult, User } from '@parley/protocol';
import type { AccountStore, DeviceRef } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { IdGenerator } from './ids.js';
import type { AccessLimits } from './access-limits.js';

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

/** Tokens are random; only their SHA-256 is stored, so a database leak reveals no token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A token's use is written down at most this often (each write renews its whole lifetime). */
export const RENEW_EVERY_MS = 60 * 60 * 1000;

export class AccountService {
  /** Compared against when the user does not exist, so response time does not reveal that. */
  #decoyHash: Promise<string> | undefined;

  constructor(
    private readonly store: AccountStore,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    /** Sign-up and login rate limits, shared by the fleet. */
    private readonly limits: AccessLimits,
    private readonly passwordHashCost = 15,
    /** A token unused for this long expires; 0 = never. */
    private readonly tokenLifetimeMs = 0,
  ) {}

  /** `address` is the client's (for the per-address limit). */
  async signup(
    input: {
      username: string;
      password: string;
      displayName?: string | undefined;
      deviceName?: string | undefined;
    },
    address: string,
  ): Promise<AuthResult> {
    await this.limits.signup(address);
    const userId = this.ids.next();
    const passwordHash = await hashPassword(input.password, this.passwordHashCost);
    await storeCall(
      this.store.createUser({
        id: userId,
        username: input.username,
        displayName: input.displayName ?? input.username,
        passwordHash,
        createdAt: isoNow(this.clock),
      }),
    );
    const user: User = { id: userId, username: input.username, displayName: input.displayName ?? input.username };
    return { user, ...(await this.#newDevice(userId, input.deviceName)) };
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
    const user: User = { id: record.id, username: record.username, displayName: record.displayName };
    if (record.statusText) user.statusText = record.statusText;
    return { user, ...(await this.#newDevice(record.id, input.deviceName)) };
  }

  async #newDevice(userId: string, name: string | undefined): Promise<{ token: string; deviceId: string }> {
    const token = randomBytes(32).toString('base64url');
    const deviceId = this.ids.next();
    await this.store.createDevice({
      id: deviceId,
      userId,
      name: name ?? 'device',
      tokenHash: hashToken(token),
      createdAt: isoNow(this.clock),
    });
    return { token, deviceId };
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
  }

  async getUser(userId: string): Promise<User> {
    const record = await this.store.getUser(userId);
    if (record === undefined) fail('not_found', 'no such user');
    const user: User = { id: record.id, username: record.username, displayName: record.displayName };
    if (record.statusText) user.statusText = record.statusText;
    return user;
  }

  async search(query: string, limit: number): Promise<User[]> {
    if (query === '') return [];
    return this.store.searchUsers(query, limit);
  }
}
