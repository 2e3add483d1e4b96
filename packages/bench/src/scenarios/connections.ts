/**
 * connections: N authenticated idle sessions. Connect rate, server memory per connection
 * (RSS delta / N) and server CPU while idle with heartbeats. Past one source address's
 * ephemeral ports the generator spreads over 127.0.0.x; one server process holds at most
 * ~19,000 sockets (open-file cap 20,000), so N stops there.
 *
 * Every target is up at once and they connect in turn, over several rounds whose order rotates
 * (lib/interleave.ts): each connects all N devices, drops them and settles before the next. The
 * connect rate is the median over the rounds; memory and idle CPU are read in the first round,
 * on a fresh process, and the heap a connection holds (after a full collection, lib/heap-probe.ts)
 * in the second.
 */
import { GeneratorPool } from '../gen/pool.js';
import type { ConnectResult } from '../gen/messages.js';
import { sleep } from '../lib/clock.js';
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
import { cpuBetween, type ProcSample } from '../lib/proc.js';
import { launch } from '../lib/systems.js';
import type { TargetKind } from '../lib/target.js';

/** One target's connect of all N devices in one round. */
export interface ConnectRound {
  /** Its place in the round's order (1 = first). */
  place: number;
  connected: number;
  failed: number;
  errors: string[];
  connectSeconds: number;
  connectsPerS: number;
  handshake: LatencySummary;
}

/**
 * A target's figures over its rounds (combineConnectRounds): `connectSeconds` and `connectsPerS`
 * the medians, `connected` the fewest, `failed` summed, `errors` every distinct one, `handshake`
 * every round's handshakes together; memory and idle CPU from the first round, the heap from the
 * second.
 */
export interface ConnectionsRun extends Omit<ConnectRound, 'place'> {
  requested: number;
  rounds: ConnectRound[];
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerConnection: number;
  idleServerCpu: number;
  idleGeneratorCpu: number;
  /**
   * The main thread's heap after a full collection with every device connected and idle, less
   * the same with none, per connection (second round); null when not read.
   */
  heapBytesPerConnection: number | null;
}

/** What the first round reads beside the connect rate. */
export type FirstRoundFigures = Pick<
  ConnectionsRun,
  'rssBeforeMiB' | 'rssAfterMiB' | 'bytesPerConnection' | 'idleServerCpu' | 'idleGeneratorCpu'
>;

/** A target's figures over its rounds: medians of the rates, the worst round's count, failures summed. */
export function combineConnectRounds(
  requested: number,
  rounds: readonly ConnectRound[],
  handshake: LatencySummary,
  first: FirstRoundFigures,
  heapBytesPerConnection: number | null = null,
): ConnectionsRun {
  return {
    requested,
    connected: rounds.length ? Math.min(...rounds.map((r) => r.connected)) : 0,
    failed: rounds.reduce((n, r) => n + r.failed, 0),
    errors: [...new Set(rounds.flatMap((r) => r.errors))],
    connectSeconds: Math.round((median(rounds.map((r) => r.connectSeconds)) ?? 0) * 1000) / 1000,
    connectsPerS: Math.round(median(rounds.map((r) => r.connectsPerS)) ?? 0),
    handshake,
    rounds: [...rounds],
    ...first,
    heapBytesPerConnection,
  };
}

type Lane = RoundLane<ConnectRound>;

const mib = (bytes: number | undefined): number => Math.round(((bytes ?? 0) / 2 ** 20) * 10) / 10;

