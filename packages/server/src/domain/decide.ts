import type { ConditionalWrite, LogEntry } from '../ports/store.js';
import { ChatError } from './errors.js';

/** Returned by a decision whose write found the state changed: decide again on fresh state. */
export const STALE = Symbol('stale');

/** How often a decision is taken again before the caller is asked to retry. */
const ATTEMPTS = 8;

/**
 * Reads, decides and writes conditionally (ports/store.ts, ConditionalWrite), again while the
 * store reports that the state it was decided on changed meanwhile. Why: the rules live here,
 * in the domain, once; a store only checks that nothing moved under the decision.
 */
export async function decideAndWrite<T>(attempt: () => Promise<T | typeof STALE>): Promise<T> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const outcome = await attempt();
    if (outcome !== STALE) return outcome;
  }
  throw new ChatError('unavailable', 'too many changes at once, try again');
}

/** The entries of an applied write, or STALE. */
export function entriesOf(write: ConditionalWrite): LogEntry[] | typeof STALE {
  return write.status === 'applied' ? write.entries : STALE;
}
