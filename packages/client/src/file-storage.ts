/** Node-only: a ClientStorage in a directory, one file per key. Import it from "@parley/client/node". */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientStorage } from './storage.js';

/**
 * Stores each key in `<dir>/<key>.json`. Writes are synchronous (temp file + rename), so a
 * value is on disk when `set` returns and a crash leaves either the old or the new value,
 * never a torn one. Not fsync'ed: survives a process crash, not a power cut.
 */
export class FileStorage implements ClientStorage {
  readonly synchronous = true;
  readonly dir: string;
  #created = false;

  constructor(dir: string) {
    this.dir = dir;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return readFileSync(this.#path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async set(key: string, value: string): Promise<void> {
    if (!this.#created) {
      mkdirSync(this.dir, { recursive: true });
      this.#created = true;
    }
    const path = this.#path(key);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, value);
    renameSync(tmp, path);
  }

  async delete(key: string): Promise<void> {
    rmSync(this.#path(key), { force: true });
  }

  #path(key: string): string {
    return join(this.dir, `${encodeURIComponent(key)}.json`);
  }
}
