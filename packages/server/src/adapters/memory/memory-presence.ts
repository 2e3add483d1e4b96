import type { ConnectionLease, PresenceStore } from '../../ports/presence.js';

/**
 * In-process PresenceStore: per user, the expiry time of each connection's lease. Leases are
 * checked against the clock when read, so nothing needs a timer.
 */
export class MemoryPresenceStore implements PresenceStore {
  /** userId -> (nodeId/connId -> lease expiry, ms since epoch). */
  readonly #leases = new Map<string, Map<string, number>>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async touch(lease: ConnectionLease, ttlMs: number): Promise<void> {
    let conns = this.#leases.get(lease.userId);
    if (conns === undefined) {
      conns = new Map();
      this.#leases.set(lease.userId, conns);
    }
    conns.set(connKey(lease), this.#now() + ttlMs);
  }

  async remove(lease: ConnectionLease): Promise<void> {
    const conns = this.#leases.get(lease.userId);
    if (conns === undefined) return;
    conns.delete(connKey(lease));
    const now = this.#now();
    for (const [key, expiry] of conns) if (expiry <= now) conns.delete(key);
    // Removed explicitly: the caller announces offline itself, so `expired` must not.
    if (conns.size === 0) this.#leases.delete(lease.userId);
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    const now = this.#now();
    const result = new Set<string>();
    for (const userId of userIds) {
      const conns = this.#leases.get(userId);
      if (conns === undefined) continue;
      for (const expiry of conns.values()) {
        if (expiry > now) {
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

function connKey(lease: ConnectionLease): string {
  return `${lease.nodeId}/${lease.connId}`;
}
