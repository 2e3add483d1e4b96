/** What every scenario gets from the command line, and the shape of what it returns. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TargetKind } from './target.js';

export type Mode = 'quick' | 'default' | 'full';

export interface BenchContext {
  mode: Mode;
  /** Generator processes. */
  workers: number;
  /** Which systems to drive, in order. */
  targets: TargetKind[];
  /** The baseline target's server: another checkout's packages/server/dist/main.js (--baseline). */
  baselineMain?: string;
  /** Scratch space (data dirs, logs); removed at the end unless --keep. */
  tmpDir: string;
  /** Write a V8 CPU profile of the Parley server here. */
  cpuProfDir?: string;
  log: (line: string) => void;
  /** Overrides of the stepped scenarios' offered rates (msgs/s) and step length. */
  rates?: number[];
  stepMs?: number;
  /** Overrides the scenario's main size: connections, reconnecting devices, dm users. */
  size?: number;
  /** History sizes of the search scenario (default per mode). */
  sizes?: number[];
  /** dm text lengths to run (default 100 and 10,000). */
  textLens?: number[];
}

export interface ScenarioResult {
  /** Scenario-specific configuration (sizes, rates, durations). */
  config: Record<string, unknown>;
  /** Per target kind: the scenario's measurements. */
  targets: Partial<Record<TargetKind, unknown>>;
  /** Headline figures: Parley beside the floor and their ratio. */
  summary: SummaryRow[];
  notes: string[];
}

export interface SummaryRow {
  metric: string;
  unit: string;
  parley: number | null;
  /** What Parley is compared with: the floor, or Parley itself at a smaller size. */
  baseline: number | null;
  baselineLabel: string;
  /** Further columns, e.g. the floor with SQLite appends. */
  others?: Record<string, number | null>;
  /** parley / baseline (null when either is missing). */
  ratio: number | null;
  /** The target for this ratio, if any, e.g. ">= 0.5". */
  target?: string;
  met?: boolean | null;
}

/** A row of this build against the baseline build (--baseline): no target, only the ratio. */
export function againstBaseline(metric: string, unit: string, value: (kind: TargetKind) => number | null): SummaryRow {
  return {
    metric,
    unit,
    parley: value('parley'),
    baseline: value('baseline'),
    baselineLabel: 'baseline build',
    ratio: ratio(value('parley'), value('baseline')),
  };
}

export function ratio(parley: number | null | undefined, floor: number | null | undefined): number | null {
  if (parley == null || floor == null || floor === 0) return null;
  return Math.round((parley / floor) * 1000) / 1000;
}

export function makeTmp(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function pick<T>(mode: Mode, quick: T, def: T, full: T): T {
  return mode === 'quick' ? quick : mode === 'full' ? full : def;
}
