import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { I18nProvider } from './i18n';
import { applyTheme, readTheme } from './theme';
import './styles.css';

applyTheme(readTheme());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <App />
    </I18nProvider>
  </StrictMode>,
);

// The service worker makes the app installable and start offline; skipped in dev.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => undefined);
  });
  // A notification clicked while this window could not be navigated by the worker: open its conversation.
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<{ type?: string; url?: string }>) => {
    if (event.data?.type !== 'open' || typeof event.data.url !== 'string') return;
    const url = new URL(event.data.url, window.location.origin);
    if (url.origin === window.location.origin) window.location.hash = url.hash;
  });
}
