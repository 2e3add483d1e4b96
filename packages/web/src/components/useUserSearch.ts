import type { User } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { useChatStore } from '../state/context';

/** Debounced user search; empty query -> no results. */
export function useUserSearch(query: string): { results: User[]; loading: boolean } {
  const store = useChatStore();
  const [state, setState] = useState<{ q: string; results: User[] }>({ q: '', results: [] });
  const q = query.trim();
  useEffect(() => {
    if (!q) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      store
        .searchUsers(q)
        .then((results) => !cancelled && setState({ q, results }))
        .catch(() => !cancelled && setState({ q, results: [] }));
    }, 200);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [q, store]);
  if (!q) return { results: [], loading: false };
  return { results: state.q === q ? state.results : state.results, loading: state.q !== q };
}