export async function connections(ctx: BenchContext): Promise<ScenarioResult> {
  const cfg = {
    connections: ctx.size ?? pick(ctx.mode, 200, 10_000, 18_000),
    rounds: balancedRounds(pick(ctx.mode, 2, 3, 3), ctx.targets.length),
    settleMs: pick(ctx.mode, 500, 3000, 3000),
    idleMs: pick(ctx.mode, 1000, 10_000, 20_000),
    // Past Parley's presence grace, when it takes the dropped users offline (a few hundred in a
    // quick run, too few to matter).
    afterDropMs: pick(ctx.mode, 500, PRESENCE_GRACE_MS + 1000, PRESENCE_GRACE_MS + 1000),
    heartbeatMs: 5000,
    concurrencyPerWorker: 100,
  };
  const sourceAddresses = Math.max(1, Math.ceil(cfg.connections / 20_000));
  const workers = Math.max(ctx.workers, Math.ceil(cfg.connections / 15_000));
  const addresses = Math.max(sourceAddresses, workers);
  const firsts = new Map<TargetKind, FirstRoundFigures>();
  const heaps = new Map<TargetKind, number>();
  const lanes = await runLanes<ConnectRound>(
    ctx,
    {
      launch: (kind) => launch(ctx, kind, { users: cfg.connections }),
      pool: (launched) =>
        GeneratorPool.start({
          workers,
          url: launched.target.wsUrl,
          heartbeatMs: cfg.heartbeatMs,
          sourceAddresses: addresses,
        }),
      settleMs: cfg.settleMs,
    },
    cfg.rounds,
    (lane, round, place) => connectRound(ctx, cfg, lane, round, place, firsts, heaps),
  );
  const targets: Partial<Record<TargetKind, ConnectionsRun>> = {};
  for (const lane of lanes) {
    const first = firsts.get(lane.kind)!;
    targets[lane.kind] = combineConnectRounds(
      cfg.connections,
      lane.rounds,
      summarizeEncoded(lane.hists),
      first,
      heaps.get(lane.kind) ?? null,
    );
  }
  return {
    config: { ...cfg, sourceAddresses: addresses },
    targets,
    summary: connectionsSummary(targets, cfg),
    notes: [
      'Memory per connection = (server RSS with all devices connected and idle - RSS with the first half connected and settled) / the second half, in the first round.',
      'Heap per connection = (the main thread heap in use after a full collection, all devices connected and settled - the same before they connect) / the devices, in the second round.',
      `Connect rate: median over ${cfg.rounds} rounds. All targets are up at once; in each round every target connects all devices, drops them and waits until idle before the next, in an order that rotates from round to round.`,
    ],
  };
}

/**
 * One target's turn in a round: connect everything (first round: memory and idle CPU too; second
 * round: the heap), drop, settle.
 */
async function connectRound(
  ctx: BenchContext,
  cfg: { connections: number; settleMs: number; idleMs: number; afterDropMs: number; concurrencyPerWorker: number },
  lane: Lane,
  round: number,
  place: number,
  /** Where the first round leaves its memory and idle CPU figures. */
  firsts: Map<TargetKind, FirstRoundFigures>,
  /** Where the second round leaves the heap per connection. */
  heaps: Map<TargetKind, number>,
): Promise<void> {
  const { target, world } = lane.launched;
  const { pool } = lane;
  const devices = world.users.map((u, idx) => ({ idx, token: u.token }));
  // In the first round the devices come in two halves, and memory per connection is what the
  // second half adds: the first pays the costs that belong to no one connection (heap growth,
  // compiled code), which a server idle before its first connect has shed, so a delta from
  // before the first connection read 11.9 or 14.7 KiB for the same build.
  const half = Math.floor(devices.length / 2);
  const batches = round === 0 ? [devices.slice(0, half), devices.slice(half)] : [devices];
  const res: ConnectResult[] = [];
  let secs = 0;
  let afterFirstHalf: ProcSample | undefined;
  let secondHalf = 0;
  // Read apart from the RSS (a forced collection changes when the next one comes), and before the
  // connects, so that what outlives a connection (per-user caches filled in the first round) is
  // in both readings.
  const heapBefore = round === 1 ? await target.heapAfterCollection?.() : undefined;
  for (const [i, batch] of batches.entries()) {
    const part = await pool.connect(batch, cfg.concurrencyPerWorker);
    res.push(...part);
    secs += Math.max(...part.map((x) => x.durationMs)) / 1000;
    if (round === 0 && i === 0) {
      await sleep(cfg.settleMs);
      afterFirstHalf = target.sample();
    } else if (round === 0) {
      secondHalf = part.reduce((n, x) => n + x.connected, 0);
    }
  }
  const connected = res.reduce((n, r) => n + r.connected, 0);
  const failed = res.reduce((n, r) => n + r.failed, 0);
  const r: ConnectRound = {
    place,
    connected,
    failed,
    errors: [...new Set(res.flatMap((x) => x.errors))],
    connectSeconds: Math.round(secs * 1000) / 1000,
    connectsPerS: Math.round(connected / secs),
    handshake: summarizeEncoded(res.map((x) => x.handshakeHist)),
  };
  lane.rounds.push(r);
  lane.hists.push(...res.map((x) => x.handshakeHist));
  let memory = '';
  if (round === 0) {
    await sleep(cfg.settleMs);
    const s0 = target.sample();
    const g0 = pool.sample();
    await sleep(cfg.idleMs);
    const s1 = target.sample();
    const g1 = pool.sample();
    const first: FirstRoundFigures = {
      rssBeforeMiB: mib(afterFirstHalf?.rssBytes),
      rssAfterMiB: mib(s1?.rssBytes),
      bytesPerConnection: secondHalf
        ? Math.round(((s1?.rssBytes ?? 0) - (afterFirstHalf?.rssBytes ?? 0)) / secondHalf)
        : 0,
      idleServerCpu: cpuBetween(s0, s1),
      idleGeneratorCpu: cpuBetween(g0, g1),
    };
    firsts.set(lane.kind, first);
    memory = `, ${Math.round(first.bytesPerConnection / 102.4) / 10} KiB/conn, idle cpu ${first.idleServerCpu}`;
  }
  if (heapBefore !== undefined && connected > 0) {
    await sleep(cfg.settleMs);
    const heapAfter = await target.heapAfterCollection!();
    const perConnection = Math.round((heapAfter - heapBefore) / connected);
    heaps.set(lane.kind, perConnection);
    memory = `, heap ${Math.round(perConnection / 102.4) / 10} KiB/conn after a full collection`;
  }
  ctx.log(
    `  ${lane.kind}: ${connected}/${cfg.connections} connected in ${r.connectSeconds} s (${r.connectsPerS}/s)${memory}` +
      (failed ? `; ${failed} failed: ${r.errors.join('; ')}` : ''),
  );
  await pool.each(() => ({ cmd: 'drop' }));
  await sleep(cfg.afterDropMs);
  await settleAfterStep(ctx, target);
}

