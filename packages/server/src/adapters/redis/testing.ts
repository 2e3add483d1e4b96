/**
 * Test support for the Redis adapters (used by tests only): where the test Redis is, whether
 * the tests may skip, and per-test key prefixes that are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const redisTestUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * false when Redis answers; otherwise the reason to skip, printed loudly. Under CI=true an
 * unreachable Redis throws instead: there a missing service is a failure, not a skip.
 */
export async function redisSkipReason(): Promise<string | false> {
  const client = new Redis(redisTestUrl, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return false;
  } catch (error) {
    const reason = `Redis not reachable at ${redisTestUrl} (${error instanceof Error ? error.message : String(error)}); set PARLEY_TEST_REDIS_URL`;
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${reason}`);
    console.warn(`\n!!! SKIPPING Redis tests: ${reason}\n`);
    return reason;
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test (or process) uses. */
export function uniqueRedisPrefix(label = 'test'): string {
  return `parley-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = new Redis(redisTestUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
