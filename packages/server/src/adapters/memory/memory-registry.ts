import type { NodeRegistry, NodeStatus } from '../../ports/cluster.js';

const MAX_NODE_ID = 1023;

/**
 * What several MemoryNodeRegistry instances share: the in-process stand-in for the fleet's
 * registry (one per process in production, one per simulated fleet in tests).
 */
export class MemoryRegistryState {
  readonly heldIds = new Set<number>();
  readonly statuses = new Map<string, { status: NodeStatus; expiresAt: number }>();
}

export interface MemoryNodeRegistryOptions {
  /** Share one state between registries that should see each other. Default: a private one. */
  state?: MemoryRegistryState;
  now?: () => number;
}

/** In-process NodeRegistry: node ids and statuses live in a shared object. */
export class MemoryNodeRegistry implements NodeRegistry {
  readonly #state: MemoryRegistryState;
  readonly #now: () => number;
  readonly #announced = new Set<string>();
  #nodeId: number | undefined;
  #closed = false;
  #withdrawn = false;

  constructor(options: MemoryNodeRegistryOptions = {}) {
    this.#state = options.state ?? new MemoryRegistryState();
    this.#now = options.now ?? Date.now;
  }

  async leaseNodeId(): Promise<number> {
    if (this.#closed) throw new Error('MemoryNodeRegistry is closed');
    if (this.#nodeId !== undefined) return this.#nodeId;
    for (let id = 0; id <= MAX_NODE_ID; id++) {
      if (!this.#state.heldIds.has(id)) {
        this.#state.heldIds.add(id);
        this.#nodeId = id;
        return id;
      }
    }
    throw new Error('no free node id: 1024 nodes hold one');
  }

  async announce(status: NodeStatus, ttlMs: number): Promise<void> {
    if (this.#closed || this.#withdrawn) return;
    this.#announced.add(status.nodeId);
    this.#state.statuses.set(status.nodeId, { status: { ...status }, expiresAt: this.#now() + ttlMs });
  }

  async liveNodes(): Promise<NodeStatus[]> {
    const now = this.#now();
    const live: NodeStatus[] = [];
    for (const [nodeId, entry] of this.#state.statuses) {
      if (entry.expiresAt > now) live.push({ ...entry.status });
      else this.#state.statuses.delete(nodeId);
    }
    return live;
  }

  async withdraw(): Promise<void> {
    this.#withdrawn = true;
    for (const nodeId of this.#announced) this.#state.statuses.delete(nodeId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#nodeId !== undefined) this.#state.heldIds.delete(this.#nodeId);
    for (const nodeId of this.#announced) this.#state.statuses.delete(nodeId);
  }
}
