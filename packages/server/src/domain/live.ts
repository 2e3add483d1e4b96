/**
 * The port through which the domain hands live deliveries to the gateways. The domain says what
 * reaches whom, as typed values; how it travels (topics, payload format) is the gateway's
 * business (gateway/bus-codec.ts).
 *
 * Contract: at-most-once, like the Bus under it. A publish may reject (the bus is down); the log
 * stays the truth and clients catch up from it. Values published by one caller, in order, reach a
 * recipient's sockets in that order.
 */
import type { Message, PresenceFrame, ReadPositionFrame, SyncEvent, TypingEventFrame } from '@parley/protocol';

/** Frames that are not log entries: passed to every socket of the recipient as they are. */
export type EphemeralFrame = PresenceFrame | TypingEventFrame | ReadPositionFrame;

/** A committed log entry, hydrated, for the user whose log holds it. */
export interface UserEvent {
  userId: string;
  event: SyncEvent;
}

/** One committed message and the log entries (one per recipient) that announce it. */
export interface CreatedMessage {
  message: Message;
  entries: readonly { userId: string; seq: number }[];
}

export interface LivePublisher {
  /** Log entries, each to its user's sockets, in order. */
  events(events: readonly UserEvent[]): Promise<void>;
  /**
   * message.created events of committed messages. The hot path: an implementation encodes each
   * message once, however many recipients it has.
   */
  messages(created: readonly CreatedMessage[]): Promise<void>;
  /** One frame to every socket of each user. */
  ephemeral(userIds: Iterable<string>, frame: EphemeralFrame): Promise<void>;
  /** Closes the sockets of a device whose session was revoked (logout), on every gateway. */
  deviceRevoked(userId: string, deviceId: string): Promise<void>;
}
