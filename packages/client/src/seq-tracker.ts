/**
 * Applies a user's update log in `seq` order exactly once, whatever order and multiplicity the
 * events arrive in (live frames, replays after reconnect, pages of GET /v1/sync). Pure logic.
 */
export interface Sequenced {
  seq: number;
}

export interface SeqGap {
  /** First missing seq. */
  from: number;
  /** Last missing seq known to exist (the one before the earliest buffered event, or the known head). */
  to: number;
}

export class SeqTracker<E extends Sequenced> {
  #applied: number | undefined;
  #head = 0;
  readonly #buffer = new Map<number, E>();
  readonly #maxBuffered: number;

  /**
   * @param applied highest seq already applied (from storage), or undefined for a fresh device.
   * @param maxBuffered events held while waiting for a gap to fill; beyond it the newest are
   *   dropped (the fill over /v1/sync fetches them again).
   */
  constructor(applied: number | undefined, maxBuffered = 10_000) {
    this.#applied = applied;
    this.#maxBuffered = maxBuffered;
  }

  /** Highest seq applied so far (all before it applied too), or undefined before the first ready. */
  get applied(): number | undefined {
    return this.#applied;
  }

  /** Highest seq known to exist (from `ready` or from events seen). */
  get head(): number {
    return Math.max(this.#head, this.#applied ?? 0);
  }

  get buffered(): number {
    return this.#buffer.size;
  }

  /** Starts over at `seq` (a fresh device, or after resync_required). Drops what was buffered. */
  reset(seq: number | undefined): void {
    this.#applied = seq;
    this.#head = seq ?? 0;
    this.#buffer.clear();
  }

  /** Records that the log reaches at least `seq` (the `seq` of a ready frame). */
  noteHead(seq: number): void {
    if (seq > this.#head) this.#head = seq;
  }

  /**
   * Offers one event; returns the events that are now next in order (possibly none: a
   * duplicate, or an event after a gap, which is buffered until the gap fills).
   */
  offer(event: E): E[] {
    if (this.#applied === undefined) {
      throw new Error('SeqTracker: no starting seq yet (call reset after ready)');
    }
    this.noteHead(event.seq);
    if (event.seq <= this.#applied) return [];
    if (event.seq > this.#applied + 1) {
      if (this.#buffer.size < this.#maxBuffered || this.#buffer.has(event.seq)) this.#buffer.set(event.seq, event);
      return [];
    }
    const ready: E[] = [event];
    this.#applied = event.seq;
    for (;;) {
      const next = this.#buffer.get(this.#applied + 1);
      if (!next) break;
      this.#buffer.delete(this.#applied + 1);
      ready.push(next);
      this.#applied = next.seq;
    }
    return ready;
  }

  /** The missing range, if events are known beyond what has been applied. */
  gap(): SeqGap | undefined {
    if (this.#applied === undefined || this.head <= this.#applied) return undefined;
    let to = this.head;
    for (const seq of this.#buffer.keys()) if (seq - 1 < to) to = seq - 1;
    return { from: this.#applied + 1, to: Math.max(to, this.#applied + 1) };
  }
}

/** A bounded set of recently seen ids: remembers the newest `capacity` ids, forgets the oldest. */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  /** Adds `id`; returns false if it was already there (a duplicate). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
    return true;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  clear(): void {
    this.#ids.clear();
  }
}
