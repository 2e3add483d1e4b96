/**
 * The outbox: messages the user sent that the server has not acknowledged yet. Pure state
 * machine; the client drives it from socket events and persists `persisted()` after each change.
 *
 *   pending --ack--> sent (leaves the outbox)
 *   pending --permanent error--> failed --retry()--> pending
 *   pending --retryable error--> pending (again after a delay)
 *   pending|failed --discard()--> gone
 */
import { ChatError, limits, textWithinLimit } from '@parley/protocol';
import type { ErrorCode } from '@parley/protocol';

export type OutboxState = 'pending' | 'sent' | 'failed';

/** A message as the sender sees it before and right after the server accepts it. */
export interface OutboxMessage {
  /** Generated once by the client; the server uses it to make resends idempotent. */
  clientMsgId: string;
  channelId: string;
  text: string;
  /** A reply: the message it answers. */
  replyToId?: string;
  state: OutboxState;
  /** When the user sent it (client clock). */
  queuedAt: string;
  /** Server id, once sent. */
  messageId?: string;
  /** Server time, once sent. */
  createdAt?: string;
  /** Why it failed (permanent errors only: message_too_long, forbidden, not_found, ...). */
  error?: { code: ErrorCode; message: string };
}

interface Entry extends OutboxMessage {
  /** Sent on the current connection, awaiting ack or error. */
  inFlight: boolean;
  attempts: number;
  /** Earliest time (ms) to try again after a retryable error. */
  retryAt?: number;
}

export interface OutboxOptions {
  /** Called with a snapshot on every state change. */
  onChange?: (message: OutboxMessage) => void;
  now?: () => number;
  /** Delay before retry number `attempt` (1-based) after a retryable error. */
  retryDelayMs?: (attempt: number) => number;
}

export class Outbox {
  readonly #entries = new Map<string, Entry>();
  readonly #onChange: (message: OutboxMessage) => void;
  readonly #now: () => number;
  readonly #retryDelayMs: (attempt: number) => number;

  constructor(options: OutboxOptions = {}) {
    this.#onChange = options.onChange ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#retryDelayMs =
      options.retryDelayMs ?? ((attempt) => Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
  }

  /** Adds a message; it starts pending, or failed at once if the text breaks a limit. */
  add(channelId: string, text: string, clientMsgId: string = newClientMsgId(), replyToId?: string): OutboxMessage {
    if (this.#entries.has(clientMsgId)) throw new Error(`duplicate clientMsgId ${clientMsgId}`);
    const entry: Entry = {
      clientMsgId,
      channelId,
      text,
      state: 'pending',
      queuedAt: new Date(this.#now()).toISOString(),
      inFlight: false,
      attempts: 0,
    };
    if (replyToId !== undefined) entry.replyToId = replyToId;
    const invalid =
      text.length === 0
        ? new ChatError('invalid_request', 'text must not be empty')
        : !textWithinLimit(text)
          ? new ChatError('message_too_long', `text is longer than ${limits.maxTextCodePoints} characters`)
          : undefined;
    if (invalid) {
      entry.state = 'failed';
      entry.error = { code: invalid.code, message: invalid.message };
    }
    this.#entries.set(clientMsgId, entry);
    return snapshot(entry);
  }

  /** Puts back what a previous run persisted (in its original order). */
  restore(messages: readonly OutboxMessage[]): void {
    for (const m of messages) {
      if (this.#entries.has(m.clientMsgId) || m.state === 'sent') continue;
      this.#entries.set(m.clientMsgId, { ...m, inFlight: false, attempts: 0 });
    }
  }

  /** Pending messages that may go out now; marks them in flight. */
  takeSendable(): OutboxMessage[] {
    const now = this.#now();
    const out: OutboxMessage[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.state !== 'pending' || entry.inFlight) continue;
      if (entry.retryAt !== undefined && entry.retryAt > now) continue;
      entry.inFlight = true;
      entry.attempts++;
      entry.retryAt = undefined;
      out.push(snapshot(entry));
    }
    return out;
  }

  /** When the next delayed retry is due, if any. */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.state === 'pending' && !entry.inFlight && entry.retryAt !== undefined) {
        next = next === undefined ? entry.retryAt : Math.min(next, entry.retryAt);
      }
    }
    return next;
  }

  /** The server accepted it. Returns the sent message, or undefined if it was not pending here. */
  ack(clientMsgId: string, messageId: string, createdAt: string): OutboxMessage | undefined {
    const entry = this.#entries.get(clientMsgId);
    if (!entry || entry.state === 'sent') return undefined;
    this.#entries.delete(clientMsgId);
    entry.state = 'sent';
    entry.inFlight = false;
    entry.messageId = messageId;
    entry.createdAt = createdAt;
    entry.error = undefined;
    const message = snapshot(entry);
    this.#onChange(message);
    return message;
  }

  /** The server refused it: permanent codes fail the message, retryable ones schedule a retry. */
  reject(clientMsgId: string, error: ChatError): OutboxMessage | undefined {
    const entry = this.#entries.get(clientMsgId);
    if (!entry || entry.state !== 'pending') return undefined;
    entry.inFlight = false;
    if (error.retryable) {
      entry.retryAt = this.#now() + this.#retryDelayMs(entry.attempts);
      return snapshot(entry);
    }
    entry.state = 'failed';
    entry.error = { code: error.code, message: error.message };
    const message = snapshot(entry);
    this.#onChange(message);
    return message;
  }

  /** The connection dropped: whatever was in flight goes out again on the next one. */
  connectionLost(): void {
    for (const entry of this.#entries.values()) entry.inFlight = false;
  }

  /** Sends a failed message again (same clientMsgId). */
  retry(clientMsgId: string): OutboxMessage | undefined {
    const entry = this.#entries.get(clientMsgId);
    if (!entry || entry.state !== 'failed') return undefined;
    entry.state = 'pending';
    entry.error = undefined;
    entry.attempts = 0;
    entry.retryAt = undefined;
    const message = snapshot(entry);
    this.#onChange(message);
    return message;
  }

  /** Forgets a pending or failed message (a pending one may still have reached the server). */
  discard(clientMsgId: string): boolean {
    return this.#entries.delete(clientMsgId);
  }

  get(clientMsgId: string): OutboxMessage | undefined {
    const entry = this.#entries.get(clientMsgId);
    return entry && snapshot(entry);
  }

  /** Pending and failed messages, oldest first. */
  list(): OutboxMessage[] {
    return [...this.#entries.values()].map(snapshot);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

function snapshot(entry: Entry): OutboxMessage {
  const m: OutboxMessage = {
    clientMsgId: entry.clientMsgId,
    channelId: entry.channelId,
    text: entry.text,
    state: entry.state,
    queuedAt: entry.queuedAt,
  };
  if (entry.replyToId !== undefined) m.replyToId = entry.replyToId;
  if (entry.messageId !== undefined) m.messageId = entry.messageId;
  if (entry.createdAt !== undefined) m.createdAt = entry.createdAt;
  if (entry.error !== undefined) m.error = { ...entry.error };
  return m;
}

/**
 * A random clientMsgId (128 bits, 32 hex digits). Uses getRandomValues, which browsers offer
 * on plain-http pages too (unlike crypto.randomUUID).
 */
export function newClientMsgId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
