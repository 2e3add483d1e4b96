/**
 * The checkpoint thread: copies the WAL back into the database file on its own connection,
 * PASSIVE (never blocking writers), so the fsync of the database file happens beside the event
 * loop instead of inside whichever group commit crossed the auto-checkpoint threshold.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './writes.js';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = openDatabase(path);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next tick tries again.
  }
}, intervalMs);

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
