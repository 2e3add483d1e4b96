/** Waits for the disk to be quiet between targets. */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
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
