/** How the embedded store is opened (a leaf: the writer, its thread and the openers share it). */
export interface SqliteStoreOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
  /** How the checkpoint thread keeps the WAL bounded; the defaults suit production. */
  checkpoint?: { intervalMs?: number; restartFrames?: number; walSizeLimitBytes?: number };
  /** How long update-log entries stay pending before they are stored by user (pending-log.ts). */
  logMoveAfterMs?: number;
}
