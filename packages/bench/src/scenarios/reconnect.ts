/**
 * reconnect: N devices (users in DM pairs) connected while messages flow; all drop at once
 * and reconnect with `since` = the last seq each applied. Measures the time until every
 * device is back and caught up with its log head, the events replayed, and losses: per
 * device the seq stream must have no gap, and every acked message must have reached the
 * partner.
 *
 * Every target is up at once and they take rounds in turn, in an order that rotates
 * (lib/interleave.ts). Each round starts from a fresh connect (every device's seq and counters
 * start again from its ready), and ends with every device dropped and the target settled. The
 * time to caught up is the median over the rounds; losses, gaps and dups are summed over them.
 */
import type { ConnStats, ReconnectResult, RunResult } from '../gen/messages.js';
import { GeneratorPool } from '../gen/pool.js';
import { nowUs, sleep } from '../lib/clock.js';
import { againstBaseline, pick, ratio, type BenchContext, type ScenarioResult } from '../lib/context.js';
import { summarizeEncoded, type LatencySummary } from '../lib/hist.js';
import {
  balancedRounds,
  median,
  PRESENCE_GRACE_MS,
  runLanes,
  settleAfterStep,
  type RoundLane,
} from '../lib/interleave.js';
import { launch } from '../lib/systems.js';
import type { ProcSample } from '../lib/proc.js';
import type { TargetKind } from '../lib/target.js';

