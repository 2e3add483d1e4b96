/**
 * connections: N authenticated idle sessions. Connect rate, server memory per connection
 * (RSS delta / N) and server CPU while idle with heartbeats. Past one source address's
 * ephemeral ports the generator spreads over 127.0.0.x; one server process holds at most
 * ~19,000 sockets (open-file cap 20,000), so N stops there.
 */
import { GeneratorPool } from '../gen/pool.js';
import { sleep } from '../lib/clock.js';
import { pick, ratio, type BenchContext, type ScenarioResult } from '../lib/context.js';
import { summarizeEncoded, type LatencySummary } from '../lib/hist.js';
import { cpuBetween } from '../lib/proc.js';
import { launch } from '../lib/systems.js';
import type { TargetKind } from '../lib/target.js';

export interface ConnectionsRun {
  requested: number;
  connected: number;
  failed: number;
  errors: string[];
  connectSeconds: number;
  connectsPerS: number;
  handshake: LatencySummary;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerConnection: number;
  idleServerCpu: number;
  idleGeneratorCpu: number;
}

export async function connections(ctx: BenchContext): Promise<ScenarioResult> {
  const cfg = {
    connections: ctx.size ?? pick(ctx.mode, 200, 10_000, 18_000),
    settleMs: pick(ctx.mode, 500, 3000, 3000),
    idleMs: pick(ctx.mode, 1000, 10_000, 20_000),
    heartbeatMs: 5000,
    concurrencyPerWorker: 100,
  };
  const sourceAddresses = Math.max(1, Math.ceil(cfg.connections / 20_000));
  const targets: Partial<Record<TargetKind, ConnectionsRun>> = {};
  for (const kind of ctx.targets) {
    const launched = await launch(ctx, kind, { users: cfg.connections });
    const { target, world } = launched;
    const workers = Math.max(ctx.workers, Math.ceil(cfg.connections / 15_000));
    const pool = await GeneratorPool.start({
      workers,
      url: target.wsUrl,
      heartbeatMs: cfg.heartbeatMs,
      sourceAddresses: Math.max(sourceAddresses, workers),
    });
    try {
      await sleep(cfg.settleMs);
      const before = target.sample();
      const res = await pool.connect(
        world.users.map((u, idx) => ({ idx, token: u.token })),
        cfg.concurrencyPerWorker,
      );
      const connected = res.reduce((n, r) => n + r.connected, 0);
      const failed = res.reduce((n, r) => n + r.failed, 0);
      const secs = Math.max(...res.map((r) => r.durationMs)) / 1000;
      await sleep(cfg.settleMs);
      const s0 = target.sample();
      const g0 = pool.sample();
      await sleep(cfg.idleMs);
      const s1 = target.sample();
      const g1 = pool.sample();
      const run: ConnectionsRun = {
        requested: cfg.connections,
        connected,
        failed,
        errors: [...new Set(res.flatMap((r) => r.errors))],
        connectSeconds: Math.round(secs * 1000) / 1000,
        connectsPerS: Math.round(connected / secs),
        handshake: summarizeEncoded(res.map((r) => r.handshakeHist)),
        rssBeforeMiB: Math.round(((before?.rssBytes ?? 0) / 2 ** 20) * 10) / 10,
        rssAfterMiB: Math.round(((s1?.rssBytes ?? 0) / 2 ** 20) * 10) / 10,
        bytesPerConnection: connected ? Math.round(((s1?.rssBytes ?? 0) - (before?.rssBytes ?? 0)) / connected) : 0,
        idleServerCpu: cpuBetween(s0, s1),
        idleGeneratorCpu: cpuBetween(g0, g1),
      };
      ctx.log(
        ` ${kind}: ${connected}/${cfg.connections} connected in ${run.connectSeconds} s (${run.connectsPerS}/s),` +
          ` ${Math.round(run.bytesPerConnection / 102.4) / 10} KiB/conn, idle cpu ${run.idleServerCpu}` +
          (failed ? `; ${failed} failed: ${run.errors.join('; ')}` : ''),
      );
      targets[kind] = run;
    } finally {
      await pool.close();
      await launched.stop();
    }
  }
  const kib = (k: TargetKind): number | null => {
    const r = targets[k];
    return r && r.connected > 0 ? Math.round((r.bytesPerConnection / 1024) * 10) / 10 : null;
  };
  const memRatio = ratio(kib('parley'), kib('floor'));
  const rate = (k: TargetKind): number | null => targets[k]?.connectsPerS ?? null;
  const cpu = (k: TargetKind): number | null => targets[k]?.idleServerCpu ?? null;
  return {
    config: { ...cfg, sourceAddresses },
    targets,
    summary: [
      {
        metric: `memory per idle authenticated connection (${cfg.connections.toLocaleString('en')} connections)`,
        unit: 'KiB',
        parley: kib('parley'),
        baseline: kib('floor'),
        baselineLabel: 'floor',
        ratio: memRatio,
        target: '<= 2',
        met: memRatio === null ? null : memRatio <= 2,
      },
      {
        metric: 'connect rate (WebSocket upgrade + hello -> ready)',
        unit: 'conn/s',
        parley: rate('parley'),
        baseline: rate('floor'),
        baselineLabel: 'floor',
        ratio: ratio(rate('parley'), rate('floor')),
      },
      {
        metric: `server CPU while idle, heartbeats every ${cfg.heartbeatMs / 1000} s`,
        unit: 'cores',
        parley: cpu('parley'),
        baseline: cpu('floor'),
        baselineLabel: 'floor',
        ratio: ratio(cpu('parley'), cpu('floor')),
      },
    ],
    notes: ['Memory per connection = (server RSS after connecting and settling - RSS before) / connections.'],
  };
}
