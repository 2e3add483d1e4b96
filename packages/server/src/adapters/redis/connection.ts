import { Redis, type RedisOptions } from 'ioredis';

/** Options shared by every Redis adapter. */
export interface RedisConnectionOptions {
  /**
   * redis://[user:pass@]host:port[/db], rediss://... (TLS), or, for Redis Sentinel,
   * redis+sentinel://[:pass@]host:port[,host:port...]/masterName[/db].
   */
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
  const sentinel = parseSentinelUrl(options.url);
  const target: RedisOptions = sentinel ?? {};
  const common: RedisOptions = {
    // The prefix in the name lets an operator (or a test) tell fleets apart in CLIENT LIST.
    connectionName: `${name}@${(options.prefix ?? DEFAULT_PREFIX).replace(/\s/g, '_')}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 1_000),
    lazyConnect: false,
    ...options.redis,
  };
  const client = sentinel ? new Redis({ ...target, ...common }) : new Redis(options.url, common);
  // Errors surface on the failing command; the listener only stops "unhandled error" noise.
  client.on('error', () => {});
  return client;
}

/**
 * Options for a Sentinel URL (redis+sentinel://[:pass@]h1:26379,h2:26379/mymaster[/db]), or
 * undefined for any other URL. ioredis asks the sentinels for the current primary and follows
 * failovers by itself.
 */
export function parseSentinelUrl(url: string): RedisOptions | undefined {
  const match = /^redis(?:\+|-)sentinel(s?):\/\/(?:([^@/]*)@)?([^/]+)\/([^/?]+)(?:\/(\d+))?\/?$/.exec(url);
  if (match === null) return undefined;
  const [, tls, auth, hosts, name, db] = match;
  const sentinels = hosts!.split(',').map((hostPort) => {
    const at = hostPort.lastIndexOf(':');
    const host = at > 0 ? hostPort.slice(0, at) : hostPort;
    return { host: host.replace(/^\[|\]$/g, ''), port: at > 0 ? Number(hostPort.slice(at + 1)) : 26379 };
  });
  const options: RedisOptions = { sentinels, name: decodeURIComponent(name!) };
  if (auth) {
    const colon = auth.indexOf(':');
    const password = decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth);
    if (password) options.password = password;
    const username = colon > 0 ? decodeURIComponent(auth.slice(0, colon)) : '';
    if (username) options.username = username;
  }
  if (db) options.db = Number(db);
  if (tls) options.tls = {};
  return options;
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
/**
 * Waits until an adapter's connections answer; if they do not in time, closes the adapter (so no
 * reconnect loop is left behind) and throws. Every adapter's `open` goes through here.
 */
export async function readyOrClosed<T extends { close(): Promise<void> }>(
  adapter: T,
  clients: readonly Redis[],
  timeoutMs: number,
): Promise<T> {
  try {
    await Promise.all(clients.map((client) => whenReady(client, timeoutMs)));
  } catch (error) {
    await adapter.close();
    throw error;
  }
  return adapter;
}

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
