/**
 * Stepped open-loop load: for each offered rate, all generator processes start the same
 * fixed schedule at the same instant; then we wait for acks and deliveries to drain and
 * merge the histograms. A step is sustained when nothing was skipped, refused or lost and
 * the delivery p99 stayed under the latency bound.
 */
import { nowUs, sleep } from './clock.js';
import { summarizeEncoded, type LatencySummary } from './hist.js';
import { DiskProbe, type DiskSyncFigures } from './disk.js';
import { cpuBetween } from './proc.js';
import type { GeneratorPool } from '../gen/pool.js';
import type { RunResult, SenderSpec, StepStats } from '../gen/messages.js';
import type { Target } from './target.js';

export interface StepResult {
  /** Offered messages/s. */
  offered: number;
  durationS: number;
  sent: number;
  skipped: number;
  acked: number;
  errors: number;
  /** Sent but neither acked nor refused when the drain ended. */
  unacked: number;
  delivered: number;
  expectedDeliveries: number;
  lost: number;
  /**
   * Messages acked per second during the send window (what the system kept up with); for a target
   * without acks, messages delivered (tallyStep).
   */
  ackedPerS: number;
  /** Deliveries (to devices other than the sender's) per second during the send window. */
  deliveredPerS: number;
  ack: LatencySummary;
  delivery: LatencySummary;
  /** Fraction of one core, over the send window. */
  serverCpu: number;
  generatorCpu: number;
  /** The busiest generator process (1.0 = a saturated process: the generator would be the limit). */
  generatorCpuMax: number;
  serverRssMiB: number;
  sustained: boolean;
  /** Parley's own commit figures over the step (from GET /metrics), when it exposes them. */
  commits?: CommitFigures;
  /** The disk probe's fdatasyncs over the step and its drain (lib/disk.ts). */
  disk?: DiskSyncFigures;
  errorCodes: string[];
  unexpectedCloses: number;
}

export interface StepPlan {
  senders: SenderSpec[];
  rates: number[];
  stepMs: number;
  drainMs: number;
  textLen: number;
  /** Devices, other than the sending one, that receive each message. */
  fanout: number;
  p99BoundMs: number;
  /** Stop after the first step that is not sustained. */
  stopOnFail: boolean;
  /** First step number (unique per pool). */
  firstStep?: number;
  /**
   * An uncounted step at the first rate before the counted ones. Right after connecting, every
   * target pays for JIT compilation and cold caches; that belongs to no offered rate.
   */
  warmupMs?: number;
  /** A directory on the disk the target writes to: a DiskProbe measures that disk beside every step. */
  diskProbeDir?: string;
}

export interface CommitFigures {
  batches: number;
  messages: number;
  meanBatch: number;
  meanCommitMs: number;
  /** Commits that took longer than SLOW_COMMIT_MS: each one held up every message behind it. */
  slow?: number;
}

/** A bucket bound of the server's commit histogram (metrics.ts). */
export const SLOW_COMMIT_MS = 25;

interface MetricsSample {
  messages: number;
  batches: number;
  commitSeconds: number;
  /** Commits observed in all, and those within SLOW_COMMIT_MS. */
  commitsTimed: number;
  commitsFast: number;
}

/** Reads Parley's Prometheus counters; undefined for a target without them (the floor). */
async function scrape(baseUrl: string): Promise<MetricsSample | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    const read = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
    const s = {
      messages: read('parley_messages_stored_total'),
      batches: read('parley_commit_batches_total'),
      commitSeconds: read('parley_commit_seconds_sum'),
      commitsTimed: read('parley_commit_seconds_count'),
      commitsFast: read(`parley_commit_seconds_bucket\\{le="${SLOW_COMMIT_MS / 1000}"\\}`),
    };
    return Number.isFinite(s.messages) && Number.isFinite(s.batches) ? s : undefined;
  } catch {
    return undefined;
  }
}

function commitsBetween(a: MetricsSample | undefined, b: MetricsSample | undefined): CommitFigures | undefined {
  if (!a || !b) return undefined;
  const batches = b.batches - a.batches;
  const messages = b.messages - a.messages;
  return {
    batches,
    messages,
    meanBatch: batches ? Math.round((messages / batches) * 10) / 10 : 0,
    meanCommitMs: batches ? Math.round(((b.commitSeconds - a.commitSeconds) * 1e6) / batches) / 1000 : 0,
    slow: b.commitsTimed - b.commitsFast - (a.commitsTimed - a.commitsFast),
  };
}

/** The generator's counters of a step, summed over its processes. */
export interface StepCounts {
  acked: number;
  errors: number;
  delivered: number;
  ackedInWindow: number;
  deliveredInWindow: number;
}

