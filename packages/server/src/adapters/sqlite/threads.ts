import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointSettings } from './checkpoint-worker.js';

/** A worker script: beside this file when built; the build output when run from sources. */
function workerScript(name: string): URL | undefined {
  for (const candidate of [`./${name}`, `../../../dist/adapters/sqlite/${name}`]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** Runs PASSIVE checkpoints on another thread; the store's connections then never checkpoint. */
export class SqliteCheckpointThread {
  private constructor(private readonly worker: Worker) {}

  static start(settings: CheckpointSettings): SqliteCheckpointThread | undefined {
    const script = workerScript('checkpoint-worker.js');
    if (script === undefined) return undefined;
    const worker = new Worker(script, { workerData: settings });
    worker.unref();
    return new SqliteCheckpointThread(worker);
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
