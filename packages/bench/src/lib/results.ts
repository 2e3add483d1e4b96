/** The JSON written for every run: what was measured, on what, from which commit, how. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Mode, ScenarioResult } from './context.js';
import { benchRoot, repoRoot } from './paths.js';
import { gitCommit, machineInfo, type MachineInfo } from './proc.js';

export interface RunRecord extends ScenarioResult {
  scenario: string;
  mode: Mode;
  /** The command that reproduces this run. */
  command: string;
  startedAt: string;
  durationS: number;
  machine: MachineInfo;
  /** Load average when the run started: other work on the machine shows here. */
  loadAvgAtStart: number[];
  versions: Record<string, string>;
  git: { commit: string; dirty: boolean };
  generator: { processes: number };
  profile?: unknown;
}

export const defaultResultsDir = path.join(benchRoot, 'results');

function pkgVersion(name: string): string {
  try {
    const require = createRequire(path.join(benchRoot, 'package.json'));
    const p = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function versions(): Record<string, string> {
  return {
    node: process.version,
    ws: pkgVersion('ws'),
    'better-sqlite3': pkgVersion('better-sqlite3'),
    'hdr-histogram-js': pkgVersion('hdr-histogram-js'),
    parley: (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
  };
}

export function environment(): Pick<RunRecord, 'machine' | 'versions' | 'git'> {
  return { machine: machineInfo(), versions: versions(), git: gitCommit(repoRoot) };
}

export function resultFile(dir: string, scenario: string, mode: Mode): string {
  return path.join(dir, `${scenario}${mode === 'default' ? '' : `-${mode}`}.json`);
}

export function writeResult(dir: string, record: RunRecord): string {
  mkdirSync(dir, { recursive: true });
  const file = resultFile(dir, record.scenario, record.mode);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}
