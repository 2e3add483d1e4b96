/**
 * The update log's bounds as the writer thread last told them, kept on the server's thread so
 * that `logBounds`, which every hello asks, is answered without a hop to the writer thread. In
 * a reconnect storm that hop was one message each way per few hellos, and the replies woke the
 * event loop for turns of one or two hellos each, whose reads then went to SQLite alone.
 *
 * The rules that keep it exact enough (threaded-store.ts feeds it; README.md, "What the server's
 * thread remembers"):
 * - A head here is never above the user's head in the store: it comes from a logBounds answer
 *   or from the news of a committed transaction (LogNews), both after the fact.
 * - A head here is never below an entry this thread has been told of: each reply message brings
 *   the news of every transaction committed before it was posted, and is taken in (`committed`)
 *   before any of its replies resolves, so before the domain publishes what a write appended. A
 *   hello that subscribed and then reads its head here therefore misses nothing: an entry above
 *   the head has not been published yet.
 * - A floor (oldest kept seq - 1) moves only when trimLog deletes entries: the news says so and
 *   every floor is forgotten. An answer to a logBounds asked before that, which may predate the
 *   trim, is not learned (the epoch moved).
 * - Both maps start over at CACHE_LIMIT users, which also moves the epoch: an answer computed
 *   before a head was forgotten could be older than that head.
 */
import { CACHE_LIMIT, type LogNews } from './writes.js';

export interface LogBounds {
  head: number;
  floor: number;
}

export class LogBoundsMirror {
  readonly #heads = new Map<string, number>();
  /** Only for users whose logBounds was answered since the last trim. */
  readonly #floors = new Map<string, number>();
  #epoch = 0;

  /** Moves when something may have been forgotten; pass it to `learn` with the answer. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The user's bounds, if known here. */
  get(userId: string): LogBounds | undefined {
    const floor = this.#floors.get(userId);
    const head = this.#heads.get(userId);
    return floor === undefined || head === undefined ? undefined : { head, floor };
  }

  /** A reply message's news: call before any of its replies resolves. */
  committed(news: LogNews): void {
    if (news.trimmed) this.#forget(this.#floors);
    const { heads } = news;
    for (let i = 0; i < heads.length; i += 2) this.#raise(heads[i] as string, heads[i + 1] as number);
  }

  /** The writer's answer to logBounds(userId), asked when the epoch was `askedAt`. */
  learn(userId: string, bounds: LogBounds, askedAt: number): void {
    if (askedAt !== this.#epoch) return;
    this.#raise(userId, bounds.head);
    if (this.#floors.size >= CACHE_LIMIT) this.#forget(this.#floors);
    this.#floors.set(userId, bounds.floor);
  }

  #raise(userId: string, head: number): void {
    const known = this.#heads.get(userId);
    if (known !== undefined && known >= head) return;
    if (known === undefined && this.#heads.size >= CACHE_LIMIT) this.#forget(this.#heads);
    this.#heads.set(userId, head);
  }

  #forget(map: Map<string, number>): void {
    map.clear();
    this.#epoch++;
  }
}
