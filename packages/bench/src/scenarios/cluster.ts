/**
 * cluster: the dm scenario against 1 and then 2 Parley nodes on PostgreSQL + Redis, to show
 * how throughput scales with nodes on one machine. PostgreSQL: a throw-away database per run,
 * created through PARLEY_BENCH_PG_URL (else PARLEY_TEST_PG_URL, else the test suite's default
 * postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards; Redis:
 * PARLEY_BENCH_REDIS_URL (else PARLEY_TEST_REDIS_URL, else redis://127.0.0.1:6379) with a
 * unique key prefix. If either is unreachable the scenario reports itself skipped. Users
 * are made over HTTP (the Postgres schema belongs to the adapter), and DM partners sit on
 * different nodes so every message crosses the bus.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { pick, ratio, type BenchContext, type ScenarioResult } from '../lib/context.js';
import { combine, startParley, type Target } from '../lib/target.js';
import { setupHttp } from '../lib/world.js';
import { dmConfig, runPairs, type DmRun } from './dm.js';

export async function cluster(ctx: BenchContext): Promise<ScenarioResult> {
  const adminUrl =
    process.env.PARLEY_BENCH_PG_URL ?? process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.PARLEY_BENCH_REDIS_URL ?? process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const base = dmConfig(ctx);
  const cfg = {
    ...base,
    users: pick(ctx.mode, 20, 400, 1000),
    textLens: [100],
    gateways: [1, 2],
  };
  const unavailable = (await pgUnavailable(adminUrl)) ?? (await redisUnavailable(redisUrl));
  if (unavailable) {
    return {
      config: cfg,
      targets: {},
      summary: [],
      notes: [
        `skipped: ${unavailable}; set PARLEY_BENCH_PG_URL (an admin postgres:// URL) and PARLEY_BENCH_REDIS_URL (redis://...)`,
      ],
    };
  }
  const results: Record<string, DmRun[]> = {};
  for (const n of cfg.gateways) {
    const prefix = `bench${Date.now().toString(36)}:`;
    const nodes: Target[] = [];
    const db = await createDatabase(adminUrl);
    try {
      for (let g = 0; g < n; g++) {
        nodes.push(
          await startParley({
            dataDir: path.join(ctx.tmpDir, `cluster-${n}-${g}`),
            logDir: path.join(ctx.tmpDir, 'logs'),
            name: `gateway-${n}-${g}`,
            env: { PARLEY_DATABASE_URL: db.url, PARLEY_REDIS_URL: redisUrl, PARLEY_REDIS_PREFIX: prefix },
            cpuProfDir: ctx.cpuProfDir,
          }),
        );
      }
      const target = combine('parley', nodes, nodes[0]!);
      const world = await setupHttp(target.baseUrl, { users: cfg.users, pairs: true }, 8);
      const wsUrls = nodes.map((t) => t.wsUrl);
      ctx.log(` ${n} gateway(s)`);
      results[String(n)] = await runPairs(ctx, target, world, cfg, wsUrls);
    } finally {
      await Promise.all(nodes.map((t) => t.stop()));
      await db.drop();
    }
  }
  const one = results['1']?.[0]?.maxSustainedMsgsPerS ?? null;
  const two = results['2']?.[0]?.maxSustainedMsgsPerS ?? null;
  return {
    config: cfg,
    targets: { parley: results },
    summary: [
      {
        metric: 'dm sustained msgs/s on PostgreSQL + Redis, 2 gateways vs 1',
        unit: 'msgs/s',
        parley: two,
        baseline: one,
        baselineLabel: '1 gateway',
        ratio: ratio(two, one),
      },
    ],
    notes: [
      'Each node runs every role (PARLEY_ROLE=all); both run on the same 2-core machine as the generator, PostgreSQL and Redis, so this shows the cost of crossing the bus more than added capacity.',
    ],
  };
}

async function pgUnavailable(adminUrl: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL not reachable at ${redact(adminUrl)} (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisUnavailable(url: string): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (r: string | undefined): void => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(2000, () => done(`Redis not reachable at ${redact(url)} (timeout)`));
    sock.once('error', (err) => done(`Redis not reachable at ${redact(url)} (${err.message})`));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) =>
      done(
        d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')
          ? undefined
          : `Redis at ${redact(url)} answered ${d.toString().trim()}`,
      ),
    );
  });
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function createDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `parley_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