export function connectionsSummary(
  targets: Partial<Record<TargetKind, ConnectionsRun>>,
  cfg: { connections: number; heartbeatMs: number; rounds: number },
): ScenarioResult['summary'] {
  const kib = (k: TargetKind): number | null => {
    const r = targets[k];
    return r && r.connected > 0 ? Math.round((r.bytesPerConnection / 1024) * 10) / 10 : null;
  };
  const memRatio = ratio(kib('parley'), kib('floor'));
  const rate = (k: TargetKind): number | null => targets[k]?.connectsPerS ?? null;
  const rateRatio = ratio(rate('parley'), rate('floor'));
  const cpu = (k: TargetKind): number | null => targets[k]?.idleServerCpu ?? null;
  const heapKib = (k: TargetKind): number | null => {
    const bytes = targets[k]?.heapBytesPerConnection;
    return bytes == null ? null : Math.round((bytes / 1024) * 10) / 10;
  };
  return [
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
      metric: `connect rate (WebSocket upgrade + hello -> ready), median of ${cfg.rounds} interleaved rounds`,
      unit: 'conn/s',
      parley: rate('parley'),
      baseline: rate('floor'),
      baselineLabel: 'floor',
      ratio: rateRatio,
      target: '>= 0.6',
      met: rateRatio === null ? null : rateRatio >= 0.6,
    },
    {
      metric: `server CPU while idle, heartbeats every ${cfg.heartbeatMs / 1000} s`,
      unit: 'cores',
      parley: cpu('parley'),
      baseline: cpu('floor'),
      baselineLabel: 'floor',
      ratio: ratio(cpu('parley'), cpu('floor')),
    },
    {
      metric: 'heap per idle authenticated connection, after a full collection',
      unit: 'KiB',
      parley: heapKib('parley'),
      baseline: heapKib('floor'),
      baselineLabel: 'floor',
      ratio: ratio(heapKib('parley'), heapKib('floor')),
    },
    ...(targets.baseline
      ? [
          againstBaseline(
            'memory per idle authenticated connection, this build against the baseline build',
            'KiB',
            kib,
          ),
          againstBaseline(
            'heap per idle authenticated connection, this build against the baseline build',
            'KiB',
            heapKib,
          ),
          againstBaseline(
            `connect rate, this build against the baseline build, median of ${cfg.rounds} interleaved rounds`,
            'conn/s',
            rate,
          ),
        ]
      : []),
  ];
}
