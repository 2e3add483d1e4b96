import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CheckpointFlag, type CheckpointSettings } from './checkpoint-flags.js';

/** A worker script: beside this file when built; the build output when run from sources. */
export function workerScript(name: string): URL | undefined {
  for (const candidate of [`./${name}`, `../../../dist/adapters/sqlite/${name}`]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Longest message commits wait out a RESTART checkpoint before going ahead anyway. */
const RESTART_WAIT_MAX_MS = 2000;

/**
 * Runs the checkpoints on another thread (PASSIVE, RESTART past a size: checkpoint-worker.ts); the
 * store's connection then never checkpoints. The two threads share CheckpointFlags so that a
 * RESTART and a message commit take turns without either sleeping in SQLite's busy handler,
 * whose sleeps grow 1, 2, 5, 10 ms... and put 20 ms pauses into every RESTART.
 */
export class SqliteCheckpointThread {
  private constructor(
    private readonly worker: Worker,
    private readonly flags: Int32Array,
  ) {}

  static start(settings: Omit<CheckpointSettings, 'flags'>): SqliteCheckpointThread | undefined {
    const script = workerScript('checkpoint-worker.js');
    if (script === undefined) return undefined;
    const flags = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    const worker = new Worker(script, { workerData: { ...settings, flags } satisfies CheckpointSettings });
    worker.unref();
    return new SqliteCheckpointThread(worker, flags);
  }

  /**
   * Call before a message commit: resolves once no RESTART runs (waiting between event-loop
   * turns), with the commit marked as under way so that a RESTART waits for it in turn.
   * Bounded: a checkpoint thread that died mid-RESTART must not hold messages forever.
   */
  async beginCommit(): Promise<void> {
    for (let waited = 0; ; waited++) {
      Atomics.store(this.flags, CheckpointFlag.Committing, 1);
      if (Atomics.load(this.flags, CheckpointFlag.Restarting) === 0 || waited >= RESTART_WAIT_MAX_MS) return;
      this.endCommit();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  endCommit(): void {
    Atomics.store(this.flags, CheckpointFlag.Committing, 0);
    Atomics.notify(this.flags, CheckpointFlag.Committing);
  }

  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await this.worker.terminate();
  }
}
