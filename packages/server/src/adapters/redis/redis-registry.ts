import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { NodeRegistry, NodeStatus } from '../../ports/cluster.js';
import { StoreError } from '../../ports/store.js';
import { connect, DEFAULT_PREFIX, disconnect, readyOrClosed, type RedisConnectionOptions } from './connection.js';

const NODE_IDS = 1024;

export interface RedisNodeRegistryOptions extends RedisConnectionOptions {
  /** How long a node id lease lasts without renewal (default 15 s); renewed every third of it. */
  leaseMs?: number;
  /**
   * Called if the node id lease was taken by another process (possible only after this process
   * could not reach Redis for longer than `leaseMs`). Ids minted from then on could collide:
   * the process should stop minting and exit so its supervisor restarts it with a fresh lease.
   */
  onLeaseLost?: (nodeId: number) => void;
}

/*
 * Layout (under the prefix):
 *   node-id:<0..1023>  string      owner token, PX leaseMs (SET NX to take, renewed by its owner)
 *   node:<nodeId>      string      JSON NodeStatus, PX ttl of the announce
 *   nodes              sorted set  nodeId -> announce expiry, to list nodes without SCAN
 */

/** Renews our lease; takes it back if it vanished (Redis restarted without persistence). */
const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type RegistryRedis = Redis & {
  parleyRenew(key: string, token: string, leaseMs: number): Promise<number>;
  parleyRelease(key: string, token: string): Promise<number>;
};

/** NodeRegistry on Redis: node ids by SET NX PX + renewal, statuses as keys with a TTL. */
export class RedisNodeRegistry implements NodeRegistry {
  readonly #redis: RegistryRedis;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #onLeaseLost: ((nodeId: number) => void) | undefined;
  readonly #token = randomBytes(12).toString('hex');
  readonly #announced = new Set<string>();
  #nodeId: number | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #withdrawn = false;

  constructor(options: RedisNodeRegistryOptions) {
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#onLeaseLost = options.onLeaseLost;
    const redis = connect(options, 'parley-registry');
    redis.defineCommand('parleyRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('parleyRelease', { numberOfKeys: 1, lua: RELEASE });
    this.#redis = redis as RegistryRedis;
  }

  static async open(options: RedisNodeRegistryOptions, timeoutMs = 5_000): Promise<RedisNodeRegistry> {
    const registry = new RedisNodeRegistry(options);
    return readyOrClosed(registry, [registry.#redis], timeoutMs);
  }

  async leaseNodeId(): Promise<number> {
    if (this.#closed) throw new Error('RedisNodeRegistry is closed');
    if (this.#nodeId !== undefined) return this.#nodeId;
    // Start at a random id so processes starting together rarely contend for the same key.
    const start = Math.floor(Math.random() * NODE_IDS);
    for (let i = 0; i < NODE_IDS; i++) {
      const id = (start + i) % NODE_IDS;
      const ok = await this.#run(() => this.#redis.set(this.#idKey(id), this.#token, 'PX', this.#leaseMs, 'NX'));
      if (ok === 'OK') {
        this.#nodeId = id;
        this.#renewTimer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.#leaseMs / 3)));
        this.#renewTimer.unref();
        return id;
      }
    }
    throw new StoreError('unavailable', `no free node id: ${NODE_IDS} live nodes hold one`);
  }

  async announce(status: NodeStatus, ttlMs: number): Promise<void> {
    if (this.#closed || this.#withdrawn) return;
    const now = Date.now();
    this.#announced.add(status.nodeId);
    await this.#run(() =>
      this.#redis
        .multi()
        .set(this.#statusKey(status.nodeId), JSON.stringify(status), 'PX', ttlMs)
        .zadd(this.#nodesKey(), now + ttlMs, status.nodeId)
        .zremrangebyscore(this.#nodesKey(), '-inf', now)
        .exec(),
    );
  }

  async liveNodes(): Promise<NodeStatus[]> {
    const ids = await this.#run(() => this.#redis.zrangebyscore(this.#nodesKey(), `(${Date.now()}`, '+inf'));
    if (ids.length === 0) return [];
    const values = await this.#run(() => this.#redis.mget(ids.map((id) => this.#statusKey(id))));
    const nodes: NodeStatus[] = [];
    for (const value of values) {
      if (value === null) continue;
      try {
        nodes.push(JSON.parse(value) as NodeStatus);
      } catch {
        // A corrupt entry is skipped; it expires with its TTL.
      }
    }
    return nodes;
  }

  async withdraw(): Promise<void> {
    this.#withdrawn = true;
    const ids = [...this.#announced];
    if (ids.length === 0 || this.#redis.status !== 'ready') return;
    try {
      await this.#redis
        .multi()
        .del(...ids.map((id) => this.#statusKey(id)))
        .zrem(this.#nodesKey(), ...ids)
        .exec();
    } catch {
      // Unreachable: the status expires with its TTL.
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renewTimer);
    if (this.#redis.status === 'ready') {
      try {
        const ids = [...this.#announced];
        const multi = this.#redis.multi();
        if (ids.length > 0) {
          multi.del(...ids.map((id) => this.#statusKey(id)));
          multi.zrem(this.#nodesKey(), ...ids);
        }
        await multi.exec();
        if (this.#nodeId !== undefined) await this.#redis.parleyRelease(this.#idKey(this.#nodeId), this.#token);
      } catch {
        // Unreachable: the keys expire with their TTLs.
      }
    }
    await disconnect(this.#redis);
  }

  async #renew(): Promise<void> {
    const id = this.#nodeId;
    if (id === undefined || this.#closed) return;
    let result: number;
    try {
      result = await this.#redis.parleyRenew(this.#idKey(id), this.#token, this.#leaseMs);
    } catch {
      return; // Redis unreachable: try again on the next tick
    }
    if (result === 0) {
      clearInterval(this.#renewTimer);
      this.#onLeaseLost?.(id);
    }
  }

  #idKey(id: number): string {
    return `${this.#prefix}node-id:${id}`;
  }

  #statusKey(nodeId: string): string {
    return `${this.#prefix}node:${nodeId}`;
  }

  #nodesKey(): string {
    return `${this.#prefix}nodes`;
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError('unavailable', `node registry: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
}
