/**
 * The device's position in the user's update log: which seq it has applied (persisted after
 * every change), which events are still missing, and how they are fetched (GET /v1/sync) when
 * the socket skipped some, a pong or `ready` reports a higher head, or the replay stalls.
 *
 * Guarantees, given a server that keeps the v1 contract:
 * - `deliver` sees every event of the log once, in seq order, from wherever it came (live frames,
 *   replays, sync pages), and the applied seq is persisted after each batch;
 * - a position the server no longer covers starts over (`resynced`), never loops;
 * - a failed fill is retried later with a growing delay, not in a loop; `unauthorized` stops.
 */
import { ChatError, limits } from '@parley/protocol';
import type { SyncEvent, SyncPage } from '@parley/protocol';
import { SeqTracker } from './seq-tracker.js';
import type { KeyWriter } from './storage.js';

/** Why a device's position started over at a `ready`: it had none, or the server no longer covers it. */
export type StartedOver = 'new' | 'lost';

export interface SyncHooks {
  /** Applies one event: called once per seq, in order. */
  deliver(event: SyncEvent): void;
  /** The log position is gone: reconnect without `since` (the next `ready` starts over). */
  restart(): void;
  /** The server refused the token while filling. */
  unauthorized(error: ChatError): void;
  /** The position was lost and started over at `seq`: the app reloads channels and recent history. */
  resynced(seq: number): void;
  /** The client is running (not closed or stopped). */
  running(): boolean;
  /** The live link is ready (gap fills wait for it). */
  live(): boolean;
}

export interface SyncEngineOptions {
  /** GET /v1/sync. */
  sync(since: number, limit: number): Promise<SyncPage>;
  /** How long a replay after `ready` may lag before the gap is fetched. Default 1 s. */
  catchUpTimeoutMs?: number | undefined;
}

export class SyncEngine {
  readonly #options: SyncEngineOptions;
  readonly #hooks: SyncHooks;
  #tracker = new SeqTracker<SyncEvent>(undefined);
  #writer: KeyWriter | undefined;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #filling = false;
  #fillFailures = 0;
  /** The next `ready` starts over at its seq (hello without `since`). */
  #resyncPending = false;
  /** The current link's `ready` seq, and whether that link already started over from it. */
  #link: { readySeq: number; resynced: boolean } | undefined;

