import { limits } from '@parley/protocol';
import { useEffect, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { PushPreviewsToggle } from './PushPreviewsToggle';
import { PushUnavailable, disablePush, enablePush, pushState, type PushState } from '../push';
import { applyTheme, readTheme, type Theme } from '../theme';
import { AccountSection } from './AccountSection';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';
import { LanguagePicker } from './LanguagePicker';

interface InstallPrompt extends Event {
  prompt(): Promise<void>;
}
let deferredInstall: InstallPrompt | null = null;
if (typeof window !== 'undefined') {
  window.addEventListener('beforeinstallprompt', (e) => {
    e.preventDefault();
    deferredInstall = e as InstallPrompt;
  });
}

export function SettingsDialog({ onClose, onLogout }: { onClose(): void; onLogout(): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const me = useChat((s) => s.me);
  const [displayName, setDisplayName] = useState(me.displayName);
  const [statusText, setStatusText] = useState(me.statusText ?? '');
  const [state, setState] = useState<'idle' | 'saving' | 'saved' | 'error'>('idle');
  const [theme, setTheme] = useState<Theme>(readTheme);
  useEffect(() => applyTheme(theme), [theme]);
  const [push, setPush] = useState<PushState>('unsupported');
  const [pushBusy, setPushBusy] = useState(false);
  const [pushProblem, setPushProblem] = useState<PushUnavailable['reason'] | null>(null);
  useEffect(() => {
    let live = true;
    pushState(store.backend.api)
      .then((s) => live && setPush(s))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [store]);
  const togglePush = async (on: boolean) => {
    setPushBusy(true);
    setPushProblem(null);
    try {
      if (on) setPush(await enablePush(store.backend.api));
      else {
        await disablePush(store.backend.api);
        setPush('off');
      }
    } catch (error) {
      // Say why the switch is still off; anything unexpected is reported like the server's refusal.
      if (on) setPushProblem(error instanceof PushUnavailable ? error.reason : 'server');
      setPush(await pushState(store.backend.api).catch(() => 'off' as const));
    } finally {
      setPushBusy(false);
    }
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setState('saving');
    try {
      await store.updateProfile({ displayName: displayName.trim() || me.username, statusText: statusText.trim() });
      setState('saved');
    } catch {
      setState('error');
    }
  };

  return (
    <Dialog title={t('settings.title')} onClose={onClose}>
      <form className="stack" onSubmit={save}>
        <h3 className="section-label">{t('settings.profile')}</h3>
        <div className="profile-preview">
          <Avatar id={me.id} name={displayName || me.username} size={56} />
          <div>
            <div className="person-name">{displayName || me.username}</div>
            <div className="muted">{t('settings.signedInAs', { username: me.username })}</div>
          </div>
        </div>
        <div className="field">
          <label htmlFor="set-display">{t('settings.displayName')}</label>
          <input
            id="set-display"
            value={displayName}
            maxLength={limits.maxDisplayNameLength}
            onChange={(e) => {
              setDisplayName(e.target.value);
              setState('idle');
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="set-status">{t('settings.statusText')}</label>
          <input
            id="set-status"
            value={statusText}
            placeholder={t('settings.statusPlaceholder')}
            maxLength={limits.maxStatusTextLength}
            onChange={(e) => {
              setStatusText(e.target.value);
              setState('idle');
            }}
          />
        </div>
        <div className="dialog-actions">
          <span className="muted" role="status">
            {state === 'saved' ? t('settings.saved') : state === 'error' ? t('common.error') : ''}
          </span>
          <button type="submit" className="btn primary" disabled={state === 'saving'}>
            {t('settings.save')}
          </button>
        </div>
      </form>
      <hr />
      <div className="stack">
        <LanguagePicker />
        <div className="field">
          <label htmlFor="set-theme">{t('settings.theme')}</label>
          <select id="set-theme" value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
            <option value="auto">{t('settings.theme.auto')}</option>
            <option value="light">{t('settings.theme.light')}</option>
            <option value="dark">{t('settings.theme.dark')}</option>
          </select>
        </div>
        {push !== 'unsupported' && (
          <div className="field">
            <label className="check-row">
              <input
                type="checkbox"
                checked={push === 'on'}
                disabled={pushBusy || push === 'blocked'}
                onChange={(e) => void togglePush(e.target.checked)}
              />
              <span>{t('settings.notifications')}</span>
            </label>
            {pushProblem ? (
              <small className="form-error" role="alert">
                {t(
                  pushProblem === 'dismissed'
                    ? 'settings.pushDismissed'
                    : pushProblem === 'service'
                      ? 'settings.pushService'
                      : 'settings.pushServer',
                )}
              </small>
            ) : (
              <small className="muted">
                {push === 'blocked' ? t('settings.notificationsBlocked') : t('settings.notificationsHint')}
              </small>
            )}
            {push === 'on' && <PushPreviewsToggle />}
          </div>
        )}
        {deferredInstall && (
          <button type="button" className="btn secondary" onClick={() => void deferredInstall?.prompt()}>
            {t('common.install')}
          </button>
        )}
      </div>
      <hr />
      <AccountSection onLogout={onLogout} />
    </Dialog>
  );
}
