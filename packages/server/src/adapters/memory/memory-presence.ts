import type { ConnectionLease, PresenceStore } from '../../ports/presence.js';

/**
 * In-process PresenceStore: per user, the expiry time of each connection's lease, and of the
 * grace period after their last connection closed. Both are checked against the clock when read,
 * so nothing needs a timer. A user stays in the map until `expired` hands them out.
 */
export class MemoryPresenceStore implements PresenceStore {
  /**
   * userId -> their leases. A short array, not a Map: most users hold one or two, and a Map
   * costs about 270 bytes even when it holds one (this is per connected user).
   */
  readonly #leases = new Map<string, Lease[]>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async touch(lease: ConnectionLease, ttlMs: number): Promise<{ wasPresent: boolean }> {
    const leases = this.#leases.get(lease.userId);
    const expiry = this.#now() + ttlMs;
    const held = leases?.find((l) => isLeaseOf(l, lease));
    if (held !== undefined) held.expiry = expiry;
    else {
      // A new array of the exact length: push would reserve room for 16 more.
      const added: Lease = { nodeId: lease.nodeId, connId: lease.connId, expiry };
      this.#leases.set(lease.userId, leases === undefined ? [added] : leases.concat(added));
    }
    return { wasPresent: leases !== undefined };
  }

  async remove(lease: ConnectionLease, graceMs: number): Promise<void> {
    const leases = this.#leases.get(lease.userId);
    // Not present (never, or already handed out by `expired`): there is no presence to end.
    if (leases === undefined) return;
    const now = this.#now();
    const kept = leases.filter((l) => l.connId !== undefined && !isLeaseOf(l, lease) && l.expiry > now);
    // The last connection is gone: the user's grace period starts; `expired` hands them out after it.
    this.#leases.set(lease.userId, kept.length > 0 ? kept : [{ nodeId: '', connId: undefined, expiry: now + graceMs }]);
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
      const leases = this.#leases.get(userId);
      if (leases?.some((l) => l.expiry > now && (countGrace || l.connId !== undefined))) result.add(userId);
    }
    return result;
  }

  async expired(now: number): Promise<string[]> {
    const result: string[] = [];
    for (const [userId, leases] of this.#leases) {
      if (!leases.some((l) => l.expiry > now)) {
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

/** A connection's lease until `expiry` (ms since epoch); `connId` undefined: the grace period's. */
interface Lease {
  nodeId: string;
  connId: string | undefined;
  expiry: number;
}

function isLeaseOf(held: Lease, lease: ConnectionLease): boolean {
  return held.connId === lease.connId && held.nodeId === lease.nodeId;
}
