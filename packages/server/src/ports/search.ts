/**
 * Search and mentions: the index of message texts and who each message mentions. Written with
 * the message, in the same transaction (MessageStore.appendMessages: NewMessage.searchTokens and
 * NewMessage.mentionNames); read here. Contract: ./contract/search.contract.ts.
 *
 * The domain (domain/search-text.ts) makes the tokens a text is indexed by and the terms a query
 * is matched with; a store matches the terms against the tokens and nothing else: it never looks
 * at a text's characters itself.
 */
import type { Message } from '@parley/protocol';

/** One term of a query (all of a query's terms must match). */
export type SearchTerm =
  /** Adjacent tokens, in order (a CJK word's bigrams, or one exact token such as an emoji). */
  | { kind: 'phrase'; tokens: string[] }
  /** Any token that starts with this (a Latin word, a single CJK character). */
  | { kind: 'prefix'; token: string };

export interface SearchPageQuery {
  /** Only messages with an id below this. */
  before?: string;
  limit: number;
  /**
   * The page also ends at the first message at which the texts read so far (UTF-8 bytes) reach
   * this (so it holds at least one message), like MessageStore.listMessages.
   */
  maxTextBytes?: number;
}

export interface MessageSearch extends SearchPageQuery {
  /** All must match (AND); at least one. */
  terms: readonly SearchTerm[];
  /** Only this channel (the caller checks that the user is a member). */
  channelId?: string;
}

/**
 * Contract: results are newest first (descending id), only from channels `userId` is a member of
 * at the time of the query (whatever they were when the message was sent), at most `limit`.
 * A `phrase` term matches a message whose tokens hold its tokens adjacent and in order; a
 * `prefix` term a message with a token starting with it.
 */
export interface SearchStore {
  searchMessages(userId: string, query: MessageSearch): Promise<Message[]>;
  /** Messages that mention `userId`, in channels they are a member of now, newest first. */
  mentions(userId: string, page: SearchPageQuery): Promise<Message[]>;
}
