import type { Redis } from 'ioredis';
import type { ConnectionLease, PresenceStore } from '../../ports/presence.js';
import { StoreError } from '../../ports/store.js';
import { connect, DEFAULT_PREFIX, disconnect, readyOrClosed, type RedisConnectionOptions } from './connection.js';

export type RedisPresenceStoreOptions = RedisConnectionOptions;

/*
 * Layout (every key under the prefix):
 *   presence:c:<userId>  sorted set  nodeId/connId -> lease expiry (ms since epoch), and
 *                                    `grace` -> end of the grace period after the last one closed
 *   presence:exp         sorted set  userId -> the latest of those times
 * `presence:exp` lets `expired` find users whose every lease and grace ran out with one range
 * read; the scripts keep it equal to the max score of the user's set. A user's set exists from
 * their first touch until `expired` hands them out, which is what `touch` reports as present.
 * All times come from the callers' clocks (keep them in sync with NTP; skew only shifts expiry
 * by the skew).
 *
 * Lua keeps each step atomic, so several nodes may call `expired` at once and each user is
 * returned by exactly one of them.
 */

/** The member that holds the grace period; members for connections always contain a slash. */
const GRACE = 'grace';

const TOUCH = `
local present = redis.call('EXISTS', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[2], top[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return present`;

const REMOVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1], '${GRACE}')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[4], '${GRACE}')
end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[2], top[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1`;

const EXPIRED = `
local users = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, u in ipairs(users) do
  redis.call('ZREM', KEYS[1], u)
  local k = ARGV[2] .. u
  redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[1])
  local top = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  if #top == 0 then
    redis.call('DEL', k)
    table.insert(out, u)
  else
    redis.call('ZADD', KEYS[1], top[2], u)
  end
end
return out`;

const EXPIRED_BATCH = 500;

type PresenceRedis = Redis & {
  parleyTouch(
    conns: string,
    exp: string,
    member: string,
    expiry: number,
    now: number,
    user: string,
    keyTtl: number,
  ): Promise<number>;
  parleyRemove(
    conns: string,
    exp: string,
    member: string,
    now: number,
    user: string,
    graceUntil: number,
    keyTtl: number,
  ): Promise<number>;
  parleyExpired(exp: string, now: number, connsPrefix: string, limit: number): Promise<string[]>;
};

/** PresenceStore on Redis sorted sets (see the layout above). */
export class RedisPresenceStore implements PresenceStore {
  readonly #redis: PresenceRedis;
  readonly #conns: string;
  readonly #exp: string;

  constructor(options: RedisPresenceStoreOptions) {
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#conns = `${prefix}presence:c:`;
    this.#exp = `${prefix}presence:exp`;
    // Auto-pipelining: the touches issued in one tick (bursts of heartbeats) go out in one write.
    const redis = connect({ ...options, redis: { enableAutoPipelining: true, ...options.redis } }, 'parley-presence');
    redis.defineCommand('parleyTouch', { numberOfKeys: 2, lua: TOUCH });
    redis.defineCommand('parleyRemove', { numberOfKeys: 2, lua: REMOVE });
    redis.defineCommand('parleyExpired', { numberOfKeys: 1, lua: EXPIRED });
    this.#redis = redis as PresenceRedis;
  }

  static async open(options: RedisPresenceStoreOptions, timeoutMs = 5_000): Promise<RedisPresenceStore> {
    const store = new RedisPresenceStore(options);
    return readyOrClosed(store, [store.#redis], timeoutMs);
  }

  async touch(lease: ConnectionLease, ttlMs: number): Promise<{ wasPresent: boolean }> {
    const now = Date.now();
    const present = await this.#run(() =>
      this.#redis.parleyTouch(
        this.#conns + lease.userId,
        this.#exp,
        member(lease),
        now + ttlMs,
        now,
        lease.userId,
        keyTtl(ttlMs),
      ),
    );
    return { wasPresent: present === 1 };
  }

  async remove(lease: ConnectionLease, graceMs: number): Promise<void> {
    const now = Date.now();
    await this.#run(() =>
      this.#redis.parleyRemove(
        this.#conns + lease.userId,
        this.#exp,
        member(lease),
        now,
        lease.userId,
        now + graceMs,
        keyTtl(graceMs),
      ),
    );
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return this.#live(userIds, false);
  }

  async shownOnline(userIds: readonly string[]): Promise<Set<string>> {
    return this.#live(userIds, true);
  }

  /** Users with an unexpired entry: a connection's lease, or with `countGrace` also the grace. */
  async #live(userIds: readonly string[], countGrace: boolean): Promise<Set<string>> {
    const result = new Set<string>();
    if (userIds.length === 0) return result;
    const now = Date.now();
    const pipeline = this.#redis.pipeline();
    for (const userId of userIds) {
      pipeline.zcount(this.#conns + userId, `(${now}`, '+inf');
      if (!countGrace) pipeline.zscore(this.#conns + userId, GRACE);
    }
    const replies = await this.#run(() => pipeline.exec());
    if (replies === null) throw unavailable(new Error('pipeline aborted'));
    for (const [error] of replies) if (error) throw unavailable(error);
    const perUser = countGrace ? 1 : 2;
    userIds.forEach((userId, i) => {
      let live = Number(replies[i * perUser]![1]);
      const graceEnds = countGrace ? null : (replies[i * perUser + 1]![1] as string | null);
      if (graceEnds !== null && Number(graceEnds) > now) live -= 1;
      if (live > 0) result.add(userId);
    });
    return result;
  }

  async expired(now: number): Promise<string[]> {
    const result: string[] = [];
    for (;;) {
      const batch = await this.#run(() => this.#redis.parleyExpired(this.#exp, now, this.#conns, EXPIRED_BATCH));
      result.push(...batch);
      if (batch.length < EXPIRED_BATCH) return result;
    }
  }

  async close(): Promise<void> {
    await disconnect(this.#redis);
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/** The user's key outlives its leases and grace a little, so a crashed fleet leaves no garbage forever. */
function keyTtl(lifetimeMs: number): number {
  return Math.max(lifetimeMs * 2, 60_000);
}

function member(lease: ConnectionLease): string {
  return `${lease.nodeId}/${lease.connId}`;
}

function unavailable(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError('unavailable', `presence store: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}
