/**
 * One device's socket after hello. Delivers the user's log events in seq order without gaps or
 * duplicates: an event that arrives out of order (or after a loss on the bus) triggers a fill
 * from the durable log, and everything at or below the last delivered seq is dropped.
 */
import type { SyncPage } from '@parley/protocol';
import { CloseCode } from '@parley/protocol';
import type WebSocket from 'ws';
import { eventFrame } from './bus-codec.js';
import { corkForThisTurn } from './cork.js';

export interface ConnectionDeps {
  /** Reads the user's log after `since` (the same call that serves GET /v1/sync). */
  readLog(userId: string, since: number, limit: number): Promise<SyncPage>;
  maxBufferedBytes: number;
  /**
   * Whether the process's sockets together hold more unsent bytes than they may; a socket that
   * holds more than `slowShareBytes` of it is then closed as a slow consumer.
   */
  overProcessBudget(): boolean;
  slowShareBytes: number;
  /**
   * Bounds of the reorder buffer (events that arrived out of order or during a fill). Past
   * either, the buffer is dropped and the connection reads those events from the log instead.
   */
  maxPendingEvents: number;
  maxPendingBytes: number;
  onError(error: unknown): void;
}

const FILL_PAGE = 500;

export class Connection {
  /** Highest seq written to this socket. */
  lastSeq = 0;
  lastHeardAt: number;
  /** When this socket's presence lease was last renewed. */
  leaseTouchedAt = 0;
  /** When this socket last renewed its device's token (hello renews it). */
  tokenUsedAt: number;
  /** Live mode starts after the ready frame and the replay target are set. */
  #live = false;
  #filling = false;
  /**
   * Events that arrived out of order or during a fill, by seq. Made on first use and dropped when
   * empty: most sockets never need one, and an empty Map is about 270 bytes.
   */
  #pending: Map<number, string> | undefined;
  /** Memory the pending frames take (UTF-16: two bytes per code unit). */
  #pendingBytes = 0;
  /** The seq the log is known to reach: a fill reads up to here. */
  #target = 0;
  /** When this socket last sent typing per channel (made on its first typing frame). */
  typingSentAt: Map<string, number> | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly connId: string,
    readonly userId: string,
    readonly deviceId: string,
    private readonly deps: ConnectionDeps,
    now: number,
  ) {
    this.lastHeardAt = now;
    this.tokenUsedAt = now;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Writes a frame; a client that cannot keep up is disconnected rather than buffered forever. */
  send(frame: string): void {
    if (!this.open) return;
    const buffered = this.ws.bufferedAmount;
    if (
      buffered > this.deps.maxBufferedBytes ||
      (buffered > this.deps.slowShareBytes && this.deps.overProcessBudget())
    ) {
      this.ws.close(CloseCode.SlowConsumer, 'slow consumer');
      return;
    }
    corkForThisTurn(this.ws);
    this.ws.send(frame);
  }

  /** Goes live after ready: replays from `since` up to `head`, then delivers in order. */
  startLive(since: number, head: number): void {
    this.lastSeq = since;
    // Not below what an overflowing reorder buffer already handed to the log.
    if (head > this.#target) this.#target = head;
    this.#live = true;
    if (this.#target > since || this.#pending !== undefined) void this.#fill();
  }

  /**
   * The user's log reaches at least `head` (read from the store, e.g. after a bus outage in
   * which events may have been lost): sends whatever this socket has not had up to there.
   */
  fillTo(head: number): void {
    if (head > this.#target) this.#target = head;
    if (this.#live && !this.#filling && head > this.lastSeq) void this.#fill();
  }

  /** An event from the bus. */
  offer(seq: number, frame: string): void {
    if (seq <= this.lastSeq) return;
    if (this.#live && !this.#filling && seq === this.lastSeq + 1) {
      this.lastSeq = seq;
      this.send(frame);
      return;
    }
    this.#hold(seq, frame);
    if (this.#live && !this.#filling) void this.#fill();
  }

  /** Frames waiting in the reorder buffer (for tests and metrics). */
  get pending(): { events: number; bytes: number } {
    return { events: this.#pending?.size ?? 0, bytes: this.#pendingBytes };
  }

  #hold(seq: number, frame: string): void {
    const pending = (this.#pending ??= new Map());
    if (pending.has(seq)) return;
    pending.set(seq, frame);
    this.#pendingBytes += frame.length * 2;
    if (pending.size <= this.deps.maxPendingEvents && this.#pendingBytes <= this.deps.maxPendingBytes) return;
    // Too far behind to hold what keeps arriving: everything up to the newest seq seen is in the
    // log, so the fill reads it from there instead.
    let newest = seq;
    for (const held of pending.keys()) if (held > newest) newest = held;
    if (newest > this.#target) this.#target = newest;
    this.#pending = undefined;
    this.#pendingBytes = 0;
  }

  #release(seq: number): string | undefined {
    const pending = this.#pending;
    const frame = pending?.get(seq);
    if (pending === undefined || frame === undefined) return undefined;
    pending.delete(seq);
    this.#pendingBytes -= frame.length * 2;
    if (pending.size === 0) this.#pending = undefined;
    return frame;
  }

  async #fill(): Promise<void> {
    this.#filling = true;
    try {
      while (this.open) {
        this.#drainPending();
        const nextPending = this.#pending !== undefined ? Math.min(...this.#pending.keys()) : undefined;
        const target = nextPending !== undefined ? nextPending - 1 : this.#target;
        if (this.lastSeq >= target) break;
        const page = await this.deps.readLog(this.userId, this.lastSeq, Math.min(FILL_PAGE, target - this.lastSeq));
        for (const event of page.events) {
          if (event.seq !== this.lastSeq + 1) continue;
          this.lastSeq = event.seq;
          this.send(eventFrame(event));
        }
        if (page.events.length === 0) {
          // The log does not have what the bus announced (trimmed, or another node's commit not
          // visible yet): skip ahead; the client's own gap check fetches it over /v1/sync.
          this.lastSeq = target;
        }
        await this.#waitForDrain();
      }
    } catch (error) {
      this.deps.onError(error);
    } finally {
      this.#filling = false;
    }
  }

  #drainPending(): void {
    if (this.#pending === undefined) return;
    for (const seq of this.#pending.keys()) if (seq <= this.lastSeq) this.#release(seq);
    for (let next = this.#release(this.lastSeq + 1); next !== undefined; next = this.#release(this.lastSeq + 1)) {
      this.lastSeq++;
      this.send(next);
    }
  }

  async #waitForDrain(): Promise<void> {
    while (this.open && this.ws.bufferedAmount > this.deps.maxBufferedBytes / 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
