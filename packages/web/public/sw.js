/* Parley service worker: the app shell works offline; the API and WebSocket always go to the network. */
const CACHE = 'parley-shell-v2';
const SHELL = ['/', '/index.html', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .catch(() => undefined)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/') || url.pathname === '/healthz') return;

  // Navigations: network first (fresh HTML after a deploy), the cached shell when offline.
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req)
        .then((res) => {
          const copy = res.clone();
          if (res.ok) caches.open(CACHE).then((c) => c.put('/index.html', copy));
          return res;
        })
        .catch(() => caches.match('/index.html').then((r) => r || Response.error())),
    );
    return;
  }

  // Hashed build assets never change: cache first, fill on first use.
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/')) {
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});

// Web Push: one notification per conversation (`tag`: a later one replaces it, and alerts again),
// titled with who wrote and where; a click opens that conversation, in a window of the app if one
// is open. Payload: {title, body, channelId, channelName, messageId, count, tag} (docs/protocol.md).
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const title = data.title || data.channelName || 'Parley';
  const tag = data.tag || data.channelId || undefined;
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || '',
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      tag,
      renotify: Boolean(tag),
      timestamp: Date.now(),
      data: { url: data.channelId ? `/#/c/${encodeURIComponent(data.channelId)}` : '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(async (wins) => {
      const ours = wins.filter((w) => new URL(w.url).origin === self.location.origin);
      // The window already on the app (the focused one first): show the conversation there.
      const win = ours.find((w) => w.focused) || ours[0];
      if (win) {
        const focused = await win.focus().catch(() => win);
        if (new URL(win.url).hash !== new URL(target).hash) {
          // navigate() works on controlled windows; the app also follows the hash it is told.
          await (focused.navigate ? focused.navigate(target) : Promise.reject()).catch(() =>
            focused.postMessage({ type: 'open', url: target }),
          );
        }
        return undefined;
      }
      return self.clients.openWindow(target);
    }),
  );
});
