import type { Bus, BusMessage, Unsubscribe } from '../../ports/bus.js';

type Handler = (payload: string, topic: string) => void;

/** In-process Bus: delivers synchronously to local subscribers, so it never loses a message. */
export class MemoryBus implements Bus {
  /**
   * Handlers per topic, replaced (never changed in place) on subscribe and unsubscribe, so a
   * handler that unsubscribes during delivery does not disturb it. An array, not a Set: a topic
   * is a connected user, who mostly has one subscriber, and a Set costs about 170 bytes more.
   */
  readonly #topics = new Map<string, readonly Handler[]>();

  async publish(messages: readonly BusMessage[]): Promise<void> {
    this.publishNow(messages);
  }

  /** The synchronous core of publish, for callers on the hot path that need no promise. */
  publishNow(messages: readonly BusMessage[]): void {
    for (const { topic, payload } of messages) {
      const handlers = this.#topics.get(topic);
      if (handlers === undefined) continue;
      for (const handler of handlers) {
        try {
          handler(payload, topic);
        } catch {
          // A failing subscriber must not stop delivery to the others.
        }
      }
    }
  }

  async subscribe(topic: string, onMessage: Handler): Promise<Unsubscribe> {
    const handlers = this.#topics.get(topic);
    this.#topics.set(topic, handlers === undefined ? [onMessage] : handlers.concat(onMessage));
    let subscribed = true;
    return async () => {
      // The same function subscribed twice is two subscriptions: each unsubscribe removes one.
      const current = this.#topics.get(topic);
      const at = current?.indexOf(onMessage) ?? -1;
      if (!subscribed || current === undefined || at < 0) return;
      subscribed = false;
      if (current.length === 1) this.#topics.delete(topic);
      else this.#topics.set(topic, current.toSpliced(at, 1));
    };
  }

  /** An in-process bus has no outage to recover from: the listener is never called. */
  onReconnect(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.#topics.clear();
  }
}
