/**
 * Who is connected right now, across every gateway. Heartbeats refresh a connection's
 * lease; a connection whose lease ran out (its node died) no longer counts.
 *
 * Contract (pinned by ./contract/presence.contract.ts):
 * - `online` reports a user while at least one of their connections has an unexpired lease.
 * - `remove` ends a connection's lease at once.
 * - `expired` returns (and forgets) users whose last lease ran out without `remove`, so one
 *   node in the fleet can announce that they went offline; each such user is returned once.
 */
export interface ConnectionLease {
  userId: string;
  connId: string;
  nodeId: string;
}

export interface PresenceStore {
  touch(lease: ConnectionLease, ttlMs: number): Promise<void>;
  remove(lease: ConnectionLease): Promise<void>;
  online(userIds: readonly string[]): Promise<Set<string>>;
  expired(now: number): Promise<string[]>;
  close(): Promise<void>;
}
