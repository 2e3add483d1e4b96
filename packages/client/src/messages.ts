/** Helpers for keeping a channel's message list: ascending id order, one entry per id. */
import { compareIds } from '@parley/protocol';
import type { Message } from '@parley/protocol';

/**
 * Inserts `message` into `list` (sorted by id) in place unless a message with its id is
 * already there. Returns true if inserted. Appending in order is O(1).
 */
export function insertMessage(list: Message[], message: Message): boolean {
  let lo = 0;
  let hi = list.length;
  const last = list[hi - 1];
  if (!last || compareIds(last.id, message.id) < 0) {
    list.push(message);
    return true;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareIds((list[mid] as Message).id, message.id);
    if (cmp === 0) return false;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, message);
  return true;
}

/** A new sorted, deduplicated list from any number of pages and live messages. */
export function mergeMessages(...lists: readonly (readonly Message[])[]): Message[] {
  const out: Message[] = [];
  for (const list of lists) for (const m of list) insertMessage(out, m);
  return out;
}

/** A reaction.added or reaction.removed event, as the log carries it. */
export interface ReactionChange {
  type: 'reaction.added' | 'reaction.removed';
  messageId: string;
  emoji: string;
  userId: string;
}

/**
 * The message with one reaction event applied, as `viewerId` sees it: a set insert (or removal)
 * of the user in that emoji's userIds, with count and `me` following. Applying an event twice
 * gives the same message; a deleted message takes none. Returns `message` itself when nothing
 * changes.
 */
export function applyReaction(message: Message, change: ReactionChange, viewerId: string | undefined): Message {
  if (message.deletedAt !== undefined || message.id !== change.messageId) return message;
  const reactions = message.reactions ?? [];
  const existing = reactions.find((r) => r.emoji === change.emoji);
  const has = existing?.userIds.includes(change.userId) ?? false;
  if (has === (change.type === 'reaction.added')) return message;
  const userIds =
    change.type === 'reaction.added'
      ? [...(existing?.userIds ?? []), change.userId]
      : existing!.userIds.filter((id) => id !== change.userId);
  const chip = {
    emoji: change.emoji,
    count: userIds.length,
    me: viewerId !== undefined && userIds.includes(viewerId),
    userIds,
  };
  const next = existing === undefined ? [...reactions, chip] : reactions.map((r) => (r === existing ? chip : r));
  const kept = next.filter((r) => r.count > 0);
  const { reactions: _old, ...rest } = message;
  return kept.length > 0 ? { ...rest, reactions: kept } : rest;
}

/**
 * Replaces the message with the same id in `list` (sorted by id) in place, e.g. with the message
 * of a message.updated or message.deleted event. Returns true if it was there.
 */
export function replaceMessage(list: Message[], message: Message): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareIds((list[mid] as Message).id, message.id);
    if (cmp === 0) {
      list[mid] = message;
      return true;
    }
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
