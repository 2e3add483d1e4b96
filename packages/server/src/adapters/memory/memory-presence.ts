import type { ConnectionLease, PresenceStore } from '../../ports/presence.js';

/**
 * In-process PresenceStore: per user, the expiry time of each connection's lease, and of the
 * grace period after their last connection closed. Both are checked against the clock when read,
 * so nothing needs a timer. A user stays in the map until `expired` hands them out.
 */
export class MemoryPresenceStore implements PresenceStore {
  /** userId -> (nodeId/connId -> lease expiry, ms since epoch). */
  readonly #leases = new Map<string, Map<string, number>>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async touch(lease: ConnectionLease, ttlMs: number): Promise<{ wasPresent: boolean }> {
    let conns = this.#leases.get(lease.userId);
    const wasPresent = conns !== undefined;
    if (conns === undefined) {
      conns = new Map();
      this.#leases.set(lease.userId, conns);
    }
    conns.set(connKey(lease), this.#now() + ttlMs);
    return { wasPresent };
  }

  async remove(lease: ConnectionLease, graceMs: number): Promise<void> {
    const conns = this.#leases.get(lease.userId);
    // Not present (never, or already handed out by `expired`): there is no presence to end.
    if (conns === undefined) return;
    conns.delete(connKey(lease));
    conns.delete(GRACE);
    const now = this.#now();
    for (const [key, expiry] of conns) if (expiry <= now) conns.delete(key);
    // The last connection is gone: the user's grace period starts; `expired` hands them out after it.
    if (conns.size === 0) conns.set(GRACE, now + graceMs);
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return this.#live(userIds, false);
  }

  async shownOnline(userIds: readonly string[]): Promise<Set<string>> {
    return this.#live(userIds, true);
  }

  #live(userIds: readonly string[], countGrace: boolean): Set<string> {
    const now = this.#now();
    const result = new Set<string>();
    for (const userId of userIds) {
      const conns = this.#leases.get(userId);
      if (conns === undefined) continue;
      for (const [key, expiry] of conns) {
        if (expiry > now && (countGrace || key !== GRACE)) {
          result.add(userId);
          break;
        }
      }
    }
    return result;
  }

  async expired(now: number): Promise<string[]> {
    const result: string[] = [];
    for (const [userId, conns] of this.#leases) {
      let live = false;
      for (const expiry of conns.values()) {
        if (expiry > now) {
          live = true;
          break;
        }
      }
      if (!live) {
        this.#leases.delete(userId);
        result.push(userId);
      }
    }
    return result;
  }

  async close(): Promise<void> {
    this.#leases.clear();
  }
}

/** The grace period's entry; connection keys always contain a slash, so it cannot clash. */
const GRACE = 'grace';

function connKey(lease: ConnectionLease): string {
  return `${lease.nodeId}/${lease.connId}`;
}
