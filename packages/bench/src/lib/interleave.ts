/**
 * Running several targets side by side: all up at once, taking a step (or a round) each in
 * turn, in an order that rotates, each waiting for the one before it to settle. Why: on this
 * machine a target run after another met a different machine (the whole box has slow periods),
 * and the ratios depended on who went first (report notes, findings 15 and 29).
 */
import type { GeneratorPool } from '../gen/pool.js';
import type { BenchContext } from './context.js';
import { sleep } from './clock.js';
import { waitForQuietDisk } from './disk.js';
import { cpuBetween } from './proc.js';
import type { Launched } from './systems.js';
import type { Target, TargetKind } from './target.js';

/**
 * The order in which the targets take the k-th step of a ladder (or round of a scenario): rotated
 * one place per step, so that over the ladder each target goes first, second and last equally often.
 */
export function stepOrder<T>(targets: readonly T[], k: number): T[] {
  const n = targets.length;
  return targets.map((_, i) => targets[(i + k) % n]!);
}

/**
 * At least `wanted` rounds, rounded up to a multiple of the number of targets, so that each
 * target takes every place in the order equally often (stepOrder): with two targets and three
 * rounds the floor went first twice and Parley once, so the medians compared rounds run in
 * different places.
 */
export function balancedRounds(wanted: number, targets: number): number {
  return Math.ceil(wanted / Math.max(1, targets)) * Math.max(1, targets);
}

/** The median of the figures (the mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Longest a step waits for the target before it to go idle. */
const SETTLE_MAX_MS = 15_000;

/**
 * Waits until the target that just ran a step has finished what the step left it (Parley's
 * checkpoint and its log moving a few seconds behind) and the disk has gone quiet, so the next
 * target's step does not pay for it.
 */
export async function settleAfterStep(ctx: BenchContext, target: Target): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < SETTLE_MAX_MS) {
    const before = target.sample();
    await sleep(250);
    if (cpuBetween(before, target.sample()) < 0.05) break;
  }
  const idleMs = Math.round(performance.now() - start);
  const { waitedMs } = await waitForQuietDisk(ctx.tmpDir, 50);
  ctx.log(`  (${target.kind} idle after ${idleMs} ms, disk quiet after ${waitedMs} ms more)`);
}

/**
 * How long after its devices dropped a target may still start work for them: Parley keeps each
 * user online for its presence grace (PARLEY_PRESENCE_GRACE_MS, 3 s by default, passed through
 * to the server) and then takes them offline in a burst of writes, after an idle check right
 * after the drop would already have passed.
 */
export const PRESENCE_GRACE_MS = Number(process.env.PARLEY_PRESENCE_GRACE_MS ?? 3000);

/** One target of a scenario run in rounds: its process, its generator and what its rounds recorded. */
export interface RoundLane<R> {
  kind: TargetKind;
  launched: Launched;
  pool: GeneratorPool;
  rounds: R[];
  /** Encoded handshake histograms of every round. */
  hists: string[];
}

/** How runLanes brings up a target: its process, then a generator pool aimed at it. */
export interface LaneStart {
  launch: (kind: TargetKind) => Promise<Launched>;
  pool: (launched: Launched) => Promise<GeneratorPool>;
  /** A wait after every target is up, before the first round. */
  settleMs?: number;
}

/**
 * Brings up every target of the run, each with a generator pool of its own, runs `rounds`
 * rounds over them (in each, every lane takes its turn in the order stepOrder gives that round;
 * `place` is its 1-based place in it), and stops them all, also when a round fails. The lanes,
 * with what their rounds recorded.
 */
export async function runLanes<R>(
  ctx: BenchContext,
  start: LaneStart,
  rounds: number,
  turn: (lane: RoundLane<R>, round: number, place: number) => Promise<void>,
): Promise<RoundLane<R>[]> {
  const lanes: RoundLane<R>[] = [];
  const launched: Launched[] = [];
  try {
    for (const kind of ctx.targets) {
      const target = await start.launch(kind);
      launched.push(target);
      lanes.push({ kind, launched: target, pool: await start.pool(target), rounds: [], hists: [] });
    }
    if (start.settleMs) await sleep(start.settleMs);
    for (let round = 0; round < rounds; round++) {
      const order = stepOrder(lanes, round);
      ctx.log(` round ${round + 1} of ${rounds}: ${order.map((l) => l.kind).join(', ')}`);
      for (const [place, lane] of order.entries()) await turn(lane, round, place + 1);
    }
  } finally {
    for (const lane of lanes) await lane.pool.close();
    for (const target of launched) await target.stop();
  }
  return lanes;
}
