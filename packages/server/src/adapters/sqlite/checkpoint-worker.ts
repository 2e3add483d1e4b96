/**
 * The checkpoint thread: copies the WAL back into the database file on its own connection,
 * PASSIVE (never blocking writers), so the copying and the fsync of the database file happen beside
 * the writer instead of inside whichever group commit crossed the auto-checkpoint threshold.
 *
 * Under steady load a PASSIVE checkpoint never catches up with the writer: new frames land while
 * it copies, so the WAL is never reset and grows without bound (a sustained write test grew it to
 * 78 GB). Past restartFrames the thread asks for a RESTART checkpoint instead, which holds new
 * writers back for the moment it takes to copy the little PASSIVE left behind, and lets the next
 * commit start the WAL over. It raises a flag meanwhile, so the store's message path can wait
 * without blocking its event loop, and waits for the message commit under way to end first
 * (checkpoint-flags.ts).
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CheckpointFlag, type CheckpointSettings } from './checkpoint-flags.js';
import { openDatabase } from './connection.js';

const { path, intervalMs, restartFrames, flags } = workerData as CheckpointSettings;
const db = openDatabase(path);
/** The database file itself, to flush what PASSIVE checkpoints copied into it. */
const dbFile = openSync(path, 'r');

/** Longest a RESTART waits for the message commit under way (they take milliseconds). */
const COMMIT_WAIT_MAX_MS = 1000;

/**
 * A PASSIVE checkpoint that meets new frames (always, under load) copies what it can but does not
 * fsync the database file: only a checkpoint that completes does. So the RESTART used to flush
 * everything the PASSIVE ones had copied since the last restart, tens of megabytes of random
 * pages, 20-50 ms with message commits held back. Flushing here first, while commits go on,
 * leaves the RESTART only the last few frames to copy and flush.
 */
function checkpoint(): void {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    if (result === undefined || result.log <= restartFrames) return;
    fdatasyncSync(dbFile);
    // Copies and flushes what landed during the first pass and the flush: little.
    db.pragma('wal_checkpoint(PASSIVE)');
    fdatasyncSync(dbFile);
    Atomics.store(flags, CheckpointFlag.Restarting, 1);
    try {
      const deadline = performance.now() + COMMIT_WAIT_MAX_MS;
      while (Atomics.load(flags, CheckpointFlag.Committing) === 1 && performance.now() < deadline) {
        Atomics.wait(flags, CheckpointFlag.Committing, 1, 5);
      }
      db.pragma('wal_checkpoint(RESTART)');
    } finally {
      Atomics.store(flags, CheckpointFlag.Restarting, 0);
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
    closeSync(dbFile);
    parentPort!.postMessage('stopped');
  }
});
