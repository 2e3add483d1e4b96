/** The driver's side of the generator: forks worker processes and speaks to them over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sampleProc, sumSamples, type ProcSample } from '../lib/proc.js';
import type { Command, ConnectResult, ConnSpec, WorkerReply } from './messages.js';

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

/** Worker i's source address out of n from 127.0.0.<first>; with one address from 127.0.0.1, the system's choice. */
function sourceAddress(first: number, n: number, i: number): string | undefined {
  return n > 1 || first > 1 ? `127.0.0.${first + (i % n)}` : undefined;
}

export interface PoolOptions {
  workers: number;
  url: string;
  /** Several gateways: worker i connects to urls[i % urls.length] (overrides url). */
  urls?: string[];
  heartbeatMs?: number;
  /** Spread workers over 127.0.0.1..127.0.0.N source addresses (past the ephemeral-port limit). */
  sourceAddresses?: number;
  /** The first of those addresses: 127.0.0.<firstAddress> (default 1). */
  firstAddress?: number;
  sendBufferLimit?: number;
}

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
    const first = opts.firstAddress ?? 1;
    await Promise.all(
      workers.map((w, i) =>
        w.call({
          cmd: 'init',
          workerId: i,
          url: opts.urls?.length ? opts.urls[i % opts.urls.length]! : opts.url,
          localAddress: sourceAddress(first, n, i),
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

  /**
   * Moves the sockets opened from now on (connect and reconnect) to 127.0.0.<first> .. <first+n-1>,
   * worker i to the (i mod n)-th: away from ports a previous round left in TIME_WAIT.
   */
  async useSourceAddresses(first: number, n: number): Promise<void> {
    await this.each((i) => ({ cmd: 'source', localAddress: sourceAddress(first, Math.max(1, n), i) }));
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
