/**
 * Whom this user blocked: loaded once from GET /v1/me/blocks, then kept current by the
 * `user.blocked` / `user.unblocked` events (which also reach this user's other devices). Kept
 * beside the chat state rather than in it: only message rows and the block button read it.
 */
import { useSyncExternalStore } from 'react';
import type { Backend } from './backend';

class BlockList {
  ids: ReadonlySet<string> = new Set();
  readonly #listeners = new Set<() => void>();

  constructor(backend: Backend) {
    backend.on('event', (event) => {
      if (event.type === 'user.blocked' || event.type === 'user.unblocked') {
        this.set(event.userId, event.type === 'user.blocked');
      }
    });
    backend.api
      .blocks()
      .then((blocks) => {
        this.ids = new Set([...this.ids, ...blocks.map((b) => b.user.id)]);
        this.#emit();
      })
      .catch(() => undefined);
  }

  set(userId: string, blocked: boolean): void {
    if (this.ids.has(userId) === blocked) return;
    const next = new Set(this.ids);
    if (blocked) next.add(userId);
    else next.delete(userId);
    this.ids = next;
    this.#emit();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

const lists = new WeakMap<Backend, BlockList>();

export function blockList(backend: Backend): BlockList {
  let list = lists.get(backend);
  if (list === undefined) {
    list = new BlockList(backend);
    lists.set(backend, list);
  }
  return list;
}

/** The ids this user blocked (re-renders when it changes). */
export function useBlocked(backend: Backend): ReadonlySet<string> {
  const list = blockList(backend);
  return useSyncExternalStore(list.subscribe, () => list.ids);
}
