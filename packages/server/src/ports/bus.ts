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
  close(): Promise<void>;
}
