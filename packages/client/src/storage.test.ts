import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStorage } from './file-storage.js';
import { KeyWriter, MemoryStorage, WebStorage } from './storage.js';
import type { ClientStorage } from './storage.js';

/** An asynchronous storage whose writes complete only when the test says so. */
class SlowStorage implements ClientStorage {
  readonly writes: (string | undefined)[] = [];
  readonly #waiting: (() => void)[] = [];
  value: string | undefined;
  async get(): Promise<string | undefined> {
    return this.value;
  }
  set(_key: string, value: string): Promise<void> {
    return this.#op(value);
  }
  delete(): Promise<void> {
    return this.#op(undefined);
  }
  #op(value: string | undefined): Promise<void> {
    this.writes.push(value);
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.value = value;
        resolve();
      }),
    );
  }
  complete(): void {
    this.#waiting.shift()?.();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('KeyWriter', () => {
  it('writes in order and coalesces a burst to the newest value on an async storage', async () => {
    const storage = new SlowStorage();
    const writer = new KeyWriter(storage, 'k', (e) => {
      throw e;
    });
    writer.set('1');
    writer.set('2');
    writer.set('3');
    expect(storage.writes).toEqual(['1']);
    storage.complete();
    await Promise.resolve();
    await Promise.resolve();
    expect(storage.writes).toEqual(['1', '3']);
    writer.set(undefined);
    storage.complete();
    const flushed = writer.flush();
    await Promise.resolve();
    await Promise.resolve();
    storage.complete();
    await flushed;
    expect(storage.writes).toEqual(['1', '3', undefined]);
    expect(storage.value).toBeUndefined();
  });

  it('writes every value at once on a synchronous storage', async () => {
    const storage = new MemoryStorage();
    const writer = new KeyWriter(storage, 'k', (e) => {
      throw e;
    });
    writer.set('a');
    writer.set('b');
    expect(await storage.get('k')).toBe('b');
  });
});

describe('FileStorage', () => {
  it('round-trips values on disk, across instances, with odd keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-fs-'));
    dirs.push(dir);
    const a = new FileStorage(join(dir, 'nested'));
    expect(await a.get('seq.1')).toBeUndefined();
    await a.set('seq.1', '42');
    await a.set('weird/../key', 'x');
    const b = new FileStorage(join(dir, 'nested'));
    expect(await b.get('seq.1')).toBe('42');
    expect(await b.get('weird/../key')).toBe('x');
    await b.delete('seq.1');
    await b.delete('never-set');
    expect(await a.get('seq.1')).toBeUndefined();
    expect(readdirSync(join(dir, 'nested')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('WebStorage', () => {
  it('prefixes keys in a localStorage-like store', async () => {
    const map = new Map<string, string>();
    const storage = new WebStorage({
      prefix: 'p:',
      storage: {
        getItem: (k) => map.get(k) ?? null,
        setItem: (k, v) => void map.set(k, v),
        removeItem: (k) => void map.delete(k),
      },
    });
    await storage.set('session', '{}');
    expect([...map.keys()]).toEqual(['p:session']);
    expect(await storage.get('session')).toBe('{}');
    await storage.delete('session');
    expect(await storage.get('session')).toBeUndefined();
  });
});