const noCounts = (): StepCounts => ({ acked: 0, errors: 0, delivered: 0, ackedInWindow: 0, deliveredInWindow: 0 });

const addCounts = (a: StepCounts, b: StepCounts): StepCounts => ({
  acked: a.acked + b.acked,
  errors: a.errors + b.errors,
  delivered: a.delivered + b.delivered,
  ackedInWindow: a.ackedInWindow + b.ackedInWindow,
  deliveredInWindow: a.deliveredInWindow + b.deliveredInWindow,
});

export interface Tally {
  acked: number;
  /** Sent but neither acked nor refused (always 0 for a target without acks: see lost). */
  unacked: number;
  expectedDeliveries: number;
  lost: number;
  ackedInWindow: number;
}

/**
 * What a step's counters say was acked, is still owed and was lost. A target that sends no
 * acks (the one-frame relay) owes each sent message `fanout` deliveries, and a message counts
 * as acked once they are in: acked = delivered / fanout (in a DM, each delivery), and whatever
 * was not delivered is lost. Its figures per acked message are then per delivered one.
 */
export function tallyStep(sent: number, c: StepCounts, fanout: number, acks: boolean): Tally {
  if (acks) {
    const expectedDeliveries = c.acked * fanout;
    return {
      acked: c.acked,
      unacked: Math.max(0, sent - c.acked - c.errors),
      expectedDeliveries,
      lost: Math.max(0, expectedDeliveries - c.delivered),
      ackedInWindow: c.ackedInWindow,
    };
  }
  const per = Math.max(1, fanout);
  const expectedDeliveries = (sent - c.errors) * fanout;
  return {
    acked: Math.min(sent, Math.floor(c.delivered / per)),
    unacked: 0,
    expectedDeliveries,
    lost: Math.max(0, expectedDeliveries - c.delivered),
    ackedInWindow: Math.floor(c.deliveredInWindow / per),
  };
}

const WARMUP_STEPS = 1_000_000;

type Collected = StepStats & { unexpectedCloses: number; errorCodes: string[] };

