/**
 * Search and mentions (GET /v1/search, GET /v1/mentions): queries parsed by the one tokenizer
 * (search-text.ts), only over channels the user is a member of at the time of the query, pages
 * bounded in count and in text bytes, highlights computed here from each result's text.
 */
import { countCodePoints, limits, type MentionsPage, type Message, type SearchPage } from '@parley/protocol';
import type { SearchStore } from '../ports/search.js';
import type { ChannelStore } from '../ports/store.js';
import { ChatError } from './errors.js';
import { highlightRanges, MAX_QUERY_CODE_POINTS, parseSearchQuery } from './search-text.js';

export interface SearchInput {
  q: string;
  channelId?: string;
  before?: string;
  limit: number;
}

export class SearchService {
  constructor(private readonly store: SearchStore & Pick<ChannelStore, 'getRole'>) {}

  /**
   * Messages matching every word of `q`, newest first. Throws invalid_request for a query that is
   * too long or has nothing to match (only spaces or punctuation), and not_found for a channel
   * the user is not in; neither reaches the index.
   */
  async search(userId: string, input: SearchInput): Promise<SearchPage> {
    if (countCodePoints(input.q) > MAX_QUERY_CODE_POINTS) {
      throw new ChatError('invalid_request', `q is longer than ${MAX_QUERY_CODE_POINTS} characters`);
    }
    const terms = parseSearchQuery(input.q);
    if (terms === undefined) throw new ChatError('invalid_request', 'q has no letters, digits or emoji to search for');
    if (input.channelId !== undefined && (await this.store.getRole(input.channelId, userId)) === undefined) {
      throw new ChatError('not_found', 'no such channel');
    }
    const read = await this.store.searchMessages(userId, {
      terms,
      ...(input.channelId === undefined ? {} : { channelId: input.channelId }),
      ...(input.before === undefined ? {} : { before: input.before }),
      limit: input.limit + 1,
      maxTextBytes: limits.pageTextBytes,
    });
    const { page, hasMore } = cut(read, input.limit);
    return {
      results: page.map((message) => ({ message, highlights: highlightRanges(message.text, terms) })),
      hasMore,
    };
  }

  /** Messages that mention the user, in channels they are still in, newest first. */
  async mentions(userId: string, input: { before?: string; limit: number }): Promise<MentionsPage> {
    const read = await this.store.mentions(userId, {
      ...(input.before === undefined ? {} : { before: input.before }),
      limit: input.limit + 1,
      maxTextBytes: limits.pageTextBytes,
    });
    const { page, hasMore } = cut(read, input.limit);
    return { results: page.map((message) => ({ message })), hasMore };
  }
}

/** The page (one more than `limit` was read), and whether more follow (by count or by bytes). */
function cut(read: Message[], limit: number): { page: Message[]; hasMore: boolean } {
  const page = read.slice(0, limit);
  let bytes = 0;
  for (const message of page) bytes += Buffer.byteLength(message.text);
  return { page, hasMore: read.length > limit || bytes >= limits.pageTextBytes };
}
