/**
 * cluster: the dm scenario against 1 and then 2 Parley gateways on PostgreSQL + Redis, to
 * show how throughput scales with nodes on one machine. Needs the scale-out backends:
 * PARLEY_BENCH_DATABASE_URL (or PARLEY_TEST_PG_URL) and PARLEY_BENCH_REDIS_URL (or
 * PARLEY_TEST_REDIS_URL). Without them it reports itself skipped. Users are made over HTTP
 * (the Postgres schema belongs to the adapter), and DM partners sit on different gateways
 * so every message crosses the bus.
 */
import path from 'node:path';
import { pick, ratio, type BenchContext, type ScenarioResult } from '../lib/context.js';
import { combine, startParley, type Target } from '../lib/target.js';
import { setupHttp } from '../lib/world.js';
import { dmConfig, runPairs, type DmRun } from './dm.js';

export async function cluster(ctx: BenchContext): Promise<ScenarioResult> {
  const dbUrl = process.env.PARLEY_BENCH_DATABASE_URL ?? process.env.PARLEY_TEST_PG_URL;
  const redisUrl = process.env.PARLEY_BENCH_REDIS_URL ?? process.env.PARLEY_TEST_REDIS_URL;
  const base = dmConfig(ctx);
  const cfg = {
    ...base,
    users: pick(ctx.mode, 40, 1000, 1000),
    textLens: [100],
    gateways: [1, 2],
  };
  if (!dbUrl || !redisUrl) {
    return {
      config: cfg,
      targets: {},
      summary: [],
      notes: [
        'skipped: set PARLEY_BENCH_DATABASE_URL (postgres://...) and PARLEY_BENCH_REDIS_URL (redis://...) to run the cluster scenario',
      ],
    };
  }
  const results: Record<string, DmRun[]> = {};
  for (const n of cfg.gateways) {
    const prefix = `bench${Date.now().toString(36)}:`;
    const nodes: Target[] = [];
    try {
      for (let g = 0; g < n; g++) {
        nodes.push(
          await startParley({
            dataDir: path.join(ctx.tmpDir, `cluster-${n}-${g}`),
            logDir: path.join(ctx.tmpDir, 'logs'),
            name: `gateway-${n}-${g}`,
            env: { PARLEY_DATABASE_URL: dbUrl, PARLEY_REDIS_URL: redisUrl, PARLEY_REDIS_PREFIX: prefix },
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
    notes: ['Both gateways run on the same 2-core machine as the generator, PostgreSQL and Redis.'],
  };
}
