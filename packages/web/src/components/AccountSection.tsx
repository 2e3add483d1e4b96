import { ChatError, type Block, type Device, type Invite } from '@parley/protocol';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useI18n, type MessageKey } from '../i18n';
import { useChatStore } from '../state/context';
import { AdminDialog } from './AdminDialog';

/**
 * Your account, in Settings: password, devices, blocked people, invites, your data, deleting the
 * account, and (for administrators) the way to the admin page.
 */
export function AccountSection({ onLogout }: { onLogout(): void }) {
  const { t, i18nTime } = useAccountI18n();
  const api = useChatStore().backend.api;
  const [devices, setDevices] = useState<Device[]>([]);
  const [blocks, setBlocks] = useState<Block[]>([]);
  const [invites, setInvites] = useState<Invite[]>([]);
  const [lastInvite, setLastInvite] = useState<string | null>(null);
  const [role, setRole] = useState<'admin' | 'member'>('member');
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState<MessageKey | null>(null);

  const reload = useCallback(async () => {
    const [d, b, me] = await Promise.all([api.devices(), api.blocks(), api.account()]);
    setDevices(d);
    setBlocks(b);
    setRole(me.role);
    setInvites(await api.invites().catch(() => []));
  }, [api]);
  useEffect(() => {
    reload().catch(() => setError('common.error'));
  }, [reload]);

  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await reload();
    } catch (err) {
      setError(err instanceof ChatError && err.code === 'forbidden' ? 'account.forbidden' : 'common.error');
    }
  };

  const download = async () => {
    const text = await api.exportData();
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'parley-export.json';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <div className="stack account-section">
      <h3 className="section-label">{t('account.title')}</h3>
      <PasswordForm />

      <h4>{t('account.devices')}</h4>
      <ul className="device-list" aria-label={t('account.devices')}>
        {devices.map((d) => (
          <li key={d.id} className="device-row">
            <span>
              <strong>{d.name}</strong> {d.current && <span className="muted">({t('account.thisDevice')})</span>}
              <br />
              <small className="muted">{t('account.lastUsed', { time: i18nTime(d.lastUsedAt) })}</small>
            </span>
            {!d.current && (
              <button
                type="button"
                className="btn secondary small"
                onClick={() => void run(() => api.signOutDevice(d.id))}
              >
                {t('account.signOut')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {devices.length > 1 && (
        <button type="button" className="btn secondary" onClick={() => void run(() => api.signOutOtherDevices())}>
          {t('account.signOutOthers')}
        </button>
      )}

      <h4>{t('account.blocked')}</h4>
      {blocks.length === 0 ? (
        <p className="muted">{t('account.noBlocked')}</p>
      ) : (
        <ul className="device-list" aria-label={t('account.blocked')}>
          {blocks.map((b) => (
            <li key={b.user.id} className="device-row">
              <span>{b.user.displayName || b.user.username}</span>
              <button
                type="button"
                className="btn secondary small"
                onClick={() => void run(() => api.unblock(b.user.id))}
              >
                {t('block.unblock')}
              </button>
            </li>
          ))}
        </ul>
      )}

      <h4>{t('account.invites')}</h4>
      <button
        type="button"
        className="btn secondary"
        onClick={() =>
          void run(async () => {
            const made = await api.createInvite({});
            setLastInvite(`${window.location.origin}${made.link}`);
          })
        }
      >
        {t('account.createInvite')}
      </button>
      {lastInvite && (
        <p className="invite-link">
          <small className="muted">{t('account.inviteLink')}</small>
          <br />
          <input readOnly value={lastInvite} aria-label={t('account.inviteLink')} onFocus={(e) => e.target.select()} />
        </p>
      )}
      {invites.length > 0 && (
        <ul className="device-list" aria-label={t('account.invites')}>
          {invites.map((i) => (
            <li key={i.id} className="device-row">
              <small>
                {t('account.inviteUses', { uses: i.uses, max: i.maxUses })} ·{' '}
                {i.revoked ? t('account.inviteRevoked') : t('account.inviteExpires', { time: i18nTime(i.expiresAt) })}
              </small>
              {!i.revoked && (
                <button
                  type="button"
                  className="btn secondary small"
                  onClick={() => void run(() => api.revokeInvite(i.id))}
                >
                  {t('account.revoke')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}

      <h4>{t('account.data')}</h4>
      <button type="button" className="btn secondary" onClick={() => void run(download)}>
        {t('account.export')}
      </button>

      {role === 'admin' && (
        <button type="button" className="btn secondary" onClick={() => setAdmin(true)}>
          {t('admin.open')}
        </button>
      )}
      {admin && <AdminDialog onClose={() => setAdmin(false)} />}

      <DeleteAccount onDeleted={onLogout} />
      {error && (
        <p className="form-error" role="alert">
          {t(error)}
        </p>
      )}
    </div>
  );
}

function useAccountI18n() {
  const i18n = useI18n();
  return { t: i18n.t, i18nTime: (iso: string) => i18n.full(iso) };
}

function PasswordForm() {
  const { t } = useI18n();
  const api = useChatStore().backend.api;
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [keep, setKeep] = useState(false);
  const [state, setState] = useState<'idle' | 'busy' | 'done' | 'wrong' | 'error'>('idle');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setState('busy');
    try {
      await api.changePassword({ currentPassword: current, newPassword: next, keepOtherDevices: keep });
      setCurrent('');
      setNext('');
      setState('done');
    } catch (err) {
      setState(err instanceof ChatError && err.code === 'forbidden' ? 'wrong' : 'error');
    }
  };
  return (
    <form className="stack" onSubmit={submit} aria-label={t('account.password')}>
      <h4>{t('account.password')}</h4>
      <div className="field">
        <label htmlFor="pw-current">{t('account.currentPassword')}</label>
        <input
          id="pw-current"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="pw-new">{t('account.newPassword')}</label>
        <input
          id="pw-new"
          type="password"
          autoComplete="new-password"
          minLength={8}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </div>
      <label className="check-row">
        <input type="checkbox" checked={keep} onChange={(e) => setKeep(e.target.checked)} />
        <span>{t('account.keepDevices')}</span>
      </label>
      <div className="dialog-actions">
        <span className="muted" role="status">
          {state === 'done'
            ? t('account.passwordChanged')
            : state === 'wrong'
              ? t('account.wrongPassword')
              : state === 'error'
                ? t('common.error')
                : ''}
        </span>
        <button type="submit" className="btn primary" disabled={state === 'busy' || !current || next.length < 8}>
          {t('account.changePassword')}
        </button>
      </div>
    </form>
  );
}

function DeleteAccount({ onDeleted }: { onDeleted(): void }) {
  const { t } = useI18n();
  const api = useChatStore().backend.api;
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  if (!open) {
    return (
      <button type="button" className="btn danger" onClick={() => setOpen(true)}>
        {t('account.delete')}
      </button>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    try {
      await api.deleteAccount(password);
      onDeleted();
    } catch (err) {
      setProblem(err instanceof ChatError && err.code === 'forbidden' ? t('account.wrongPassword') : t('common.error'));
    }
  };
  return (
    <form className="stack confirm" role="alertdialog" aria-label={t('account.delete')} onSubmit={submit}>
      <p>{t('account.deleteWarning')}</p>
      <div className="field">
        <label htmlFor="delete-password">{t('auth.password')}</label>
        <input
          id="delete-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn secondary" onClick={() => setOpen(false)}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="btn danger" disabled={!password}>
          {t('account.deleteForGood')}
        </button>
      </div>
    </form>
  );
}
