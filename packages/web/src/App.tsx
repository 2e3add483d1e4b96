import { ChatError } from '@parley/protocol';
import { ParleyClient, WebStorage } from '@parley/client';
import type { SignupMode, User } from '@parley/protocol';
import { useCallback, useEffect, useState } from 'react';
import { AuthScreen } from './components/AuthScreen';
import { ChatApp } from './components/ChatApp';
import { ErrorBoundary } from './components/ErrorBoundary';
import { useI18n } from './i18n';
import { disablePush } from './push';
import { StoreContext } from './state/context';
import { sdkBackend } from './state/sdk-backend';
import { ChatStore } from './state/store';

type Phase = { kind: 'loading' } | { kind: 'signedOut' } | { kind: 'signedIn'; store: ChatStore };

function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Chrome\//.test(ua)
      ? 'Chrome'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

const client = new ParleyClient({
  baseUrl: window.location.origin,
  storage: new WebStorage({ prefix: 'parley:' }),
  deviceName: deviceName(),
});

/** Drafts are per user; a shared computer should not show them to the next person. */
function forgetDrafts(userId: string): void {
  try {
    const prefix = `parley.draft.${userId}.`;
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key?.startsWith(prefix)) localStorage.removeItem(key);
    }
  } catch {
    // no storage
  }
}

/** The code of an invite link's hash (`#/invite/<code>`). */
function inviteFromHash(hash: string): string | undefined {
  const m = /^#\/invite\/([^/?#]+)/.exec(hash);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

function startStore(user: User): ChatStore {
  const store = new ChatStore(sdkBackend(client, user.id), user);
  store.start();
  return store;
}

export function App() {
  const { t } = useI18n();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const session = await client.resume().catch(() => undefined);
      if (!session) return setPhase({ kind: 'signedOut' });
      let user = session.user;
      if (!user) {
        try {
          user = await client.api.me();
        } catch (error) {
          if (error instanceof ChatError && error.code === 'unauthorized') {
            await client.logout().catch(() => undefined);
            return setPhase({ kind: 'signedOut' });
          }
          // Offline at startup: carry on with what we know; the profile fills in later.
          user = { id: session.userId, username: '', displayName: '' };
        }
      }
      if (!cancelled) setPhase({ kind: 'signedIn', store: startStore(user) });
    })();
    return () => {
      cancelled = true;
    };
  }, []);

  const store = phase.kind === 'signedIn' ? phase.store : undefined;
  useEffect(() => {
    if (!store) return;
    // Refresh the profile in the background (the saved copy may be stale).
    store.backend.api
      .me()
      .then((me) => store.updateLocalMe(me))
      .catch(() => undefined);
    return store.backend.on('unauthorized', () => {
      void store.close({ logout: true }).finally(() => setPhase({ kind: 'signedOut' }));
    });
  }, [store]);

  // An invite link (`#/invite/<code>`) opens sign-up with its code filled in.
  const [invite] = useState(() => inviteFromHash(window.location.hash));
  const [signupMode, setSignupMode] = useState<SignupMode | undefined>();
  useEffect(() => {
    if (phase.kind !== 'signedOut') return;
    client.api
      .authConfig()
      .then((config) => setSignupMode(config.signup))
      .catch(() => undefined);
  }, [phase.kind]);

  const onAuth = useCallback(
    async (mode: 'login' | 'signup', username: string, password: string, inviteCode?: string) => {
      const result =
        mode === 'signup'
          ? await client.signup({ username, password, ...(inviteCode ? { inviteCode } : {}) })
          : await client.login({ username, password });
      if (inviteFromHash(window.location.hash) !== undefined) window.location.hash = '';
      setPhase({ kind: 'signedIn', store: startStore(result.user) });
    },
    [],
  );

  const onLogout = useCallback(async () => {
    if (phase.kind !== 'signedIn') return;
    const userId = phase.store.state.me.id;
    // The server drops this device's push subscriptions at logout; drop the browser's too.
    await disablePush(undefined).catch(() => undefined);
    await phase.store.close({ logout: true }).catch(() => undefined);
    forgetDrafts(userId);
    window.location.hash = '';
    setPhase({ kind: 'signedOut' });
  }, [phase]);

  if (phase.kind === 'loading') {
    return (
      <div className="splash" role="status">
        <div className="brand-mark" aria-hidden="true" />
        <span className="sr-only">{t('chat.loading')}</span>
      </div>
    );
  }
  if (phase.kind === 'signedOut') return <AuthScreen onSubmit={onAuth} invite={invite} signupMode={signupMode} />;
  return (
    <StoreContext.Provider value={phase.store}>
      <ErrorBoundary area="app">
        <ChatApp onLogout={onLogout} />
      </ErrorBoundary>
    </StoreContext.Provider>
  );
}
