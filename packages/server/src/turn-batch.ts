/**
 * Gathers what one turn of the event loop produces and hands it over together once the turn's
 * I/O is done (setImmediate runs right after it): one write, one message to another thread or
 * one read transaction for the turn, instead of one each. The socket writes of a group commit,
 * the writer thread's calls and replies, and a hello's reads all go through one of these.
 */
export class TurnBatch<T> {
  #items: T[] = [];

  constructor(private readonly handOver: (items: T[]) => void) {}

  add(item: T): void {
    if (this.#items.push(item) === 1) setImmediate(() => this.flush());
  }

  /** Hands over what was gathered so far now, without waiting for the turn to end. */
  flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.handOver(items);
  }
}
