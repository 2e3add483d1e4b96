/** Starts a system under test and gives it the accounts and channels a scenario needs. */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from './context.js';
import { settleDisk } from './disk.js';
import { startFloor, startParley, type Target, type TargetKind } from './target.js';
import { seedParleySqlite, setupHttp, type World, type WorldSpec } from './world.js';

let counter = 0;

export interface LaunchOptions {
  /** Recent events per user the floor keeps for replay. */
  floorRing?: number;
}

export interface Launched {
  target: Target;
  world: World;
  /**
   * Stops the target, deletes the database it wrote and waits until the disk is quiet again
   * (lib/disk.ts), so that the next target does not pay for this one's writes and deletion.
   */
  stop(): Promise<void>;
}

function stopAndRemove(ctx: BenchContext, target: Target, files: string[]): () => Promise<void> {
  return async () => {
    await target.stop();
    if (files.length === 0) return;
    for (const file of files) rmSync(file, { recursive: true, force: true });
    const { waitedMs, quiet } = await settleDisk(ctx.tmpDir);
    ctx.log(`  (disk ${quiet ? 'quiet' : 'still not quiet'} ${waitedMs} ms after deleting ${target.kind}'s files)`);
  };
}

/**
 * Parley migrates its schema on start; start it once on an empty dir so the tables exist (with
 * the baseline build's schema for the baseline target).
 */
export async function initParleyDataDir(ctx: BenchContext, dataDir: string, baselineMain?: string): Promise<string> {
  mkdirSync(dataDir, { recursive: true });
  const dbPath = path.join(dataDir, 'parley.db');
  if (!existsSync(dbPath)) {
    const t = await startParley({ dataDir, logDir: path.join(ctx.tmpDir, 'logs'), name: 'parley-init', baselineMain });
    await t.stop();
  }
  return dbPath;
}

export async function launch(
  ctx: BenchContext,
  kind: TargetKind,
  spec: WorldSpec,
  opts: LaunchOptions = {},
): Promise<Launched> {
  const n = ++counter;
  const logDir = path.join(ctx.tmpDir, 'logs');
  if (kind === 'parley' || kind === 'baseline') {
    const baselineMain = kind === 'baseline' ? ctx.baselineMain : undefined;
    if (kind === 'baseline' && baselineMain === undefined) throw new Error('the baseline target needs --baseline');
    const dataDir = path.join(ctx.tmpDir, `${kind}-${n}`);
    const dbPath = await initParleyDataDir(ctx, dataDir, baselineMain);
    const world = seedParleySqlite(dbPath, spec);
    const target = await startParley({ dataDir, logDir, cpuProfDir: ctx.cpuProfDir, baselineMain, name: kind });
    return { target, world, stop: stopAndRemove(ctx, target, [dataDir]) };
  }
  const sqlitePath = kind === 'floor-sqlite' ? path.join(ctx.tmpDir, `floor-${n}.db`) : undefined;
  const target = await startFloor({ logDir, ring: opts.floorRing, sqlitePath, oneFrame: kind === 'relay' });
  try {
    const world = await setupHttp(target.baseUrl, spec, 32);
    const files = sqlitePath ? ['', '-wal', '-shm'].map((suffix) => sqlitePath + suffix) : [];
    return { target, world, stop: stopAndRemove(ctx, target, files) };
  } catch (err) {
    await target.stop();
    throw err;
  }
}