/** One target's drop and reconnect in one round. */
export interface ReconnectRound {
  /** Its place in the round's order (1 = first). */
  place: number;
  reconnected: number;
  failed: number;
  errors: string[];
  /** From the drop to the last device caught up (ms). */
  resumeMs: number;
  /**
   * The server's CPU time (all its threads) over the same span, per device (µs): what a
   * reconnect costs the server, steadier from round to round than the time, which the generator
   * on the same cores shares.
   */
  serverCpuUsPerDevice: number;
  /**
   * The generator's CPU time (all its processes) over the same span, per device (µs). Server and
   * generator share the machine's two cores, so the round lasts about as long as both together
   * take: the time ratio to the floor is the CPU ratio diluted by the generator's share.
   */
  generatorCpuUsPerDevice: number;
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

/**
 * A target's figures over its rounds (combineReconnectRounds): `resumeMs` the median,
 * `reconnected` and `resumed` the fewest, `errors` every distinct one, the other counts summed,
 * and `handshake` every round's handshakes together.
 */
export interface ReconnectRun extends Omit<ReconnectRound, 'place'> {
  devices: number;
  rounds: ReconnectRound[];
}

/** A target's figures over its rounds: the median resume time, the worst round's counts, the rest summed. */
export function combineReconnectRounds(
  devices: number,
  rounds: readonly ReconnectRound[],
  handshake: LatencySummary,
): ReconnectRun {
  const sum = (f: (r: ReconnectRound) => number): number => rounds.reduce((n, r) => n + f(r), 0);
  const fewest = (f: (r: ReconnectRound) => number): number => (rounds.length ? Math.min(...rounds.map(f)) : 0);
  return {
    devices,
    reconnected: fewest((r) => r.reconnected),
    failed: sum((r) => r.failed),
    errors: [...new Set(rounds.flatMap((r) => r.errors))],
    resumeMs: Math.round(median(rounds.map((r) => r.resumeMs)) ?? 0),
    serverCpuUsPerDevice: Math.round(median(rounds.map((r) => r.serverCpuUsPerDevice)) ?? 0),
    generatorCpuUsPerDevice: Math.round(median(rounds.map((r) => r.generatorCpuUsPerDevice)) ?? 0),
    resumed: fewest((r) => r.resumed),
    replayed: sum((r) => r.replayed),
    handshake,
    sent: sum((r) => r.sent),
    acked: sum((r) => r.acked),
    skippedWhileDown: sum((r) => r.skippedWhileDown),
    seqGaps: sum((r) => r.seqGaps),
    seqDups: sum((r) => r.seqDups),
    lost: sum((r) => r.lost),
    rounds: [...rounds],
  };
}

interface ReconnectConfig {
  devices: number;
  rounds: number;
  rate: number;
  warmupMs: number;
  flowMs: number;
  afterDropMs: number;
  concurrencyPerWorker: number;
  resumeTimeoutMs: number;
}

type Lane = RoundLane<ReconnectRound>;

export async function reconnect(ctx: BenchContext): Promise<ScenarioResult> {
  const cfg: ReconnectConfig = {
    devices: ctx.size ?? pick(ctx.mode, 100, 10_000, 18_000),
    rounds: balancedRounds(pick(ctx.mode, 2, 3, 3), ctx.targets.length),
    rate: pick(ctx.mode, 100, 1000, 1000),
    warmupMs: pick(ctx.mode, 500, 3000, 3000),
    flowMs: pick(ctx.mode, 2500, 30_000, 45_000),
    // Past Parley's presence grace, when it takes the users dropped at the end of a round
    // offline (a hundred in a quick run, too few to matter).
    afterDropMs: pick(ctx.mode, 500, PRESENCE_GRACE_MS + 1000, PRESENCE_GRACE_MS + 1000),
    concurrencyPerWorker: 200,
    resumeTimeoutMs: pick(ctx.mode, 3000, 20_000, 30_000),
  };
  const addresses = ctx.workers;
  const lanes = await runLanes<ReconnectRound>(
    ctx,
    {
      launch: (kind) => launch(ctx, kind, { users: cfg.devices, pairs: true }, { floorRing: 256 }),
      pool: (launched) =>
        GeneratorPool.start({ workers: ctx.workers, url: launched.target.wsUrl, sourceAddresses: addresses }),
    },
    cfg.rounds,
    (lane, round, place) => reconnectRound(ctx, cfg, lane, round, place),
  );
  const targets: Partial<Record<TargetKind, ReconnectRun>> = {};
  for (const lane of lanes) {
    targets[lane.kind] = combineReconnectRounds(cfg.devices, lane.rounds, summarizeEncoded(lane.hists));
  }
  return {
    config: { ...cfg },
    targets,
    summary: reconnectSummary(targets, cfg),
    notes: [
      'The floor replays from a 256-event in-memory ring per user; Parley replays from its durable update log.',
      'Messages due while a sender was disconnected are skipped (counted), not queued.',
      `Time to caught up: median over ${cfg.rounds} rounds; losses, gaps and dups: summed over them. All targets are up at once; in each round every target connects all devices afresh, lets messages flow, drops and reconnects them, then drops them and waits until idle before the next, in an order that rotates from round to round.`,
    ],
  };
}

/**
 * One target's turn in a round. It connects every device afresh (the worker starts each device's
 * seq at its ready and its counters at zero), so the round's losses are its own; it ends with
 * every device dropped, past the presence grace, and the target idle.
 */
async function reconnectRound(
  ctx: BenchContext,
  cfg: ReconnectConfig,
  lane: Lane,
  round: number,
  place: number,
): Promise<void> {
  const { target, world } = lane.launched;
  const { pool } = lane;
  const conns = world.users.map((u, idx) => ({ idx, token: u.token }));
  const connected = await pool.connect(conns, 100);
  const connectFailures = connected.reduce((n, c) => n + c.failed, 0);
  if (connectFailures > 0) {
    ctx.log(
      `  ${lane.kind}: ${connectFailures} first connects failed: ${connected.flatMap((c) => c.errors).join('; ')}`,
    );
  }
  const senders = world.users.map((_, idx) => ({ idx, channelId: world.dms[Math.floor(idx / 2)]! }));
  const parts = pool.split(senders);
  const startUs = nowUs() + 200_000;
  const flow = pool.each<RunResult>((i) => ({
    cmd: 'run',
    // A step number of its own per round: the worker keeps each step's counters.
    step: round + 1,
    startUs,
    durationMs: cfg.flowMs,
    rate: (cfg.rate * parts[i]!.length) / senders.length,
    senders: parts[i]!,
    textLen: 100,
  }));
  await sleep(cfg.warmupMs);
  const t0 = nowUs();
  const cpuBefore = target.sample();
  const generatorBefore = pool.sample();
  await pool.each(() => ({ cmd: 'drop' }));
  const rec = await pool.each<ReconnectResult>(() => ({
    cmd: 'reconnect',
    concurrency: cfg.concurrencyPerWorker,
    timeoutMs: cfg.resumeTimeoutMs,
  }));
  const resumeMs = (nowUs() - t0) / 1000;
  const cpuAfter = target.sample();
  const generatorAfter = pool.sample();
  const runs = await flow;
  // Drain, then compare acked messages with what each partner received.
  let stats: ConnStats[] = [];
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    stats = (await pool.each<ConnStats[]>(() => ({ cmd: 'connStats' }))).flat();
    if (lostOf(stats) === 0) break;
  }
  const r: ReconnectRound = {
    place,
    reconnected: rec.reduce((n, x) => n + x.connected, 0),
    failed: rec.reduce((n, x) => n + x.failed, 0),
    errors: [...new Set(rec.flatMap((x) => x.errors))],
    resumeMs: Math.round(Math.max(resumeMs, ...rec.map((x) => x.resumedMs))),
    serverCpuUsPerDevice: cpuUsPerDevice(cpuBefore, cpuAfter, cfg.devices),
    generatorCpuUsPerDevice: cpuUsPerDevice(generatorBefore, generatorAfter, cfg.devices),
    resumed: rec.reduce((n, x) => n + x.resumed, 0),
    replayed: rec.reduce((n, x) => n + x.replayed, 0),
    handshake: summarizeEncoded(rec.map((x) => x.handshakeHist)),
    sent: runs.reduce((n, x) => n + x.sent, 0),
    acked: stats.reduce((n, s) => n + s.acked, 0),
    skippedWhileDown: runs.reduce((n, x) => n + x.skipped, 0),
    seqGaps: stats.reduce((n, s) => n + s.gaps, 0),
    seqDups: stats.reduce((n, s) => n + s.dups, 0),
    lost: lostOf(stats),
  };
  lane.rounds.push(r);
  lane.hists.push(...rec.map((x) => x.handshakeHist));
  ctx.log(
    `  ${lane.kind}: ${r.reconnected}/${cfg.devices} back, ${r.resumed} caught up in ${r.resumeMs} ms` +
      ` (CPU per device: server ${r.serverCpuUsPerDevice} µs, generator ${r.generatorCpuUsPerDevice} µs);` +
      ` replayed ${r.replayed}; sent ${r.sent} acked ${r.acked}; gaps ${r.seqGaps} dups ${r.seqDups} lost ${r.lost}` +
      (r.failed ? `; ${r.failed} failed: ${r.errors.join('; ')}` : ''),
  );
  await pool.each(() => ({ cmd: 'drop' }));
  await sleep(cfg.afterDropMs);
  await settleAfterStep(ctx, target);
}

