/**
 * reconnect: N devices (users in DM pairs) connected while messages flow; all drop at once
 * and reconnect with `since` = the last seq each applied. Measures the time until every
 * device is back and caught up with its log head, the events replayed, and losses: per
 * device the seq stream must have no gap, and every acked message must have reached the
 * partner.
 */
import type { ConnStats, ReconnectResult, RunResult } from '../gen/messages.js';
import { GeneratorPool } from '../gen/pool.js';
import { nowUs, sleep } from '../lib/clock.js';
import { pick, ratio, type BenchContext, type ScenarioResult } from '../lib/context.js';
import { summarizeEncoded, type LatencySummary } from '../lib/hist.js';
import { launch } from '../lib/systems.js';
import type { TargetKind } from '../lib/target.js';

export interface ReconnectRun {
  devices: number;
  reconnected: number;
  failed: number;
  errors: string[];
  /** From the drop to the last device caught up (ms). */
  resumeMs: number;
  resumed: number;
  replayed: number;
  handshake: LatencySummary;
  sent: number;
  acked: number;
  skippedWhileDown: number;
  seqGaps: number;
  seqDups: number;
  /** Acked messages that never reached the partner. */
  lost: number;
}

export async function reconnect(ctx: BenchContext): Promise<ScenarioResult> {
  const cfg = {
    devices: ctx.size ?? pick(ctx.mode, 100, 10_000, 18_000),
    rate: pick(ctx.mode, 100, 1000, 1000),
    warmupMs: pick(ctx.mode, 500, 3000, 3000),
    flowMs: pick(ctx.mode, 2500, 30_000, 45_000),
    concurrencyPerWorker: 200,
    resumeTimeoutMs: pick(ctx.mode, 3000, 20_000, 30_000),
  };
  const targets: Partial<Record<TargetKind, ReconnectRun>> = {};
  for (const kind of ctx.targets) {
    const launched = await launch(ctx, kind, { users: cfg.devices, pairs: true }, { floorRing: 256 });
    const { target, world } = launched;
    const pool = await GeneratorPool.start({
      workers: ctx.workers,
      url: target.wsUrl,
      sourceAddresses: ctx.workers,
    });
    try {
      const conns = world.users.map((u, idx) => ({ idx, token: u.token }));
      await pool.connect(conns, 100);
      const senders = world.users.map((_, idx) => ({ idx, channelId: world.dms[Math.floor(idx / 2)]! }));
      const parts = pool.split(senders);
      const startUs = nowUs() + 200_000;
      const flow = pool.each<RunResult>((i) => ({
        cmd: 'run',
        step: 1,
        startUs,
        durationMs: cfg.flowMs,
        rate: (cfg.rate * parts[i]!.length) / senders.length,
        senders: parts[i]!,
        textLen: 100,
      }));
      await sleep(cfg.warmupMs);
      const t0 = nowUs();
      await pool.each(() => ({ cmd: 'drop' }));
      const rec = await pool.each<ReconnectResult>(() => ({
        cmd: 'reconnect',
        concurrency: cfg.concurrencyPerWorker,
        timeoutMs: cfg.resumeTimeoutMs,
      }));
      const resumeMs = (nowUs() - t0) / 1000;
      const runs = await flow;
      // Drain, then compare acked messages with what each partner received.
      let stats: ConnStats[] = [];
      for (let i = 0; i < 50; i++) {
        await sleep(100);
        stats = (await pool.each<ConnStats[]>(() => ({ cmd: 'connStats' }))).flat();
        if (lostOf(stats) === 0) break;
      }
      const run: ReconnectRun = {
        devices: cfg.devices,
        reconnected: rec.reduce((n, r) => n + r.connected, 0),
        failed: rec.reduce((n, r) => n + r.failed, 0),
        errors: [...new Set(rec.flatMap((r) => r.errors))],
        resumeMs: Math.round(Math.max(resumeMs, ...rec.map((r) => r.resumedMs))),
        resumed: rec.reduce((n, r) => n + r.resumed, 0),
        replayed: rec.reduce((n, r) => n + r.replayed, 0),
        handshake: summarizeEncoded(rec.map((r) => r.handshakeHist)),
        sent: runs.reduce((n, r) => n + r.sent, 0),
        acked: stats.reduce((n, s) => n + s.acked, 0),
        skippedWhileDown: runs.reduce((n, r) => n + r.skipped, 0),
        seqGaps: stats.reduce((n, s) => n + s.gaps, 0),
        seqDups: stats.reduce((n, s) => n + s.dups, 0),
        lost: lostOf(stats),
      };
      ctx.log(
        ` ${kind}: ${run.reconnected}/${cfg.devices} back, ${run.resumed} caught up in ${run.resumeMs} ms;` +
          ` replayed ${run.replayed}; sent ${run.sent} acked ${run.acked}; gaps ${run.seqGaps} dups ${run.seqDups} lost ${run.lost}` +
          (run.failed ? `; ${run.failed} failed: ${run.errors.join('; ')}` : ''),
      );
      targets[kind] = run;
    } finally {
      await pool.close();
      await launched.stop();
    }
  }
  const ms = (k: TargetKind): number | null => targets[k]?.resumeMs ?? null;
  return {
    config: cfg,
    targets,
    summary: [
      {
        metric: `time until ${cfg.devices.toLocaleString('en')} dropped devices are back and caught up`,
        unit: 'ms',
        parley: ms('parley'),
        baseline: ms('floor'),
        baselineLabel: 'floor',
        ratio: ratio(ms('parley'), ms('floor')),
      },
      {
        metric: 'acked messages lost across the reconnect (must be 0)',
        unit: 'msgs',
        parley: targets.parley?.lost ?? null,
        baseline: targets.floor?.lost ?? null,
        baselineLabel: 'floor',
        ratio: null,
        target: '= 0',
        met: targets.parley ? targets.parley.lost === 0 && targets.parley.seqGaps === 0 : null,
      },
    ],
    notes: [
      'The floor replays from a 256-event in-memory ring per user; Parley replays from its durable update log.',
      'Messages due while a sender was disconnected are skipped (counted), not queued.',
    ],
  };
}

/** Acked messages of each user that its DM partner (idx ^ 1) has not received. */
function lostOf(stats: readonly ConnStats[]): number {
  const byIdx = new Map(stats.map((s) => [s.idx, s]));
  let lost = 0;
  for (const s of stats) {
    const partner = byIdx.get(s.idx ^ 1);
    if (partner) lost += Math.max(0, s.acked - partner.received);
  }
  return lost;
}
