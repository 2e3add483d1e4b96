/**
 * Node identity and service discovery.
 *
 * Contract:
 * - `leaseNodeId` hands each live process a Snowflake node id (0..1023) that no other live
 *   process holds; the lease is renewed until `close`, and freed by it (or by expiry if the
 *   process dies).
 * - `announce` publishes a node's status for `ttlMs`; a node that stops announcing drops out
 *   of `liveNodes` once its TTL runs out.
 * - `withdraw` takes this process's announced nodes out of `liveNodes` at once and ignores later
 *   announces, while the id lease stays held until `close` (a node that is stopping: nobody
 *   should be sent to it, but it may still mint ids for the work it finishes).
 */
export type NodeRole = 'all' | 'api' | 'gateway' | 'notifier';

export interface NodeStatus {
  nodeId: string;
  role: NodeRole;
  /** WebSocket URL clients use, for nodes that hold sockets. */
  wsUrl?: string;
  connections: number;
  capacity: number;
}

export interface NodeRegistry {
  leaseNodeId(): Promise<number>;
  announce(status: NodeStatus, ttlMs: number): Promise<void>;
  liveNodes(): Promise<NodeStatus[]>;
  withdraw(): Promise<void>;
  close(): Promise<void>;
}