export async function runSteps(
  target: Target,
  pool: GeneratorPool,
  plan: StepPlan,
  log: (s: string) => void,
): Promise<StepResult[]> {
  const out: StepResult[] = [];
  const parts = pool.split(plan.senders);
  const total = plan.senders.length;
  const firstRate = plan.rates[0];
  const schedule = [
    ...(plan.warmupMs && firstRate !== undefined ? [{ rate: firstRate, warmup: true }] : []),
    ...plan.rates.map((rate) => ({ rate, warmup: false })),
  ];
  let counted = 0;
  const probe = plan.diskProbeDir === undefined ? undefined : new DiskProbe(plan.diskProbeDir);
  try {
    for (const { rate, warmup } of schedule) {
      const r = await runStep(rate, warmup);
      if (warmup) continue;
      out.push(r);
      if (!r.sustained && plan.stopOnFail) break;
    }
  } finally {
    await probe?.stop();
  }
  return out;

  async function runStep(rate: number, warmup: boolean): Promise<StepResult> {
    // Warm-up steps are numbered from WARMUP_STEPS, clear of the counted steps of the same pool.
    const step = warmup ? WARMUP_STEPS + (plan.firstStep ?? 1) : (plan.firstStep ?? 1) + counted++;
    const stepMs = warmup ? plan.warmupMs! : plan.stepMs;
    const startUs = nowUs() + 300_000;
    const m0 = target.kind === 'parley' || target.kind === 'baseline' ? await scrape(target.baseUrl) : undefined;
    const s0 = target.sample();
    probe?.take();
    const g0 = pool.sample();
    const e0 = pool.sampleEach();
    const runs = await pool.each<RunResult>((i) => ({
      cmd: 'run',
      step,
      startUs,
      durationMs: stepMs,
      rate: (rate * parts[i]!.length) / total,
      senders: parts[i]!,
      textLen: plan.textLen,
    }));
    const s1 = target.sample();
    const g1 = pool.sample();
    const e1 = pool.sampleEach();
    const sent = runs.reduce((n, r) => n + r.sent, 0);
    // Drain: until every message is acked or refused and every delivery is in, or the deadline.
    const deadline = nowUs() + plan.drainMs * 1000;
    let stats: Collected[];
    const tally = (all: Collected[]): { counts: StepCounts; t: Tally } => {
      const counts = all.reduce<StepCounts>(addCounts, noCounts());
      return { counts, t: tallyStep(sent, counts, plan.fanout, target.acks) };
    };
    for (;;) {
      await sleep(100);
      stats = await pool.each<Collected>(() => ({ cmd: 'collect', step, histograms: false }));
      const { t: owed } = tally(stats);
      if ((owed.unacked === 0 && owed.lost === 0) || nowUs() > deadline) break;
    }
    stats = await pool.each<Collected>(() => ({ cmd: 'collect', step, histograms: true }));
    const disk = probe?.take();
    const commits = m0 ? commitsBetween(m0, await scrape(target.baseUrl)) : undefined;
    const sum = (f: (s: Collected) => number): number => stats.reduce((n, s) => n + f(s), 0);
    const { counts, t } = tally(stats);
    const { errors, delivered } = counts;
    const durationS = stepMs / 1000;
    const delivery = summarizeEncoded(stats.map((s) => s.deliveryHist));
    const r: StepResult = {
      offered: rate,
      durationS,
      sent,
      skipped: sum((s) => s.skipped),
      acked: t.acked,
      errors,
      unacked: t.unacked,
      delivered,
      expectedDeliveries: t.expectedDeliveries,
      lost: t.lost,
      ackedPerS: Math.round(t.ackedInWindow / durationS),
      deliveredPerS: Math.round(counts.deliveredInWindow / durationS),
      ack: summarizeEncoded(stats.map((s) => s.ackHist)),
      delivery,
      serverCpu: cpuBetween(s0, s1),
      generatorCpu: cpuBetween(g0, g1),
      generatorCpuMax: Math.max(0, ...e0.map((a, i) => cpuBetween(a, e1[i]))),
      serverRssMiB: Math.round((s1?.rssBytes ?? 0) / 2 ** 20),
      sustained: false,
      ...(commits ? { commits } : {}),
      ...(disk ? { disk } : {}),
      errorCodes: [...new Set(stats.flatMap((s) => s.errorCodes))],
      unexpectedCloses: sum((s) => s.unexpectedCloses),
    };
    r.sustained =
      r.skipped === 0 &&
      r.errors === 0 &&
      r.unacked === 0 &&
      r.lost === 0 &&
      r.sent > 0 &&
      (plan.fanout === 0 ? r.ack.p99 : r.delivery.p99) < plan.p99BoundMs;
    if (warmup) {
      log(`  ${target.kind} warm-up, ${rate}/s for ${durationS} s (not counted): delivery p99 ${delivery.p99} ms`);
      return r;
    }
    log(
      `  ${target.kind} ${rate}/s: sent ${sent} acked ${t.acked}${target.acks ? '' : ' (counted on delivery)'} delivered ${delivered}/${t.expectedDeliveries}` +
        ` skipped ${r.skipped} errors ${errors} | ack p99 ${target.acks ? `${r.ack.p99} ms` : '–'} | delivery p50 ${delivery.p50}` +
        ` p99 ${delivery.p99} max ${delivery.max} ms | cpu server ${r.serverCpu} gen ${r.generatorCpu} (max/process ${r.generatorCpuMax})` +
        (commits
          ? ` | commits: ${commits.meanBatch} msgs/batch, ${commits.meanCommitMs} ms each, ${commits.slow} over ${SLOW_COMMIT_MS} ms`
          : '') +
        (disk ? ` | disk sync p99 ${disk.p99Ms} max ${disk.maxMs} ms` : '') +
        ` | ${r.sustained ? 'sustained' : 'NOT sustained'}`,
    );
    return r;
  }
}

/**
 * A figure of both systems at the highest offered rate that both sustained: their overhead at
 * equal load (delivery p99, CPU per message), read where both kept up.
 */
export function atCommonRate<T>(
  a: readonly StepResult[] | undefined,
  b: readonly StepResult[] | undefined,
  value: (s: StepResult) => T,
): { rate: number; a: T; b: T } | undefined {
  if (!a || !b) return undefined;
  let best: { rate: number; a: T; b: T } | undefined;
  for (const x of a) {
    const y = b.find((s) => s.offered === x.offered);
    if (x.sustained && y?.sustained) best = { rate: x.offered, a: value(x), b: value(y) };
  }
  return best;
}

/** The step at an offered rate, when it was sustained. */
export function sustainedAt(steps: readonly StepResult[] | undefined, rate: number): StepResult | undefined {
  const s = steps?.find((x) => x.offered === rate);
  return s?.sustained ? s : undefined;
}

/**
 * Server CPU per acked message over the step's send window, in µs (0.1 µs): the fraction of a
 * core it used, divided by the messages it acked per second. Null when it acked none.
 */
export function cpuPerMessageUs(s: StepResult): number | null {
  if (s.ackedPerS <= 0) return null;
  return Math.round((s.serverCpu * 1e7) / s.ackedPerS) / 10;
}

/** The highest offered rate sustained (every lower step sustained too). */
export function maxSustained(steps: readonly StepResult[], value: (s: StepResult) => number): number | null {
  let best: number | null = null;
  for (const s of steps) {
    if (!s.sustained) break;
    best = value(s);
  }
  return best;
}
