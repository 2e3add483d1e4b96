import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ChatStore, State } from './store';

export const StoreContext = createContext<ChatStore | null>(null);

export function useChatStore(): ChatStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useChatStore outside StoreContext');
  return store;
}

/** A slice of the state; `select` must return a value already in the state (or a primitive). */
export function useChat<T>(select: (s: State) => T): T {
  const store = useChatStore();
  return useSyncExternalStore(store.subscribe, () => select(store.state));
}
