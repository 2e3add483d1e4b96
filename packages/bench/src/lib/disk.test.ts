import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { sleep } from './clock.js';
import { DiskProbe } from './disk.js';

let dir: string | undefined;
afterEach(() => rmSync(dir!, { recursive: true, force: true }));

function scratch(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'parley-disk-probe-'));
  return dir;
}

it('reports the syncs made since the last take, and starts over after it', async () => {
  const probe = new DiskProbe(scratch(), 5);
  await sleep(200);
  const first = probe.take();
  expect(first.syncs).toBeGreaterThan(0);
  expect(first.p99Ms).toBeGreaterThan(0);
  expect(first.maxMs).toBeGreaterThanOrEqual(first.p99Ms);
  await probe.stop();
  probe.take(); // what the loop measured between the first take and the stop
  expect(probe.take()).toEqual({ syncs: 0, p99Ms: 0, maxMs: 0 });
});

it('leaves nothing behind when stopped', async () => {
  const d = scratch();
  const probe = new DiskProbe(d, 5);
  expect(existsSync(path.join(d, '.disk-probe'))).toBe(true);
  await probe.stop();
  expect(readdirSync(d)).toEqual([]);
});
