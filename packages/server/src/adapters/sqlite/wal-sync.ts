/**
 * Durable commits without blocking the event loop. A message batch commits with
 * synchronous=NORMAL (its WAL frames reach the OS, no fsync), then the WAL file is fdatasync'ed
 * on libuv's thread pool, and only then is the batch acknowledged. The acknowledged data is on
 * disk exactly as with synchronous=FULL, but the event loop keeps serving sockets during the
 * fsync instead of sleeping in it, and the next batch gathers meanwhile.
 *
 * The descriptor stays valid: SQLite truncates and rewrites the WAL but deletes it only when the
 * last connection closes, and the store holds its connection open until close().
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

export class WalSync {
  private constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /** undefined when the database has no WAL file of its own (':memory:'). */
  static open(databasePath: string): WalSync | undefined {
    const path = `${databasePath}-wal`;
    try {
      return new WalSync(openSync(path, 'r'), path);
    } catch {
      return undefined;
    }
  }

  /** Resolves once everything written to the WAL so far is on stable storage. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fdatasync(this.fd, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Whether the descriptor still names the live WAL file (wal-sync.test.ts pins that it does). */
  isCurrent(): boolean {
    return fstatSync(this.fd).ino === statSync(this.path).ino;
  }

  close(): void {
    closeSync(this.fd);
  }
}
