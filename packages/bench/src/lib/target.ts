/**
 * The systems under test, each a child process on loopback: Parley itself
 * (packages/server/dist/main.js), the floor relay, the floor with SQLite appends, the
 * one-frame relay (the floor's relay.js with FLOOR_ONE_FRAME=1), and, to compare two builds of
 * Parley in one run, the baseline: another checkout's server, built (--baseline).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODE_FLAGS } from '@parley/server';
import { sleep } from './clock.js';
import type { HeapProbeReading } from './heap-probe.js';
import { benchRoot, floorMain, serverMain } from './paths.js';
import { sampleProc, sumSamples, type ProcSample } from './proc.js';

export type TargetKind = 'parley' | 'floor' | 'floor-sqlite' | 'relay' | 'baseline';

export const targetLabel: Record<TargetKind, string> = {
  parley: 'Parley',
  floor: 'floor (relay)',
  'floor-sqlite': 'floor + SQLite',
  relay: 'one-frame relay',
  baseline: 'Parley (baseline build)',
};

export interface Target {
  kind: TargetKind;
  /** http://127.0.0.1:port */
  baseUrl: string;
  wsUrl: string;
  /**
   * Whether it answers each send with an ack. The one-frame relay does not: the generator then
   * counts a message as acked once delivered (lib/steps.ts, tallyStep).
   */
  acks: boolean;
  pids: number[];
  sample(): ProcSample | undefined;
  /**
   * The main thread's heap in use right after a full collection (lib/heap-probe.ts), in bytes;
   * undefined for a target without the probe (a cluster of processes).
   */
  heapAfterCollection?(): Promise<number>;
  stop(): Promise<void>;
}

/** Always the built probe: a process loads it with --import, also when tests run from the sources. */
const heapProbeModule = path.join(benchRoot, 'dist/lib/heap-probe.js');

/**
 * The heap probe for one target process: the flags and environment to start it with, and how
 * to read it (signal the process, wait for the probe's answer to appear in the file).
 */
export function heapProbe(logDir: string, name: string) {
  const file = path.join(logDir, `${name}.heap.json`);
  let answered = 0;
  return {
    execArgv: ['--expose-gc', '--import', heapProbeModule],
    env: { BENCH_HEAP_PROBE_FILE: file },
    read: async (child: ChildProcess): Promise<number> => {
      child.kill('SIGUSR2');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        await sleep(20);
        let reading: HeapProbeReading | undefined;
        try {
          reading = JSON.parse(readFileSync(file, 'utf8')) as HeapProbeReading;
        } catch {
          continue; // not written yet, or caught mid-write
        }
        if (reading.count > answered) {
          answered = reading.count;
          return reading.heapUsedBytes;
        }
      }
      throw new Error(`the heap probe of ${name} did not answer within 10 s`);
    },
  };
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(baseUrl: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`target exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`target not healthy within ${timeoutMs} ms; see ${logFile}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface ParleyOptions {
  dataDir: string;
  logDir: string;
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the server into this directory (on exit). */
  cpuProfDir?: string;
  name?: string;
  /** Another build's packages/server/dist/main.js: the target is then the baseline. */
  baselineMain?: string;
}

/**
 * The Node flags a build of the server runs with (its node-flags.js, beside its main.js): this
 * build's, or the baseline's as its own `npm start` passes them (none for a build from before
 * they were declared).
 */
export async function nodeFlagsOf(baselineMain: string | undefined): Promise<readonly string[]> {
  if (baselineMain === undefined) return NODE_FLAGS;
  const declared = path.join(path.dirname(baselineMain), 'node-flags.js');
  if (!existsSync(declared)) return [];
  return ((await import(pathToFileURL(declared).href)) as { NODE_FLAGS: readonly string[] }).NODE_FLAGS;
}

export async function startParley(opts: ParleyOptions): Promise<Target> {
  const port = await freePort();
  mkdirSync(opts.logDir, { recursive: true });
  const name = `${opts.name ?? 'parley'}-${port}`;
  const logFile = path.join(opts.logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const probe = heapProbe(opts.logDir, name);
  const execArgv = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const nodeFlags = await nodeFlagsOf(opts.baselineMain);
  const main = opts.baselineMain ?? serverMain;
  const child = spawn(process.execPath, [...nodeFlags, ...execArgv, ...probe.execArgv, main], {
    env: {
      ...process.env,
      ...probe.env,
      PARLEY_HOST: '127.0.0.1',
      PARLEY_PORT: String(port),
      PARLEY_DATA_DIR: opts.dataDir,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_SEND_RATE: '1000000',
      PARLEY_SEND_BURST: '1000000',
      // Every simulated user signs up (freely) and logs in from this one address.
      PARLEY_SIGNUP: 'open',
      PARLEY_SIGNUP_LIMIT: '1000000',
      PARLEY_LOGIN_LIMIT: '1000000',
      // Thousands of simulated devices share a few loopback addresses; the cap stays on the path.
      PARLEY_MAX_SOCKETS_PER_ADDRESS: '1000000',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(baseUrl, child, 60_000, logFile);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    kind: opts.baselineMain === undefined ? 'parley' : 'baseline',
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    acks: true,
    pids: [child.pid!],
    sample: () => sampleProc(child.pid!),
    heapAfterCollection: () => probe.read(child),
    stop: () => stopChild(child),
  };
}

export interface FloorOptions {
  logDir: string;
  /** Append to SQLite at this path (the second floor). */
  sqlitePath?: string;
  /** Recent events kept per user for hello.since replay. */
  ring?: number;
  /** Run as the one-frame relay (no ack, no seq, one frame to each recipient device). */
  oneFrame?: boolean;
}

export async function startFloor(opts: FloorOptions): Promise<Target> {
  mkdirSync(opts.logDir, { recursive: true });
  const port = await freePort();
  const name = `floor-${port}`;
  const logFile = path.join(opts.logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const probe = heapProbe(opts.logDir, name);
  const child = fork(floorMain, [], {
    // The runtime Parley runs on, so that a ratio to the floor is one of code, not of V8's settings.
    execArgv: [...process.execArgv, ...NODE_FLAGS, ...probe.execArgv],
    env: {
      ...process.env,
      ...probe.env,
      FLOOR_HOST: '127.0.0.1',
      FLOOR_PORT: String(port),
      FLOOR_RING: String(opts.ring ?? 0),
      ...(opts.sqlitePath ? { FLOOR_SQLITE: opts.sqlitePath } : {}),
      ...(opts.oneFrame ? { FLOOR_ONE_FRAME: '1' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(baseUrl, child, 20_000, logFile);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    kind: opts.sqlitePath ? 'floor-sqlite' : opts.oneFrame ? 'relay' : 'floor',
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    acks: !opts.oneFrame,
    pids: [child.pid!],
    sample: () => sampleProc(child.pid!),
    heapAfterCollection: () => probe.read(child),
    stop: () => stopChild(child),
  };
}

/** Several processes seen as one system (cluster: gateways + api). */
export function combine(kind: TargetKind, parts: Target[], front: Target): Target {
  return {
    kind,
    baseUrl: front.baseUrl,
    wsUrl: front.wsUrl,
    acks: front.acks,
    pids: parts.flatMap((p) => p.pids),
    sample: () => sumSamples(parts.map((p) => p.sample())),
    stop: async () => {
      await Promise.all(parts.map((p) => p.stop()));
    },
  };
}
