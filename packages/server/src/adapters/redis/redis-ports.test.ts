/**
 * The Bus, PresenceStore and NodeRegistry contracts on Redis. Presence and the registry run on
 * PARLEY_TEST_REDIS_URL (default redis://127.0.0.1:6379), each test under its own key prefix,
 * deleted afterwards; the Bus runs on a redis-server of this file's own, which its outage case
 * kills and starts again.
 */
import { afterAll } from 'vitest';
import { describeBusContract } from '../../ports/contract/bus.contract.js';
import { describePresenceContract } from '../../ports/contract/presence.contract.js';
import { describeRegistryContract } from '../../ports/contract/registry.contract.js';
import { RedisBus } from './redis-bus.js';
import { RedisPresenceStore } from './redis-presence.js';
import { RedisNodeRegistry } from './redis-registry.js';
import { deleteRedisKeys, PrivateRedis, redisSkipReason, redisTestUrl, uniqueRedisPrefix } from './testing.js';

const skip = await redisSkipReason();
const busSkip = PrivateRedis.skipReason();
let privateRedis: Promise<PrivateRedis> | undefined;
const busRedis = () => (privateRedis ??= PrivateRedis.start());
afterAll(async () => {
  await (await privateRedis)?.stop();
});

/** Opens instances of one adapter under a fresh prefix; cleanup closes them and deletes the keys. */
function harness<T extends { close(): Promise<void> }>(label: string, open: (prefix: string) => Promise<T>) {
  return async () => {
    const prefix = uniqueRedisPrefix(label);
    const opened: T[] = [];
    return {
      async open() {
        const instance = await open(prefix);
        opened.push(instance);
        return instance;
      },
      async cleanup() {
        await Promise.all(opened.map((o) => o.close()));
        await deleteRedisKeys(prefix);
      },
    };
  };
}

describeBusContract(
  'redis',
  async () => {
    const redis = await busRedis();
    const opened: RedisBus[] = [];
    const prefix = uniqueRedisPrefix('bus');
    return {
      async open() {
        const bus = await RedisBus.open({ url: redis.url, prefix });
        opened.push(bus);
        return bus;
      },
      async cleanup() {
        await Promise.all(opened.map((bus) => bus.close()));
      },
      async outage() {
        await redis.restart(200);
        return { lossy: true };
      },
    };
  },
  busSkip,
);
describePresenceContract(
  'redis',
  harness('presence', (prefix) => RedisPresenceStore.open({ url: redisTestUrl, prefix })),
  skip,
);
describeRegistryContract(
  'redis',
  harness('registry', (prefix) => RedisNodeRegistry.open({ url: redisTestUrl, prefix })),
  skip,
);
