/** group: one 100-member group, all online, 10 senders, stepped message rate; deliveries = messages x 99. */
import type { ConnStats } from '../gen/messages.js';
import { GeneratorPool } from '../gen/pool.js';
import { pick, ratio, type BenchContext, type ScenarioResult } from '../lib/context.js';
import { atCommonRate, maxSustained, runSteps, type StepResult } from '../lib/steps.js';
import { launch } from '../lib/systems.js';
import type { TargetKind } from '../lib/target.js';

export interface GroupRun {
  steps: StepResult[];
  maxSustainedDeliveriesPerS: number | null;
  maxSustainedMsgsPerS: number | null;
  connectFailures: number;
  seqGaps: number;
  seqDups: number;
}

export async function group(ctx: BenchContext): Promise<ScenarioResult> {
  const members = 100;
  const cfg = {
    members,
    senders: 10,
    textLen: 100,
    rates:
      ctx.rates ??
      pick(
        ctx.mode,
        [20],
        // Parley passed 1,000 msgs/s (99,000 deliveries/s), the old ladder's top (report notes, session 7's changes).
        [20, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000],
        [20, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000],
      ),
    stepMs: ctx.stepMs ?? pick(ctx.mode, 1000, 10_000, 15_000),
    warmupMs: pick(ctx.mode, 0, 3000, 3000),
    drainMs: pick(ctx.mode, 2000, 5000, 5000),
    p99BoundMs: 100,
  };
  const targets: Partial<Record<TargetKind, GroupRun>> = {};
  for (const kind of ctx.targets) {
    const all = Array.from({ length: members }, (_, i) => i);
    const launched = await launch(ctx, kind, { users: members, groups: [all] });
    const { target, world } = launched;
    const pool = await GeneratorPool.start({ workers: ctx.workers, url: target.wsUrl });
    try {
      const connected = await pool.connect(
        world.users.map((u, idx) => ({ idx, token: u.token })),
        20,
      );
      const failures = connected.reduce((n, c) => n + c.failed, 0);
      ctx.log(` ${kind}: ${members} members, ${cfg.senders} senders`);
      const channelId = world.groups[0]!;
      const steps = await runSteps(
        target,
        pool,
        {
          senders: Array.from({ length: cfg.senders }, (_, i) => ({ idx: i * 10, channelId })),
          rates: cfg.rates,
          stepMs: cfg.stepMs,
          warmupMs: cfg.warmupMs,
          drainMs: cfg.drainMs,
          textLen: cfg.textLen,
          fanout: members - 1,
          p99BoundMs: cfg.p99BoundMs,
          stopOnFail: true,
          diskProbeDir: ctx.tmpDir,
        },
        ctx.log,
      );
      const stats = (await pool.each<ConnStats[]>(() => ({ cmd: 'connStats' }))).flat();
      targets[kind] = {
        steps,
        maxSustainedDeliveriesPerS: maxSustained(steps, (s) => s.offered * (members - 1)),
        maxSustainedMsgsPerS: maxSustained(steps, (s) => s.offered),
        connectFailures: failures,
        seqGaps: stats.reduce((n, s) => n + s.gaps, 0),
        seqDups: stats.reduce((n, s) => n + s.dups, 0),
      };
    } finally {
      await pool.close();
      await launched.stop();
    }
  }
  const p = targets.parley?.maxSustainedDeliveriesPerS ?? null;
  const f = targets.floor?.maxSustainedDeliveriesPerS ?? null;
  const r = ratio(p, f);
  const common = atCommonRate(targets.parley?.steps, targets.floor?.steps, (s) => s.delivery.p99);
  return {
    config: cfg,
    targets,
    summary: [
      {
        metric: `group sustained deliveries/s (${members} members, ${cfg.senders} senders, p99 < ${cfg.p99BoundMs} ms, no loss)`,
        unit: 'deliveries/s',
        parley: p,
        baseline: f,
        baselineLabel: 'floor',
        others: { 'floor + SQLite': targets['floor-sqlite']?.maxSustainedDeliveriesPerS ?? null },
        ratio: r,
        target: '>= 0.5',
        met: r === null ? null : r >= 0.5,
      },
      ...(common
        ? [
            {
              metric: `group delivery p99 at ${(common.rate * (members - 1)).toLocaleString('en')} deliveries/s (highest step both sustained)`,
              unit: 'ms',
              parley: common.a,
              baseline: common.b,
              baselineLabel: 'floor',
              ratio: ratio(common.a, common.b),
            },
          ]
        : []),
    ],
    notes: [
      'Deliveries count event frames to the 99 members other than the sender (the sender also gets its own echo).',
    ],
  };
}