export function reconnectSummary(
  targets: Partial<Record<TargetKind, ReconnectRun>>,
  cfg: { devices: number; rounds: number },
): ScenarioResult['summary'] {
  const ms = (k: TargetKind): number | null => targets[k]?.resumeMs ?? null;
  const msRatio = ratio(ms('parley'), ms('floor'));
  const cpu = (k: TargetKind): number | null => targets[k]?.serverCpuUsPerDevice ?? null;
  const parley = targets.parley;
  const baselineRows = targets.baseline
    ? [
        againstBaseline(
          `time until caught up, this build against the baseline build, median of ${cfg.rounds} interleaved rounds`,
          'ms',
          ms,
        ),
        againstBaseline(
          `server CPU per device, this build against the baseline build, median of ${cfg.rounds} rounds`,
          'µs',
          cpu,
        ),
      ]
    : [];
  return [
    {
      metric: `time until ${cfg.devices.toLocaleString('en')} dropped devices are back and caught up, median of ${cfg.rounds} interleaved rounds`,
      unit: 'ms',
      parley: ms('parley'),
      baseline: ms('floor'),
      baselineLabel: 'floor',
      ratio: msRatio,
      target: '<= 1.2',
      met: msRatio === null ? null : msRatio <= 1.2,
    },
    {
      metric: `server CPU from the drop until caught up, per device, median of ${cfg.rounds} rounds`,
      unit: 'µs',
      parley: cpu('parley'),
      baseline: cpu('floor'),
      baselineLabel: 'floor',
      ratio: ratio(cpu('parley'), cpu('floor')),
    },
    {
      metric: `acked messages lost across the reconnect, all ${cfg.rounds} rounds (must be 0)`,
      unit: 'msgs',
      parley: parley?.lost ?? null,
      baseline: targets.floor?.lost ?? null,
      baselineLabel: 'floor',
      ratio: null,
      target: '= 0',
      met: parley ? parley.lost === 0 && parley.seqGaps === 0 && parley.seqDups === 0 : null,
    },
    ...baselineRows,
  ];
}

function cpuUsPerDevice(before: ProcSample | undefined, after: ProcSample | undefined, devices: number): number {
  return before && after ? Math.round(((after.cpuS - before.cpuS) * 1e6) / devices) : 0;
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
