import type { Bus, BusMessage, Unsubscribe } from '../../ports/bus.js';

type Handler = (payload: string, topic: string) => void;

/** In-process Bus: delivers synchronously to local subscribers, so it never loses a message. */
export class MemoryBus implements Bus {
  readonly #topics = new Map<string, Set<Handler>>();

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
    let handlers = this.#topics.get(topic);
    if (handlers === undefined) {
      handlers = new Set();
      this.#topics.set(topic, handlers);
    }
    // Wrap so that the same function subscribed twice counts as two subscriptions.
    const handler: Handler = (payload, t) => onMessage(payload, t);
    handlers.add(handler);
    return async () => {
      const current = this.#topics.get(topic);
      if (current === undefined) return;
      current.delete(handler);
      if (current.size === 0) this.#topics.delete(topic);
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
