import type { User } from '@parley/protocol';
import { useState } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';
import { useUserSearch } from './useUserSearch';

/** Start a DM: pick a friend or search everyone. */
export function NewMessageDialog({ onClose, onOpen }: { onClose(): void; onOpen(channelId: string): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const friendIds = useChat((s) => s.friends);
  const users = useChat((s) => s.users);
  const presence = useChat((s) => s.presence);
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState(false);
  const { results, loading } = useUserSearch(query);
  const friends = friendIds.map((id) => users[id]).filter((u): u is User => !!u);
  const list = query.trim() ? results : friends;

  const start = async (user: User) => {
    setBusy(user.id);
    setError(false);
    try {
      onOpen(await store.openDm(user.id));
    } catch {
      setError(true);
      setBusy(null);
    }
  };

  return (
    <Dialog title={t('dm.title')} onClose={onClose}>
      <input
        type="text"
        enterKeyHint="search"
        autoComplete="off"
        className="search-input"
        aria-label={t('dm.search')}
        placeholder={t('dm.searchHint')}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        autoFocus
      />
      <h3 className="section-label">{query.trim() ? t('dm.results') : t('dm.friends')}</h3>
      <div className="pick-list">
        {list.map((u) => (
          <button key={u.id} type="button" className="person pick" onClick={() => void start(u)} disabled={!!busy}>
            <Avatar id={u.id} name={u.displayName || u.username} size={36} presence={presence[u.id]?.status} />
            <span className="person-text">
              <span className="person-name">{u.displayName || u.username}</span>
              {u.displayName !== u.username && <span className="person-sub muted">@{u.username}</span>}
            </span>
            {busy === u.id && <span className="spinner" aria-hidden="true" />}
          </button>
        ))}
        {query.trim() && !loading && list.length === 0 && <p className="muted empty-note">{t('dm.noResults')}</p>}
        {!query.trim() && list.length === 0 && <p className="muted empty-note">{t('dm.searchHint')}</p>}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {t('common.error')}
        </p>
      )}
    </Dialog>
  );
}
