/** What every port's contract suite shares: harness, ids, times and setup helpers. */
import { expect } from 'vitest';
import { StoreError, type AccountStore, type ChannelStore, type NewMessage } from '../store.js';
import { groupOf } from './fixtures.js';
import { mentionCandidates } from '../../domain/mentions.js';
import { indexTokens } from '../../domain/search-text.js';

/** A fresh, empty backend offering port(s) `P`. */
export interface PortHarness<P> {
  store: P;
  /** Closes the store and removes everything it created. */
  cleanup(): Promise<void>;
}

/** Snowflake-sized ids (above 2^53) so that precision loss anywhere shows up. */
let counter = 0;
export function nextId(): string {
  counter++;
  return (7_400_000_000_000_000_000n + BigInt(Date.now() % 1_000_000) * 1_000_000n + BigInt(counter)).toString();
}

/** A fixed time, plus an offset. */
export const at = (offsetMs = 0): string => new Date(Date.UTC(2026, 5, 1) + offsetMs).toISOString();

/** A user whose display name is the username in capitals; returns the id. */
export async function createUser(store: AccountStore, username: string): Promise<string> {
  const id = nextId();
  await store.createUser({ id, username, displayName: username.toUpperCase(), passwordHash: 'h', createdAt: at() });
  return id;
}

/** A text with what the domain derives from it for the store: search tokens and mention names. */
export function indexedText(text: string): { text: string; searchTokens: string; mentionNames: string[] } {
  return { text, searchTokens: indexTokens(text), mentionNames: mentionCandidates(text) };
}

export function newMessage(channelId: string, senderId: string, text = 'hi', clientMsgId = nextId()): NewMessage {
  return { id: nextId(), channelId, senderId, text, createdAt: at(), clientMsgId };
}

/** A group named "team" owned by `ownerId`; returns its id. */
export async function createGroup(store: ChannelStore, ownerId: string, memberIds: string[]): Promise<string> {
  const { channel } = await store.createGroup(...groupOf(nextId(), 'team', ownerId, memberIds, at()));
  return channel.id;
}

export async function expectStoreError(promise: Promise<unknown>, kind: StoreError['kind']): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).kind).toBe(kind);
}
