import { ChatError, type SignupMode } from '@parley/protocol';
import { useState, type FormEvent } from 'react';
import { useI18n, type MessageKey } from '../i18n';
import { LanguagePicker } from './LanguagePicker';

/** Log in and sign up share one form: both buttons submit, each with its own action. */
export function AuthScreen({
  onSubmit,
  invite,
  signupMode,
}: {
  onSubmit(mode: 'login' | 'signup', username: string, password: string, inviteCode?: string): Promise<void>;
  /** From an invite link (`#/invite/<code>`). */
  invite?: string | undefined;
  /** The server's sign-up mode, once known. */
  signupMode?: SignupMode | undefined;
}) {
  const { t } = useI18n();
  const [inviteCode, setInviteCode] = useState(invite ?? '');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState<'login' | 'signup' | null>(null);
  const [error, setError] = useState<MessageKey | null>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (busy) return;
    const submitter = (e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const mode = submitter?.value === 'signup' ? 'signup' : 'login';
    setBusy(mode);
    setError(null);
    try {
      await onSubmit(mode, username.trim().toLowerCase(), password, inviteCode.trim() || undefined);
    } catch (err) {
      setError(errorKey(err));
      setBusy(null);
    }
  };

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="auth-brand">
          <div className="brand-mark" aria-hidden="true" />
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <h1>{t('auth.title')}</h1>
        <p className="muted">{t('auth.subtitle')}</p>
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor="auth-username">{t('auth.username')}</label>
            <input
              id="auth-username"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              autoCorrect="off"
              spellCheck={false}
              required
              minLength={3}
              maxLength={32}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              aria-describedby="username-hint"
            />
            <small id="username-hint" className="muted">
              {t('auth.usernameHint')}
            </small>
          </div>
          <div className="field">
            <label htmlFor="auth-password">{t('auth.password')}</label>
            <input
              id="auth-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              minLength={8}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-describedby="password-hint"
            />
            <small id="password-hint" className="muted">
              {t('auth.passwordHint')}
            </small>
          </div>
          {(invite !== undefined || signupMode === 'invite') && (
            <div className="field">
              <label htmlFor="auth-invite">{t('auth.inviteCode')}</label>
              <input
                id="auth-invite"
                name="invite"
                autoCapitalize="none"
                autoCorrect="off"
                spellCheck={false}
                value={inviteCode}
                onChange={(e) => setInviteCode(e.target.value)}
                aria-describedby="invite-hint"
              />
              <small id="invite-hint" className="muted">
                {invite !== undefined ? t('auth.invitedHint') : t('auth.inviteHint')}
              </small>
            </div>
          )}
          {signupMode === 'closed' && invite === undefined && <p className="muted">{t('auth.closedHint')}</p>}
          {error && (
            <p className="form-error" role="alert">
              {t(error)}
            </p>
          )}
          <button className="btn primary wide" type="submit" value="login" disabled={!!busy}>
            {busy === 'login' ? <span className="spinner" aria-hidden="true" /> : null}
            {t('auth.login')}
          </button>
          <div className="auth-divider">
            <span>{t('auth.or')}</span>
          </div>
          <button className="btn secondary wide" type="submit" value="signup" disabled={!!busy}>
            {busy === 'signup' ? <span className="spinner" aria-hidden="true" /> : null}
            {t('auth.signup')}
          </button>
        </form>
      </div>
      <footer className="auth-footer">
        <span className="muted">{t('app.tagline')}</span>
        <LanguagePicker compact />
      </footer>
    </main>
  );
}

function errorKey(err: unknown): MessageKey {
  if (err instanceof ChatError) {
    switch (err.code) {
      case 'unauthorized':
        return 'auth.error.unauthorized';
      case 'conflict':
        return 'auth.error.conflict';
      case 'forbidden':
        return 'auth.error.forbidden';
      case 'invalid_request':
        return 'auth.error.invalid_request';
      case 'rate_limited':
        return 'auth.error.rate_limited';
      case 'unavailable':
        return 'auth.error.network';
    }
  }
  return 'auth.error.other';
}
