/**
 * The checkpoint thread: copies the WAL back into the database file on its own connection,
 * PASSIVE (never blocking writers), so the fsync of the database file happens beside the event
 * loop instead of inside whichever group commit crossed the auto-checkpoint threshold.
 *
 * Under steady load a PASSIVE checkpoint never catches up with the writer: new frames land while
 * it copies, so the WAL is never reset and grows without bound (a sustained write test grew it to
 * 78 GB). Past restartFrames the thread asks for a RESTART checkpoint instead, which holds new
 * writers back for the moment it takes to copy the little PASSIVE left behind, and lets the next
 * commit start the WAL over (truncated to the store's journal_size_limit). It raises restartFlag
 * meanwhile, so the store's message path can wait without blocking its event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './writes.js';

export interface CheckpointSettings {
  path: string;
  intervalMs: number;
  restartFrames: number;
  /** Shared with the store: 1 while a RESTART runs. */
  restartFlag: Int32Array;
}

const { path, intervalMs, restartFrames, restartFlag } = workerData as CheckpointSettings;
const db = openDatabase(path);

function checkpoint(): void {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    if (result !== undefined && result.log > restartFrames) {
      Atomics.store(restartFlag, 0, 1);
      try {
        db.pragma('wal_checkpoint(RESTART)');
      } finally {
        Atomics.store(restartFlag, 0, 0);
      }
    }
  } catch {
    // Busy or closing: the next tick tries again.
  }
}

const timer = setInterval(checkpoint, intervalMs);

parentPort!.on('message', (message: 'stop') => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } finally {
    db.close();
    parentPort!.postMessage('stopped');
  }
});
