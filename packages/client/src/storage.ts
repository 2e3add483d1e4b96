/**
 * Where the SDK keeps what must survive a restart: the session, the highest applied `seq` and
 * the outbox of unsent messages. Values are strings (JSON); keys are short ASCII names.
 *
 * Implementations may be synchronous underneath (then a write is durable when `set` returns,
 * which the SDK relies on to keep a just-sent message across a crash) or asynchronous
 * (IndexedDB); the SDK serialises writes per key and always writes the latest value.
 */
export interface ClientStorage {
  /**
   * True when `set`/`delete` finish their work before returning (the promise is only a
   * formality). The SDK then writes every change at once instead of coalescing.
   */
  readonly synchronous?: boolean;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Keeps everything in memory: the default; nothing survives a restart. */
export class MemoryStorage implements ClientStorage {
  readonly synchronous = true;
  readonly #map = new Map<string, string>();

  async get(key: string): Promise<string | undefined> {
    return this.#map.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.#map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.#map.delete(key);
  }
}

/** The subset of the Web Storage API that `WebStorage` needs (window.localStorage fits). */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface WebStorageOptions {
  /** Prefix of every key, so several clients (or accounts) can share one origin. Default "parley:". */
  prefix?: string;
  /** Defaults to `globalThis.localStorage`. */
  storage?: WebStorageLike;
}

/** Browser storage over `localStorage` (synchronous, so writes are durable when `set` returns). */
export class WebStorage implements ClientStorage {
  readonly synchronous = true;
  readonly #prefix: string;
  readonly #storage: WebStorageLike;

  constructor(options: WebStorageOptions = {}) {
    this.#prefix = options.prefix ?? 'parley:';
    const storage = options.storage ?? (globalThis as { localStorage?: WebStorageLike }).localStorage;
    if (!storage) throw new Error('WebStorage needs localStorage (or pass options.storage)');
    this.#storage = storage;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#storage.getItem(this.#prefix + key) ?? undefined;
  }
  async set(key: string, value: string): Promise<void> {
    this.#storage.setItem(this.#prefix + key, value);
  }
  async delete(key: string): Promise<void> {
    this.#storage.removeItem(this.#prefix + key);
  }
}

/**
 * Writes one key through a ClientStorage in order, coalescing bursts: while a write is in
 * flight only the newest value waits. When idle, `set` calls the storage at once, so a
 * synchronous storage has the value on disk before `set` returns.
 */
export class KeyWriter {
  readonly #storage: ClientStorage;
  readonly #key: string;
  readonly #onError: (error: unknown) => void;
  #inFlight: Promise<void> | undefined;
  #next: { value: string | undefined } | undefined;

  constructor(storage: ClientStorage, key: string, onError: (error: unknown) => void) {
    this.#storage = storage;
    this.#key = key;
    this.#onError = onError;
  }

  /** Writes `value`, or deletes the key when `value` is undefined. */
  set(value: string | undefined): void {
    if (this.#storage.synchronous) {
      this.#next = undefined;
      this.#write(value).catch((error: unknown) => this.#onError(error));
      return;
    }
    if (this.#inFlight) {
      this.#next = { value };
      return;
    }
    this.#start(value);
  }

  /** Resolves when every value handed to `set` so far is written. */
  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  #write(value: string | undefined): Promise<void> {
    try {
      return value === undefined ? this.#storage.delete(this.#key) : this.#storage.set(this.#key, value);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #start(value: string | undefined): void {
    this.#inFlight = this.#write(value)
      .catch((error: unknown) => this.#onError(error))
      .then(() => {
        this.#inFlight = undefined;
        const next = this.#next;
        this.#next = undefined;
        if (next) this.#start(next.value);
      });
  }
}
