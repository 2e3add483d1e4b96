/**
 * Changes to sent messages (edit, delete, react, unreact) waiting to reach the server: a queue
 * kept in order and persisted like the outbox, so a change made offline goes out once the client
 * is online, also after a restart. Each operation is idempotent on the server (PATCH to the same
 * text, DELETE of a tombstone, PUT of a reaction that is there, DELETE of one that is not change
 * nothing), so sending one again after a lost answer applies it once; the queue sends one at a
 * time, in order, so a later change never overtakes an earlier one.
 *
 *   pending --done--> gone
 *   pending --retryable error--> pending (again after a delay)
 *   pending --permanent error--> gone (reported with its error)
 */
import type { ChatError } from '@parley/protocol';
import type { ErrorCode } from '@parley/protocol';
import { newClientMsgId } from './outbox.js';

export type MessageChangeKind = 'edit' | 'delete' | 'react' | 'unreact';

export interface PendingChange {
  /** Local id of this change. */
  id: string;
  kind: MessageChangeKind;
  channelId: string;
  messageId: string;
  /** edit: the new text. */
  text?: string;
  /** react, unreact: the emoji. */
  emoji?: string;
  state: 'pending' | 'done' | 'failed';
  /** Why it failed (permanent errors only: forbidden, not_found, ...). */
  error?: { code: ErrorCode; message: string };
}

export class ChangeQueue {
  #entries: PendingChange[] = [];
  #inFlight = false;
  #attempts = 0;
  #retryAt: number | undefined;

  constructor(
    private readonly retryDelayMs: (attempt: number) => number = (attempt) =>
      Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2),
    private readonly now: () => number = Date.now,
  ) {}

  add(change: Omit<PendingChange, 'id' | 'state'>): PendingChange {
    const entry: PendingChange = { ...change, id: newClientMsgId(), state: 'pending' };
    this.#entries.push(entry);
    return { ...entry };
  }

  restore(changes: readonly PendingChange[]): void {
    for (const change of changes) if (change.state === 'pending') this.#entries.push({ ...change });
  }

  /** The head, if it may go out now (nothing in flight, no retry waiting); marks it in flight. */
  take(): PendingChange | undefined {
    const head = this.#entries[0];
    if (head === undefined || this.#inFlight) return undefined;
    if (this.#retryAt !== undefined && this.#retryAt > this.now()) return undefined;
    this.#inFlight = true;
    this.#attempts++;
    this.#retryAt = undefined;
    return { ...head };
  }

  /** The head is settled: done, or refused for good. */
  settle(id: string, error?: ChatError): PendingChange | undefined {
    const head = this.#entries[0];
    this.#inFlight = false;
    if (head === undefined || head.id !== id) return undefined;
    if (error !== undefined && error.retryable) {
      this.#retryAt = this.now() + this.retryDelayMs(this.#attempts);
      return undefined;
    }
    this.#entries.shift();
    this.#attempts = 0;
    this.#retryAt = undefined;
    const settled: PendingChange = { ...head, state: error === undefined ? 'done' : 'failed' };
    if (error !== undefined) settled.error = { code: error.code, message: error.message };
    return settled;
  }

  /** When the head's retry is due, if it waits for one. */
  nextRetryAt(): number | undefined {
    return this.#entries.length > 0 && !this.#inFlight ? this.#retryAt : undefined;
  }

  list(): PendingChange[] {
    return this.#entries.map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.#entries = [];
    this.#inFlight = false;
    this.#attempts = 0;
    this.#retryAt = undefined;
  }
}