  constructor(options: SyncEngineOptions, hooks: SyncHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** Highest seq applied (undefined before the first `ready` of a fresh device). */
  get applied(): number | undefined {
    return this.#tracker.applied;
  }

  /** Continues from a stored position (`applied`), persisting through `writer`. */
  use(applied: number | undefined, writer: KeyWriter): void {
    this.#tracker = new SeqTracker<SyncEvent>(applied);
    this.#writer = writer;
  }

  /** A new device's position, given at log-in (AuthResult.seq): stored at once. */
  startAt(seq: number): void {
    this.#tracker.reset(seq);
    this.#persist();
  }

  /** Forgets the position here and in storage (logout). */
  forget(): void {
    this.#writer?.set(undefined);
  }

  /** After `forget` has been flushed: no position, no storage. */
  detach(): void {
    this.#tracker = new SeqTracker<SyncEvent>(undefined);
  }

  /** What to say in hello: the applied seq, or nothing when starting over. */
  helloSince(): number | undefined {
    return this.#resyncPending ? undefined : this.#tracker.applied;
  }

  /**
   * A link is ready at the server's head `seq`. Says why the position started over there, if it
   * did: `new` for a device without one, `lost` for one the server no longer covers. Either way
   * the app's REST reads from before this ready may lack what was committed up to `seq` (the log
   * holds it, but the position now starts after it), so it reads them again.
   */
  ready(seq: number): StartedOver | undefined {
    const applied = this.#tracker.applied;
    // Behind the server's head is normal; ahead of it means the server lost data (restored from
    // a backup): our position means nothing there any more, so start over like a resync.
    const lost = this.#resyncPending || (applied !== undefined && applied > seq);
    const startedOver = lost ? 'lost' : applied === undefined ? 'new' : undefined;
    if (startedOver !== undefined) {
      this.#resyncPending = false;
      this.#tracker.reset(seq);
      this.#persist();
    } else {
      this.#tracker.noteHead(seq);
    }
    this.#link = { readySeq: seq, resynced: startedOver !== undefined };
    return startedOver;
  }

  /** The link is gone. */
  linkLost(): void {
    this.#link = undefined;
  }

  /** The client stopped: no timers left. */
  stop(): void {
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
  }

  /** One event frame from the socket (ignored before the first `ready`). */
  offerLive(event: SyncEvent): void {
    if (this.#tracker.applied === undefined) return;
    this.#offer(event);
  }

  /** The server reports its log head (`pong`): above the applied seq, the gap is fetched. */
  noteHead(head: number): void {
    if (this.#tracker.applied === undefined) return;
    this.#tracker.noteHead(head);
    this.checkGap();
  }

  /** The server says `since` is outside its log. */
  resyncRequired(): void {
    const link = this.#link;
    if (link?.resynced) return; // already started over at ready
    if (link !== undefined) {
      link.resynced = true;
      // Sent right after ready when `since` is outside the kept log: the server goes live
      // from ready.seq on this connection, so continue from there.
      this.#tracker.reset(link.readySeq);
      this.#persist();
      this.checkGap();
      this.#hooks.resynced(link.readySeq);
    } else {
      this.#startOver();
    }
  }

  /**
   * A gap with later events already buffered is real (the socket skipped a seq): fill it now.
   * A head that is merely ahead (after `ready`) is normally caught up by the replay: fill only
   * if the replay stalls for catchUpTimeoutMs.
   */
  checkGap(): void {
    if (!this.#hooks.running() || !this.#hooks.live() || this.#filling) return;
    const gap = this.#tracker.gap();
    if (!gap) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
      return;
    }
    if (this.#tracker.buffered > 0 && this.#fillFailures === 0) {
      void this.#fill();
      return;
    }
    if (this.#gapTimer === undefined) {
      const delay = (this.#options.catchUpTimeoutMs ?? 1_000) * 2 ** Math.min(this.#fillFailures, 5);
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = undefined;
        void this.#fill();
      }, delay);
    }
  }

  /** Fetches and applies everything in the log after the current position. */
  async syncNow(): Promise<void> {
    const applied = this.#tracker.applied;
    if (applied === undefined) return;
    let page;
    try {
      page = await this.#options.sync(applied, limits.maxSyncLimit);
    } catch (error) {
      if (error instanceof ChatError && error.code === 'unauthorized' && this.#hooks.running()) {
        this.#hooks.unauthorized(error);
      }
      throw error;
    }
    if (this.#tracker.applied === undefined) return;
    for (const event of page.events) this.#offer(event);
    if (page.hasMore) {
      this.#tracker.noteHead(page.seq + 1);
      this.checkGap();
    }
  }

  /** Forgets the position and reconnects without `since`; `resynced` fires at the next ready. */
  #startOver(): void {
    this.#resyncPending = true;
    this.#tracker.reset(undefined);
    this.#writer?.set(undefined);
    this.#hooks.restart();
  }

  #offer(event: SyncEvent): void {
    const ready = this.#tracker.offer(event);
    if (ready.length === 0) {
      this.checkGap();
      return;
    }
    for (const e of ready) this.#hooks.deliver(e);
    this.#persist();
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.checkGap();
  }

  /** Fetches the missing part of the log over GET /v1/sync and applies it. */
  async #fill(): Promise<void> {
    if (this.#filling) return;
    this.#filling = true;
    try {
      for (;;) {
        const gap = this.#tracker.gap();
        const since = this.#tracker.applied;
        if (!gap || since === undefined || !this.#hooks.running()) break;
        const tracker = this.#tracker;
        const page = await this.#options.sync(since, limits.maxSyncLimit);
        // Closed, logged out or reset meanwhile: this page belongs to a position we left.
        if (!this.#hooks.running() || this.#tracker !== tracker || tracker.applied === undefined) break;
        for (const event of page.events) this.#offer(event);
        // A page can end early (its byte budget): more follow however far the gap looked.
        if (page.hasMore) this.#tracker.noteHead(page.seq + 1);
        if ((this.#tracker.applied ?? 0) <= since) {
          // The server does not have what we expected (yet): try again later, not in a loop.
          this.#fillFailures++;
          break;
        }
        this.#fillFailures = 0;
      }
    } catch (error) {
      if (error instanceof ChatError && error.code === 'resync_required') this.#startOver();
      else if (error instanceof ChatError && error.code === 'unauthorized') this.#hooks.unauthorized(error);
      else this.#fillFailures++;
    } finally {
      this.#filling = false;
    }
    this.checkGap();
  }

  #persist(): void {
    const applied = this.#tracker.applied;
    this.#writer?.set(applied === undefined ? undefined : String(applied));
  }

  /** Resolves when the position written so far is stored. */
  async flush(): Promise<void> {
    await this.#writer?.flush();
  }
}
