/**
 * Test support for the Redis adapters (used by tests only): where the test Redis is, whether
 * the tests may skip, and per-test key prefixes that are deleted afterwards.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { createServer } from 'node:net';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A redis-server of the test's own on a free port, without persistence, that the test may stop
 * and start at will. Tests that kill or restart Redis use one of these, never the shared one.
 */
export class PrivateRedis {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a fresh server on a free port and waits until it answers. */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.#start();
    return redis;
  }

  /** Why these tests cannot run here, or false (no redis-server binary: a failure under CI). */
  static skipReason(): string | false {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      return false;
    } catch {
      const reason = 'redis-server is not installed (tests that restart Redis start their own)';
      if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${reason}`);
      console.warn(`\n!!! SKIPPING: ${reason}\n`);
      return reason;
    }
  }

  async #start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()],
      { stdio: 'ignore' },
    );
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await this.answers())) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${this.port} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** True when the server answers PING. */
  async answers(): Promise<boolean> {
    const client = new Redis(this.url, {
      lazyConnect: true,
      connectTimeout: 500,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  /** Kills the server (its data is gone, as after a crash of a server without persistence). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.#exited;
    this.#child = undefined;
  }

  /**
   * Kills the server, waits `downMs`, starts an empty one on the same port; resolves with the
   * time at which it answered again (Date.now()).
   */
  async restart(downMs: number): Promise<number> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.#start();
    return Date.now();
  }
}
