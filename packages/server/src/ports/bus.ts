/**
 * Cross-node fan-out of ephemeral messages (live events, presence, typing).
 *
 * Contract (pinned by ./contract/bus.contract.ts, run against every backend):
 * - At-most-once: a message may be lost (e.g. while the backend reconnects); durability lives
 *   in the Store and clients fill gaps from the update log.
 * - Order is kept per topic for a single publisher.
 * - A subscriber receives messages published after its `subscribe` resolved.
 * - The in-memory implementation has delivered to local subscribers when `publish` returns.
 * - Several subscriptions to one topic each receive every message.
 * - Recovery is announced: after an outage in which messages may have been lost (the backend
 *   restarted, failed over, or the connection dropped), the bus subscribes its topics again by
 *   itself and then calls every `onReconnect` listener, once per recovery; a message published
 *   after the listeners were called reaches every subscription. A subscriber that must not
 *   miss anything re-reads the durable source then (the gateway reads each device's log).
 *   A bus that cannot lose messages (the in-memory one) never calls the listeners.
 */
export type Unsubscribe = () => Promise<void>;

export interface BusMessage {
  topic: string;
  payload: string;
}

export interface Bus {
  /** Publishes a batch in order (one round trip on networked backends). */
  publish(messages: readonly BusMessage[]): Promise<void>;
  subscribe(topic: string, onMessage: (payload: string, topic: string) => void): Promise<Unsubscribe>;
  /**
   * Calls `listener` after each recovery from an outage, once the subscriptions are live again
   * (see the contract above). Returns a function that removes the listener.
   */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}
