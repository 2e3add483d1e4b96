/** The disk under the durable targets: waiting for it to be quiet, and measuring it beside each step. */
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasync, fdatasyncSync, openSync, rmSync, write as fsWrite, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './clock.js';

export interface QuietDisk {
  waitedMs: number;
  /** False when the time ran out first. */
  quiet: boolean;
}

/**
 * Appends 16 KiB and fdatasyncs it every few ms until `quietSyncs` syncs in a row took under
 * `slowMs` each (or `maxMs` passed). Why: the root file system here is ext4 mounted with
 * `discard`, and right after a large file was deleted single fsyncs took up to 160 ms against at
 * most 5 ms on a quiet disk (report notes, finding 23); a durable target started then would pay
 * for the previous target's deletion. Hygiene, not a cure: the disk's slow periods also come
 * without a deletion (finding 24).
 */
export async function waitForQuietDisk(dir: string, quietSyncs = 200, slowMs = 10, maxMs = 30_000): Promise<QuietDisk> {
  const file = path.join(dir, '.quiet-disk-probe');
  const fd = openSync(file, 'a');
  const block = Buffer.alloc(16 * 1024, 1);
  const start = performance.now();
  let inRow = 0;
  try {
    while (inRow < quietSyncs && performance.now() - start < maxMs) {
      writeSync(fd, block);
      const before = performance.now();
      fdatasyncSync(fd);
      inRow = performance.now() - before < slowMs ? inRow + 1 : 0;
      await sleep(2);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return { waitedMs: Math.round(performance.now() - start), quiet: inRow >= quietSyncs };
}

/** Writes back everything the kernel holds for any file (`sync`), then waits for the disk to be quiet. */
export function settleDisk(dir: string): Promise<QuietDisk> {
  execFileSync('sync');
  return waitForQuietDisk(dir);
}

/** The probe's file: 1 MiB, overwritten in a circle. */
const PROBE_BLOCKS = 256;

export interface DiskSyncFigures {
  /** Probe syncs that completed in the window. */
  syncs: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Measures the disk beside a step: a 4 KiB overwrite and fdatasync of its own preallocated file
 * every `intervalMs`, one at a time, on the libuv pool (so the coordinator's event loop never
 * waits for it). Why: the durable targets' latency tails follow the disk's slow syncs, which come
 * and go on this shared virtual disk (report notes, findings 23-25); with the probe, a step
 * that failed on a slow disk says so, whatever target ran it. Its load (80 KiB/s, 20 syncs/s)
 * is small beside a durable target's, and every target pays it.
 */
export class DiskProbe {
  readonly #fd: number;
  readonly #file: string;
  readonly #block = Buffer.alloc(4096, 7);
  #latenciesMs: number[] = [];
  #offset = 0;
  #running = true;
  readonly #done: Promise<void>;

  constructor(dir: string, intervalMs = 50) {
    this.#file = path.join(dir, '.disk-probe');
    this.#fd = openSync(this.#file, 'w');
    // Written out once, so each probe write is an overwrite: no block allocation, no journal.
    for (let i = 0; i < PROBE_BLOCKS; i++) writeSync(this.#fd, this.#block);
    fdatasyncSync(this.#fd);
    // A probe that cannot write (disk full, say) just stops: its steps then report no syncs,
    // and the run it measures goes on.
    this.#done = this.#loop(intervalMs).catch(() => undefined);
  }

  async #loop(intervalMs: number): Promise<void> {
    const write = promisify(fsWrite);
    const sync = promisify(fdatasync);
    while (this.#running) {
      const before = performance.now();
      await write(this.#fd, this.#block, 0, this.#block.length, this.#offset);
      await sync(this.#fd);
      const took = performance.now() - before;
      this.#latenciesMs.push(took);
      this.#offset = (this.#offset + this.#block.length) % (PROBE_BLOCKS * this.#block.length);
      await sleep(Math.max(0, intervalMs - took));
    }
  }

  /** Figures since the last call (or the start). */
  take(): DiskSyncFigures {
    const all = this.#latenciesMs.sort((a, b) => a - b);
    this.#latenciesMs = [];
    const at = (q: number): number =>
      Math.round((all[Math.min(all.length - 1, Math.floor(all.length * q))] ?? 0) * 10) / 10;
    return { syncs: all.length, p99Ms: at(0.99), maxMs: at(1) };
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
    closeSync(this.#fd);
    rmSync(this.#file, { force: true });
  }
}
