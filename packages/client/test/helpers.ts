/** Shared helpers for the integration tests (real server, real sockets). */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compareIds } from '@parley/protocol';
import type { Message } from '@parley/protocol';
import { ParleyClient, wsFactory } from '../src/node.js';
import type { ClientOptions, ClientStorage, WebSocketLike } from '../src/node.js';

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string | (() => string),
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/** A fresh temporary directory; `removeAll` deletes every one made so far (after clients are closed). */
export const tempDirs = {
  made: [] as string[],
  async make(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-client-'));
    this.made.push(dir);
    return dir;
  },
  async removeAll(): Promise<void> {
    await Promise.all(this.made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  },
};

/**
 * A device under test: a ParleyClient whose sockets can be destroyed from outside (as a
 * network drop would), and which records every `message` event it emits.
 */
export class Device {
  readonly client: ParleyClient;
  readonly received: Message[] = [];
  readonly #sockets = new Set<WebSocketLike>();

  constructor(baseUrl: string, options: Partial<ClientOptions> & { storage?: ClientStorage } = {}) {
    this.client = new ParleyClient({
      baseUrl,
      backoff: { initialMs: 20, maxMs: 300 },
      catchUpTimeoutMs: 200,
      onInternalError: (error) => {
        throw error;
      },
      webSocket: (url) => {
        const ws = wsFactory(url);
        this.#sockets.add(ws);
        return ws;
      },
      ...options,
    });
    this.client.on('message', (m) => this.received.push(m));
  }

  /** Kills every socket this device opened, without a closing handshake. */
  dropNetwork(): void {
    for (const ws of this.#sockets) ws.terminate?.();
    this.#sockets.clear();
  }

  idsIn(channelId: string): string[] {
    return this.received.filter((m) => m.channelId === channelId).map((m) => m.id);
  }
}

/** Asserts exactly-once, in-order delivery: returns a description of the first problem, if any. */
export function deliveryProblem(device: Device, expectedByChannel: Map<string, Set<string>>): string | undefined {
  const seen = new Map<string, number>();
  for (const m of device.received) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) return `message ${id} delivered ${n} times`;
  for (const [channelId, expected] of expectedByChannel) {
    const ids = device.idsIn(channelId);
    for (let i = 1; i < ids.length; i++) {
      if (compareIds(ids[i - 1]!, ids[i]!) >= 0) return `channel ${channelId}: ${ids[i - 1]} before ${ids[i]}`;
    }
    const missing = [...expected].filter((id) => !seen.has(id));
    if (missing.length > 0) return `channel ${channelId}: ${missing.length} missing (e.g. ${missing[0]})`;
    const extra = ids.filter((id) => !expected.has(id));
    if (extra.length > 0) return `channel ${channelId}: unexpected ${extra[0]}`;
  }
  return undefined;
}
