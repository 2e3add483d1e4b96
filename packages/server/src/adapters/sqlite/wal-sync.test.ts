import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WalSync } from './wal-sync.js';
import { openDatabase } from './connection.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-wal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('keeps naming the live WAL file while SQLite checkpoints and truncates it', async () => {
  const file = path.join(dir, 'parley.db');
  const db = openDatabase(file);
  db.exec('CREATE TABLE t (v TEXT)');
  const wal = WalSync.open(file)!;
  for (let round = 0; round < 3; round++) {
    db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(10_000));
    await wal.sync();
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(wal.isCurrent()).toBe(true);
  }
  wal.close();
  db.close();
});

it('has nothing to sync for an in-memory database', () => {
  expect(WalSync.open(':memory:')).toBeUndefined();
});
