/**
 * The Bus, PresenceStore and NodeRegistry contracts on Redis (PARLEY_TEST_REDIS_URL, default
 * redis://127.0.0.1:6379). Each test gets its own key prefix, deleted afterwards.
 */
import { describeBusContract } from '../../ports/contract/bus.contract.js';
import { describePresenceContract } from '../../ports/contract/presence.contract.js';
import { describeRegistryContract } from '../../ports/contract/registry.contract.js';
import { RedisBus } from './redis-bus.js';
import { RedisPresenceStore } from './redis-presence.js';
import { RedisNodeRegistry } from './redis-registry.js';
import { deleteRedisKeys, redisSkipReason, redisTestUrl, uniqueRedisPrefix } from './testing.js';

const skip = await redisSkipReason();

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
  harness('bus', (prefix) => RedisBus.open({ url: redisTestUrl, prefix })),
  skip,
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
