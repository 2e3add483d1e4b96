/**
 * Who is connected right now, across every gateway. Heartbeats refresh a connection's
 * lease; a connection whose lease ran out (its node died) no longer counts. When a user's last
 * connection closes, they stay online for a grace period, in the shared store rather than on the
 * node they left, so that every node sees it: a snapshot taken on another gateway, and a
 * reconnect through another gateway, both find the user still online.
 *
 * Contract (pinned by ./contract/presence.contract.ts):
 * - `touch` starts or refreshes a connection's lease. It answers whether the user was already
 *   present: online, in their grace period, or gone but not yet handed out by `expired` (whose
 *   offline is therefore not announced yet). Only a user who was not present needs an `online`.
 * - `online` reports a user while one of their connections has an unexpired lease: a live socket
 *   (push notifications go to users who have none).
 * - `shownOnline` reports a user who is `online`, or whose grace period after their last
 *   connection's `remove` lasts: the presence their contacts see.
 * - `remove` ends a connection's lease at once. If no other connection of the user holds a live
 *   lease, the user's grace period starts: `graceMs` from now, replacing any earlier one (0 ends it).
 * - `expired(now)` returns (and forgets) users whose leases and grace period all ran out by `now`,
 *   so one node in the fleet can announce that they went offline; each such user is returned
 *   once, by one of the nodes calling.
 */
export interface ConnectionLease {
  userId: string;
  connId: string;
  nodeId: string;
}

export interface PresenceStore {
  touch(lease: ConnectionLease, ttlMs: number): Promise<{ wasPresent: boolean }>;
  remove(lease: ConnectionLease, graceMs: number): Promise<void>;
  online(userIds: readonly string[]): Promise<Set<string>>;
  shownOnline(userIds: readonly string[]): Promise<Set<string>>;
  expired(now: number): Promise<string[]>;
  close(): Promise<void>;
}
