/**
 * Service discovery: which gateway a new client should connect to.
 *
 * Gateways announce their connection counts every few seconds; between announcements a burst
 * of new clients would all see the same "emptiest" gateway. So each API node also counts the
 * clients it sent to each gateway since roughly the last announcement, and picks by
 * capacity - announced connections - recently handed out.
 */
import type { NodeRegistry, NodeStatus } from '../ports/cluster.js';
import type { Clock } from './clock.js';

export interface GatewayChoice {
  nodeId: string;
  /** Absent when the chosen gateway is this very process and has no advertised URL. */
  url?: string;
}

export class Discovery {
  readonly #handedOut = new Map<string, number[]>();

  constructor(
    private readonly registry: NodeRegistry,
    private readonly clock: Clock,
    /** How long a hand-out counts before the gateway's own count is assumed to include it. */
    private readonly handoutWindowMs: number,
  ) {}

  async pick(): Promise<NodeStatus | undefined> {
    const now = this.clock.now();
    let best: NodeStatus | undefined;
    let bestSpare = -Infinity;
    for (const node of await this.registry.liveNodes()) {
      if (node.role !== 'gateway' && node.role !== 'all') continue;
      const recent = (this.#handedOut.get(node.nodeId) ?? []).filter((t) => now - t < this.handoutWindowMs);
      this.#handedOut.set(node.nodeId, recent);
      const spare = node.capacity - node.connections - recent.length;
      if (spare > 0 && spare > bestSpare) {
        best = node;
        bestSpare = spare;
      }
    }
    if (best !== undefined) this.#handedOut.get(best.nodeId)!.push(now);
    return best;
  }
}
