/**
 * The writer thread: commits message batches on its own SQLite connection, so the fsync and the
 * statements of a group commit run beside the event loop instead of blocking it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NewMessage } from '../../ports/store.js';
import { appendMessages, openDatabase, Statements } from './writes.js';

export interface WriterRequest {
  id: number;
  batch: NewMessage[];
}

const { path, checkpointsElsewhere } = workerData as { path: string; checkpointsElsewhere: boolean };
const db = openDatabase(path);
if (checkpointsElsewhere) db.pragma('wal_autocheckpoint = 0');
const statements = new Statements(db);

parentPort!.on('message', ({ id, batch }: WriterRequest) => {
  try {
    parentPort!.postMessage({ id, results: appendMessages(statements, batch) });
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
