/** Product limits that both ends enforce. */
export const limits = {
  /** A message's text, counted in Unicode code points (an emoji is one). */
  maxTextCodePoints: 100_000,
  /** Members of a group, owner included. */
  maxGroupMembers: 100,
  /** Messages per history page. */
  maxHistoryLimit: 100,
  defaultHistoryLimit: 50,
  /** Channel views per GET /v1/channels page (a user can be in any number of channels). */
  maxChannelsLimit: 50,
  /** Events per /v1/sync page. */
  maxSyncLimit: 1000,
  defaultSyncLimit: 200,
  /**
   * Byte budget of a page (sync page, history page, replay batch after hello): a page ends at
   * the first item at which its messages' texts reach this many UTF-8 bytes, so it holds at
   * least one item, and its `hasMore` says whether more follow.
   */
  pageTextBytes: 1_048_576,
  /**
   * A channel view's `lastMessage` carries at most this many code points of its text (a
   * preview, flagged `textTruncated`), so the channel list stays small whatever the messages.
   */
  previewCodePoints: 500,
  /** Results per search or mentions page. */
  maxSearchLimit: 50,
  defaultSearchLimit: 20,
  /** A search query, in code points. */
  maxSearchQueryLength: 256,
  /** A reply's `replyTo.preview`: the first this many code points of the message it answers. */
  replyPreviewCodePoints: 100,
  /** Distinct emoji one message can carry (the server's default; PARLEY_MAX_REACTION_EMOJI). */
  maxReactionEmoji: 20,
  /** clientMsgId length. */
  maxClientMsgIdLength: 128,
  maxGroupNameLength: 100,
  maxDisplayNameLength: 64,
  maxStatusTextLength: 140,
  minPasswordLength: 8,
  maxPasswordLength: 1024,
} as const;

/** Unicode code points in `text`, without allocating (unlike `[...text].length`). */
export function countCodePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** The first `max` code points of `text` (all of it when shorter); a surrogate pair stays whole. */
export function takeCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (let taken = 0; taken < max && end < text.length; taken++) {
    const unit = text.charCodeAt(end);
    const pair = unit >= 0xd800 && unit <= 0xdbff && end + 1 < text.length;
    end += pair && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return text.slice(0, end);
}

/** Whether text is within the length limit; cheap for the common short case. */
export function textWithinLimit(text: string, max: number = limits.maxTextCodePoints): boolean {
  if (text.length <= max) return true;
  if (text.length > max * 2) return false;
  return countCodePoints(text) <= max;
}

/** Message ids and other ids are decimal strings of unsigned 64-bit integers. */
export const idPattern = /^[0-9]{1,20}$/;

/** Compares two decimal id strings numerically (ids grow in digit count over time). */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
