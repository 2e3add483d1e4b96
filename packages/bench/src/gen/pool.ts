/** The driver's side of the generator: forks worker processes and speaks to them over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sampleProc, sumSamples, type ProcSample } from '../lib/proc.js';
import { SOURCE_BLOCKS, type Command, type ConnectResult, type ConnSpec, type WorkerReply } from './messages.js';

const workerPath = fileURLToPath(new URL('./worker.js', import.meta.url));

class Worker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: WorkerReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`generator process exited (${code})`));
      this.waiting.clear();
    });
  }
  call<T>(command: Command): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }
}

export interface PoolOptions {
  workers: number;
  url: string;
  /** Several gateways: worker i connects to urls[i % urls.length] (overrides url). */
  urls?: string[];
  heartbeatMs?: number;
  /** Spread workers over N source addresses per connect round (past the ephemeral-port limit). */
  sourceAddresses?: number;
  sendBufferLimit?: number;
}

/** Pools started by this process: each one's sockets come from source addresses of their own. */
let poolsStarted = 0;

export class GeneratorPool {
  private constructor(readonly workers: Worker[]) {}

  static async start(opts: PoolOptions): Promise<GeneratorPool> {
    const workers: Worker[] = [];
    for (let i = 0; i < opts.workers; i++) {
      const child = fork(workerPath, [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: ['--max-old-space-size=3072'],
      });
      workers.push(new Worker(child));
    }
    const pool = new GeneratorPool(workers);
    const n = Math.max(1, opts.sourceAddresses ?? 1);
    // Each pool starts its source addresses elsewhere in 127/8 (see worker.ts, sourceAddressFor).
    const sourceSeed = (process.pid * 61 + poolsStarted++ * 16) % SOURCE_BLOCKS;
    await Promise.all(
      workers.map((w, i) =>
        w.call({
          cmd: 'init',
          workerId: i,
          url: opts.urls?.length ? opts.urls[i % opts.urls.length]! : opts.url,
          sourceAddress: { seed: sourceSeed, index: i % n },
          heartbeatMs: opts.heartbeatMs ?? 5000,
          sendBufferLimit: opts.sendBufferLimit ?? 8 * 1024 * 1024,
        }),
      ),
    );
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Which worker holds connection `idx` (round-robin). */
  workerOf(idx: number): number {
    return idx % this.workers.length;
  }

  /** Calls every worker with its own command; results in worker order. */
  each<T>(make: (worker: number) => Command): Promise<T[]> {
    return Promise.all(this.workers.map((w, i) => w.call<T>(make(i))));
  }

  /** Splits connection specs over workers by workerOf(idx). */
  split<T extends { idx: number }>(items: readonly T[]): T[][] {
    const out: T[][] = this.workers.map(() => []);
    for (const it of items) out[this.workerOf(it.idx)]!.push(it);
    return out;
  }

  connect(conns: readonly ConnSpec[], concurrency: number): Promise<ConnectResult[]> {
    const parts = this.split(conns);
    return this.each((i) => ({ cmd: 'connect', conns: parts[i]!, concurrency }));
  }

  /** One sample per generator process (to spot a single saturated process). */
  sampleEach(): (ProcSample | undefined)[] {
    return this.workers.map((w) => (w.child.pid ? sampleProc(w.child.pid) : undefined));
  }

  sample(): ProcSample | undefined {
    return sumSamples(this.workers.map((w) => (w.child.pid ? sampleProc(w.child.pid) : undefined)));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.disconnect();
            setTimeout(() => w.child.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
  }
}
