import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointSettings } from './checkpoint-worker.js';

/** A worker script: beside this file when built; the build output when run from sources. */
export function workerScript(name: string): URL | undefined {
  for (const candidate of [`./${name}`, `../../../dist/adapters/sqlite/${name}`]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/**
 * Runs the checkpoints on another thread (PASSIVE, RESTART past a size: checkpoint-worker.ts); the
 * store's connection then never checkpoints.
 */
export class SqliteCheckpointThread {
  private constructor(
    private readonly worker: Worker,
    private readonly restartFlag: Int32Array,
  ) {}

  static start(settings: Omit<CheckpointSettings, 'restartFlag'>): SqliteCheckpointThread | undefined {
    const script = workerScript('checkpoint-worker.js');
    if (script === undefined) return undefined;
    const restartFlag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(script, { workerData: { ...settings, restartFlag } satisfies CheckpointSettings });
    worker.unref();
    return new SqliteCheckpointThread(worker, restartFlag);
  }

  /** Whether a RESTART checkpoint is holding writers back right now. */
  get restarting(): boolean {
    return Atomics.load(this.restartFlag, 0) === 1;
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
