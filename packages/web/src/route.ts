import { useEffect, useState } from 'react';

/** Hash routes: `#/c/<channelId>` and `#/c/<channelId>/m/<messageId>` (a permalink). */
export interface Route {
  channelId?: string;
  messageId?: string;
}

export function parseHash(hash: string): Route {
  const m = /^#\/c\/([^/]+)(?:\/m\/([^/]+))?/.exec(hash);
  if (!m) return {};
  const route: Route = { channelId: decodeURIComponent(m[1]!) };
  if (m[2]) route.messageId = decodeURIComponent(m[2]);
  return route;
}

export function channelHref(channelId: string, messageId?: string): string {
  const base = `#/c/${encodeURIComponent(channelId)}`;
  return messageId ? `${base}/m/${encodeURIComponent(messageId)}` : base;
}

export function navigate(href: string, replace = false): void {
  if (replace) {
    history.replaceState(null, '', href || window.location.pathname);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = href;
  }
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseRouteMemo(hash);
}

let lastHash = '';
let lastRoute: Route = {};
function parseRouteMemo(hash: string): Route {
  if (hash !== lastHash) {
    lastHash = hash;
    lastRoute = parseHash(hash);
  }
  return lastRoute;
}
