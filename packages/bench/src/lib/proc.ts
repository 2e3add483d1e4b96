/** Process and machine facts read from /proc: CPU time and RSS of a pid, machine description. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const CLK_TCK = 100;
const PAGE_SIZE = 4096;

export interface ProcSample {
  /** user + system CPU seconds since the process started (all threads). */
  cpuS: number;
  rssBytes: number;
  /** Shared clock (µs) when sampled. */
  atUs: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15, rss 24.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rss = Number(fields[21]);
    const t = process.hrtime();
    return {
      cpuS: (utime + stime) / CLK_TCK,
      rssBytes: rss * PAGE_SIZE,
      atUs: t[0] * 1_000_000 + Math.floor(t[1] / 1000),
    };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples as a fraction of one core (1.0 = one core busy). */
export function cpuBetween(a: ProcSample | undefined, b: ProcSample | undefined): number {
  if (!a || !b || b.atUs <= a.atUs) return 0;
  return Math.round(((b.cpuS - a.cpuS) / ((b.atUs - a.atUs) / 1e6)) * 1000) / 1000;
}

/** Sums samples of several processes (e.g. two gateways). */
export function sumSamples(samples: readonly (ProcSample | undefined)[]): ProcSample | undefined {
  const ok = samples.filter((s): s is ProcSample => s !== undefined);
  if (ok.length === 0) return undefined;
  return {
    cpuS: ok.reduce((n, s) => n + s.cpuS, 0),
    rssBytes: ok.reduce((n, s) => n + s.rssBytes, 0),
    atUs: Math.max(...ok.map((s) => s.atUs)),
  };
}

export interface MachineInfo {
  hostname: string;
  cpuModel: string;
  cpus: number;
  memGiB: number;
  os: string;
  kernel: string;
  openFileLimit: string;
  note: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let limit = 'unknown';
  try {
    const lim = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    if (lim) limit = lim.replace(/\s+/g, ' ').replace('Max open files ', '').trim();
  } catch {
    // not Linux
  }
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    openFileLimit: limit,
    note: 'loopback only; generator, server and floor share the same cores',
  };
}

export function gitCommit(cwd: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    // The results and the report (with its charts) are what runs write: one scenario's output must not mark
    // the next run dirty.
    const outputs = [':(exclude)packages/bench/results', ':(exclude)docs/benchmarks.md', ':(exclude)docs/bench'];
    const status = execFileSync('git', ['status', '--porcelain', '--', '.', ...outputs], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return { commit, dirty: status.length > 0 };
  } catch {
    return { commit: 'none', dirty: true };
  }
}
