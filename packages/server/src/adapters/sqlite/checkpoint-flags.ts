/** What the store and its checkpoint thread share (threads.ts, checkpoint-worker.ts). */
export interface CheckpointSettings {
  path: string;
  intervalMs: number;
  restartFrames: number;
  /** Indexed by CheckpointFlag. */
  flags: Int32Array;
}

/**
 * Each side raises its own flag, then looks at the other's (sequentially consistent atomics,
 * so at least one of them sees the other): a commit that sees a RESTART backs off, a RESTART
 * that sees a commit waits for it to end.
 */
export enum CheckpointFlag {
  /** 1 while a RESTART checkpoint wants or holds the database. */
  Restarting = 0,
  /** 1 while a message commit runs. */
  Committing = 1,
}
