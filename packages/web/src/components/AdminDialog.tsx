import type { AdminUser, ServerStats } from '@parley/protocol';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useI18n, type MessageKey } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Dialog } from './Dialog';

/** The administrators' page: figures, users (search, deactivate, roles, password, delete), new accounts. */
export function AdminDialog({ onClose }: { onClose(): void }) {
  const { t, full } = useI18n();
  const api = useChatStore().backend.api;
  const me = useChat((s) => s.me);
  const [stats, setStats] = useState<ServerStats | null>(null);
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [nextAfter, setNextAfter] = useState<string | undefined>();
  const [error, setError] = useState<MessageKey | null>(null);

  const search = useCallback(
    async (after?: string) => {
      const page = await api.adminUsers({ query, limit: 50, ...(after ? { after } : {}) });
      setUsers((prev) => (after ? [...prev, ...page.users] : page.users));
      setNextAfter(page.nextAfter);
    },
    [api, query],
  );
  useEffect(() => {
    api
      .adminStats(14)
      .then(setStats)
      .catch(() => setError('common.error'));
  }, [api]);
  useEffect(() => {
    search().catch(() => setError('common.error'));
  }, [search]);

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await search();
    } catch {
      setError('common.error');
    }
  };

  return (
    <Dialog title={t('admin.title')} onClose={onClose} className="admin-dialog">
      {stats && (
        <dl className="admin-stats" aria-label={t('admin.stats')}>
          <dt>{t('admin.users')}</dt>
          <dd data-stat="users">{stats.users}</dd>
          <dt>{t('admin.deactivated')}</dt>
          <dd>{stats.deactivatedUsers}</dd>
          <dt>{t('admin.connections')}</dt>
          <dd>{stats.connections}</dd>
          <dt>{t('admin.messagesToday')}</dt>
          <dd>{stats.messagesPerDay.at(-1)?.count ?? 0}</dd>
          <dt>{t('admin.storage')}</dt>
          <dd>{(stats.storageBytes / 1_048_576).toFixed(1)} MB</dd>
        </dl>
      )}
      <div className="field">
        <label htmlFor="admin-search">{t('admin.search')}</label>
        <input id="admin-search" value={query} onChange={(e) => setQuery(e.target.value.toLowerCase())} />
      </div>
      <ul className="device-list admin-users" aria-label={t('admin.users')}>
        {users.map((u) => (
          <li key={u.id} className="device-row" data-username={u.username}>
            <span>
              <strong>{u.displayName}</strong> <span className="muted">@{u.username}</span>
              {u.role === 'admin' && <span className="role admin"> {t('admin.roleAdmin')}</span>}
              {u.deactivatedAt && <span className="muted"> · {t('admin.isDeactivated')}</span>}
              <br />
              <small className="muted">{u.lastSeenAt ? full(u.lastSeenAt) : ''}</small>
            </span>
            {u.id !== me.id && !u.username.startsWith('deleted-') && (
              <span className="admin-actions">
                <button
                  type="button"
                  className="btn secondary small"
                  onClick={() => void act(() => api.adminUpdateUser(u.id, { deactivated: !u.deactivatedAt }))}
                >
                  {u.deactivatedAt ? t('admin.reactivate') : t('admin.deactivate')}
                </button>
                <button
                  type="button"
                  className="btn secondary small"
                  onClick={() =>
                    void act(() => api.adminUpdateUser(u.id, { role: u.role === 'admin' ? 'member' : 'admin' }))
                  }
                >
                  {u.role === 'admin' ? t('admin.makeMember') : t('admin.makeAdmin')}
                </button>
                <button
                  type="button"
                  className="btn secondary small"
                  onClick={() => {
                    const password = window.prompt(t('admin.newPasswordPrompt', { username: u.username }));
                    if (password && password.length >= 8) void act(() => api.adminResetPassword(u.id, password));
                  }}
                >
                  {t('admin.resetPassword')}
                </button>
                <button
                  type="button"
                  className="btn danger small"
                  onClick={() => {
                    if (window.confirm(t('admin.deleteConfirm', { username: u.username }))) {
                      void act(() => api.adminDeleteUser(u.id));
                    }
                  }}
                >
                  {t('admin.delete')}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {nextAfter && (
        <button type="button" className="btn secondary" onClick={() => void search(nextAfter)}>
          {t('admin.more')}
        </button>
      )}
      <CreateUser onCreated={() => void search()} />
      {error && (
        <p className="form-error" role="alert">
          {t(error)}
        </p>
      )}
    </Dialog>
  );
}

function CreateUser({ onCreated }: { onCreated(): void }) {
  const { t } = useI18n();
  const api = useChatStore().backend.api;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [state, setState] = useState<'idle' | 'done' | 'error'>('idle');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.adminCreateUser({ username: username.trim().toLowerCase(), password });
      setUsername('');
      setPassword('');
      setState('done');
      onCreated();
    } catch {
      setState('error');
    }
  };
  return (
    <form className="stack" onSubmit={submit} aria-label={t('admin.createUser')}>
      <h4>{t('admin.createUser')}</h4>
      <div className="field">
        <label htmlFor="admin-new-username">{t('auth.username')}</label>
        <input id="admin-new-username" value={username} onChange={(e) => setUsername(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="admin-new-password">{t('auth.password')}</label>
        <input
          id="admin-new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <div className="dialog-actions">
        <span className="muted" role="status">
          {state === 'done' ? t('admin.created') : state === 'error' ? t('common.error') : ''}
        </span>
        <button type="submit" className="btn primary" disabled={username.length < 3 || password.length < 8}>
          {t('admin.create')}
        </button>
      </div>
    </form>
  );
}
