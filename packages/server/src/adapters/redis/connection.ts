import { Redis, type RedisOptions } from 'ioredis';

/** Options shared by every Redis adapter. */
export interface RedisConnectionOptions {
  /** redis://[user:pass@]host:port[/db] or rediss://... */
  url: string;
  /**
   * Prefix for every key and pub/sub channel this adapter touches, so several fleets (or
   * test runs) can share one Redis. Default "parley:".
   */
  prefix?: string;
  /** Extra ioredis options (e.g. Sentinel: `sentinels`, `name`). */
  redis?: RedisOptions;
}

export const DEFAULT_PREFIX = 'parley:';

/**
 * A connection that reconnects by itself (capped backoff, forever) and fails commands at once
 * while disconnected instead of queueing them: a caller on the hot path would rather get an
 * error than wait an unbounded time behind an outage.
 */
export function connect(options: RedisConnectionOptions, name: string): Redis {
  const client = new Redis(options.url, {
    // The prefix in the name lets an operator (or a test) tell fleets apart in CLIENT LIST.
    connectionName: `${name}@${(options.prefix ?? DEFAULT_PREFIX).replace(/\s/g, '_')}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 1_000),
    // Errors surface on the failing command; the event only stops "unhandled error" noise.
    lazyConnect: false,
    ...options.redis,
  });
  client.on('error', () => {});
  return client;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function whenReady(client: Redis, timeoutMs = 5_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/** Closes a connection without waiting on a dead server. */
export async function disconnect(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1_000))]);
    } catch {
      // fall through to a hard disconnect
    }
  }
  client.disconnect(false);
}
