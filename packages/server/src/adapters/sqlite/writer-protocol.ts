/** What the server's thread and the writer thread (writer-worker.ts) post to each other. */
import type { AppendResult, LogEntry, Store, StoreErrorKind } from '../../ports/store.js';

/** The Store methods that write: these run on the writer thread, everything else reads beside it. */
export const WRITE_METHODS = [
  'createUser',
  'updateProfile',
  'createDevice',
  'revokeDevice',
  'setLastSeen',
  'requestFriend',
  'acceptFriendRequest',
  'deleteFriendRequest',
  'removeFriend',
  'getOrCreateDm',
  'createGroup',
  'addMember',
  'removeMember',
  'setRole',
  'renameGroup',
  'markRead',
  'appendMessages',
  'appendLog',
  'trimLog',
  'savePushSubscription',
  'deletePushSubscription',
] as const satisfies readonly (keyof Store)[];

export type WriteMethod = (typeof WRITE_METHODS)[number];

export interface WriterRequest {
  id: number;
  method: WriteMethod | 'close';
  args: unknown[];
}

export type WriterReply =
  | { ready: true }
  | { failed: string }
  | { id: number; value: unknown }
  | { id: number; error: { kind?: StoreErrorKind; message: string } };

/**
 * appendMessages' results as they cross: a created message comes back without itself, since
 * the caller holds it already (a 100,000-character text need not cross twice).
 */
export type WireAppendResult =
  Exclude<AppendResult, { status: 'created' }> | { status: 'created'; entries: LogEntry[] };
