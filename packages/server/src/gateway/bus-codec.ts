/**
 * What travels on the Bus between the domain and the gateways, in one place: the only code that
 * knows topics and payload formats. The domain publishes typed values through `LivePublisher`
 * (domain/live.ts); gateways subscribe and receive them decoded.
 *
 * Every user has a topic, `u:<userId>`. A payload is one of:
 * - event: `<seq>|<event frame JSON>`, seq >= 1, so a gateway orders and deduplicates without
 *   parsing the frame, which goes to sockets as it is;
 * - ephemeral: `0|<frame JSON>` (presence, typing, group read positions), sent as it is;
 * - control: `c|<JSON>` for the gateways themselves; `{"revoke":<deviceId>}` closes a device's
 *   sockets.
 * The format is shared by every node of a fleet: changing it breaks rolling upgrades.
 */
import type { Message, SyncEvent } from '@parley/protocol';
import type { Bus, BusMessage, Unsubscribe } from '../ports/bus.js';
import type { Logger } from '../domain/events.js';
import type { CreatedMessage, EphemeralFrame, LivePublisher, UserEvent } from '../domain/live.js';

/** A gateway's instruction that is not for clients. */
export type Control = { type: 'device.revoked'; deviceId: string };

/** One payload on a user's topic, decoded. Frames stay JSON text: sockets get them unparsed. */
export type BusPayload =
  | { kind: 'event'; seq: number; frame: string }
  | { kind: 'ephemeral'; frame: string }
  | { kind: 'control'; control: Control };

export const userTopic = (userId: string): string => `u:${userId}`;

const CONTROL_PREFIX = 'c|';

export function encodeBusPayload(payload: BusPayload): string {
  switch (payload.kind) {
    case 'event':
      return `${payload.seq}|${payload.frame}`;
    case 'ephemeral':
      return `0|${payload.frame}`;
    case 'control':
      return `${CONTROL_PREFIX}${JSON.stringify({ revoke: payload.control.deviceId })}`;
  }
}

/** The payload decoded, or undefined if it is not one this codec writes. Never throws. */
export function decodeBusPayload(payload: string): BusPayload | undefined {
  if (payload.startsWith(CONTROL_PREFIX)) {
    let control: unknown;
    try {
      control = JSON.parse(payload.slice(CONTROL_PREFIX.length));
    } catch {
      return undefined;
    }
    const revoke = (control as { revoke?: unknown } | null)?.revoke;
    return typeof revoke === 'string'
      ? { kind: 'control', control: { type: 'device.revoked', deviceId: revoke } }
      : undefined;
  }
  const bar = payload.indexOf('|');
  // A seq is digits; Number('') would be 0. A frame is a JSON object.
  if (bar < 1 || payload.charCodeAt(bar + 1) !== 0x7b /* { */) return undefined;
  const seq = Number(payload.slice(0, bar));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  const frame = payload.slice(bar + 1);
  return seq === 0 ? { kind: 'ephemeral', frame } : { kind: 'event', seq, frame };
}

/** The `event` frame a socket receives for a log entry (bus and log replay alike). */
export function eventFrame(event: SyncEvent): string {
  return JSON.stringify({ op: 'event', ...event });
}

/** message.created payloads for every recipient, with each message encoded once. */
function messagePayloads(created: readonly CreatedMessage[]): BusMessage[] {
  const batch: BusMessage[] = [];
  for (const { message, entries } of created) {
    const tail = `,"type":"message.created","message":${messageJson(message)}}`;
    for (const entry of entries) {
      // Written out rather than through encodeBusPayload: this runs once per recipient.
      batch.push({ topic: userTopic(entry.userId), payload: `${entry.seq}|{"op":"event","seq":${entry.seq}${tail}` });
    }
  }
  return batch;
}

/** A text this long or longer is checked for needing no escapes rather than handed to JSON.stringify. */
const CHECKED_TEXT_LENGTH = 256;
/** Text JSON writes as it is: no control characters, quotes, backslashes or (lone) surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const WRITTEN_AS_IS = /^[^\u0000-\u001f"\\\ud800-\udfff]*$/;

/**
 * JSON.stringify(message), with a long text that needs no escaping spliced in as it is.
 *
 * Why: Node 20's JSON.stringify escapes a string at about 1.7 ns per character, 17 µs for a
 * 10,000-character text, 10% of the main thread's time at 2,500 such DMs/s; the one-pass check
 * above takes 6.5 µs (docs/benchmarks.md, finding 30). The object's other fields are short.
 */
export function messageJson(message: Message): string {
  const { text } = message;
  if (text.length < CHECKED_TEXT_LENGTH || !WRITTEN_AS_IS.test(text)) return JSON.stringify(message);
  const json = JSON.stringify({ ...message, text: '' });
  // The one place `"text":""` can occur: inside a JSON string a quote is always escaped.
  const at = json.indexOf('"text":""') + '"text":"'.length;
  return `${json.slice(0, at)}${text}${json.slice(at)}`;
}

/**
 * The codec over a Bus: the domain's LivePublisher, and the gateway's decoded subscription.
 * A payload that does not decode is dropped, logged and counted (`onDropped`), never thrown
 * into the bus's callback: one bad publisher must not stop a user's deliveries.
 */
export class LiveBus implements LivePublisher {
  /** Payloads dropped because they did not decode. */
  dropped = 0;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly onDropped: () => void = () => undefined,
  ) {}

  events(events: readonly UserEvent[]): Promise<void> {
    return this.#publish(
      events.map(({ userId, event }) => ({
        topic: userTopic(userId),
        payload: encodeBusPayload({ kind: 'event', seq: event.seq, frame: eventFrame(event) }),
      })),
    );
  }

  messages(created: readonly CreatedMessage[]): Promise<void> {
    return this.#publish(messagePayloads(created));
  }

  ephemeral(userIds: Iterable<string>, frame: EphemeralFrame): Promise<void> {
    const payload = encodeBusPayload({ kind: 'ephemeral', frame: JSON.stringify(frame) });
    const batch: BusMessage[] = [];
    for (const userId of userIds) batch.push({ topic: userTopic(userId), payload });
    return this.#publish(batch);
  }

  deviceRevoked(userId: string, deviceId: string): Promise<void> {
    const payload = encodeBusPayload({ kind: 'control', control: { type: 'device.revoked', deviceId } });
    return this.#publish([{ topic: userTopic(userId), payload }]);
  }

  /** Everything published to `userId`, decoded, in order. */
  subscribe(userId: string, onPayload: (payload: BusPayload) => void): Promise<Unsubscribe> {
    return this.bus.subscribe(userTopic(userId), (raw, topic) => {
      const payload = decodeBusPayload(raw);
      if (payload !== undefined) {
        onPayload(payload);
        return;
      }
      this.dropped++;
      this.onDropped();
      this.log.warn(
        { topic, bytes: raw.length, start: raw.slice(0, 40) },
        'dropped a bus payload that does not decode',
      );
    });
  }

  /** See Bus.onReconnect: after an outage, messages may have been lost. */
  onReconnect(listener: () => void): () => void {
    return this.bus.onReconnect(listener);
  }

  async #publish(batch: readonly BusMessage[]): Promise<void> {
    if (batch.length > 0) await this.bus.publish(batch);
  }
}
