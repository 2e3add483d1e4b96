/**
 * Mentions: `@username` in a message's text names that user, if they are a member of the channel
 * when the message is committed (the store resolves the names it is given against the members
 * inside the send's transaction). The text is never rewritten.
 */

/** At most this many distinct names of one message are looked up. */
export const MAX_MENTIONS = 50;

// A username is 3-32 of [a-z0-9_.-] (protocol schemas), matched case-insensitively, after a
// start of text or a character that cannot be part of a name or an e-mail address.
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]{3,32})(?![A-Za-z0-9_])/gu;

/**
 * The lower-cased usernames the text may mention, in order of first appearance. A name followed
 * by `.` or `-` (end of a sentence) is given both with and without them, since a username may end
 * in either; only a member's name is kept by the store.
 */
export function mentionCandidates(text: string): string[] {
  if (!text.includes('@')) return [];
  const names = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    const name = match[1]!.toLowerCase();
    names.add(name);
    const trimmed = name.replace(/[.-]+$/, '');
    if (trimmed.length >= 3) names.add(trimmed);
    if (names.size >= MAX_MENTIONS) break;
  }
  return [...names].slice(0, MAX_MENTIONS);
}
