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
