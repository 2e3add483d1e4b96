/**
 * Changes to stored messages: edits, deletes (tombstones) and reactions, and the reads that go
 * with them (reactions, reply previews). The domain (domain/message-changes.ts) decides who may
 * do what and builds every log entry; a backend persists the change together with those entries
 * in ONE transaction, and answers `stale` (nothing written) when the message is no longer in the
 * state the change needs. Contract: ./contract/message-changes.contract.ts.
 *
 * Each backend keeps its edit and delete writes in one place (SQLite: writer.ts #changeText;
 * PostgreSQL: postgres-store.ts #changeText), where the search index and the mentions
 * (ports/search.ts) follow the text in the same transaction.
 */
import type { LogAppend, LogEntry } from './store.js';
import type { Message } from '@parley/protocol';

/** A message by its channel and id. */
export interface MessageRef {
  channelId: string;
  messageId: string;
}

/** A new text for a message, decided by the domain. */
export interface MessageEdit extends MessageRef {
  /** Applied only if the message is still this user's. */
  senderId: string;
  text: string;
  /** What the search index holds for the new text (domain/search-text.ts, indexTokens). */
  searchTokens: string;
  /** Lower-cased usernames the new text may mention (domain/mentions.ts), as for a new message. */
  mentionNames: readonly string[];
  at: string;
  events: readonly LogAppend[];
}

/** A delete, decided by the domain: the text is erased from storage, the row stays as a tombstone. */
export interface MessageDelete extends MessageRef {
  at: string;
  events: readonly LogAppend[];
}

/**
 * `applied`: the message as it is now and the committed entries. `stale`: the message does not
 * exist in that channel, is deleted, or (edit) is not the sender's; nothing was written.
 */
export type MessageChangeResult = { status: 'applied'; message: Message; entries: LogEntry[] } | { status: 'stale' };

/** One user's emoji on a message. */
export interface ReactionRecord extends MessageRef {
  userId: string;
  emoji: string;
}

export interface ReactionChange extends ReactionRecord {
  /**
   * (add only) Applied only if the emoji is already on the message or the message carries fewer
   * distinct emoji than this: the cap the domain decided.
   */
  maxDistinctEmoji?: number;
  at: string;
  /** Appended only if the reaction set changed. */
  events: readonly LogAppend[];
}

export interface MessageChangeStore {
  /**
   * Replaces the text of a message that exists in the channel, was sent by `senderId` and is not
   * deleted (else `stale`), sets its editedAt, and appends `events`. The previous text is not
   * kept anywhere the store can read it back from. Search finds the message by its new text only,
   * and it mentions the members `mentionNames` names now (Message.mentions, SearchStore.mentions).
   */
  editMessage(edit: MessageEdit): Promise<MessageChangeResult>;
  /**
   * Turns a message that exists in the channel and is not deleted (else `stale`) into a
   * tombstone: text '' (and erased where it was stored, so a copy of the files taken afterwards
   * holds no trace of it), deletedAt set, its reactions removed, gone from search and from
   * everyone's mentions; appends `events`.
   */
  deleteMessage(del: MessageDelete): Promise<MessageChangeResult>;
  /**
   * Adds (userId, emoji) to a message that exists in the channel and is not deleted (else
   * `stale`; also `stale` past `maxDistinctEmoji`). Already there: `applied` with no entries.
   */
  addReaction(change: ReactionChange): Promise<{ status: 'applied'; entries: LogEntry[] } | { status: 'stale' }>;
  /**
   * Removes (userId, emoji) from a message that exists in the channel and is not deleted (else
   * `stale`). Not there: `applied` with no entries.
   */
  removeReaction(change: ReactionChange): Promise<{ status: 'applied'; entries: LogEntry[] } | { status: 'stale' }>;
  /** Every reaction on these messages, each message's in the order they were added. */
  listReactions(refs: readonly MessageRef[]): Promise<ReactionRecord[]>;
  /**
   * Of these messages, the ones that exist: sender, and (unless deleted) the first `codePoints`
   * code points of the current text.
   */
  replySources(
    refs: readonly MessageRef[],
    codePoints: number,
  ): Promise<{ messageId: string; senderId: string; preview?: string }[]>;
}
