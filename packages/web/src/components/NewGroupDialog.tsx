import { ChatError, limits } from '@parley/protocol';
import type { User } from '@parley/protocol';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';
import { Icon } from './Icon';
import { UserPicker } from './UserPicker';

export function NewGroupDialog({ onClose, onOpen }: { onClose(): void; onOpen(channelId: string): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const friendIds = useChat((s) => s.friends);
  const users = useChat((s) => s.users);
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const friends = friendIds.map((id) => users[id]).filter((u): u is User => !!u);
  const toggle = (u: User) =>
    setPicked((cur) => (cur.some((p) => p.id === u.id) ? cur.filter((p) => p.id !== u.id) : [...cur, u]));
  const full = picked.length + 1 >= limits.maxGroupMembers;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      onOpen(
        await store.createGroup(
          name.trim(),
          picked.map((p) => p.id),
        ),
      );
    } catch (err) {
      setError(
        err instanceof ChatError && err.code === 'group_full'
          ? t('group.full', { max: limits.maxGroupMembers })
          : t('common.error'),
      );
      setBusy(false);
    }
  };

  return (
    <Dialog title={t('group.title')} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor="group-name">{t('group.name')}</label>
          <input
            id="group-name"
            value={name}
            maxLength={limits.maxGroupNameLength}
            onChange={(e) => setName(e.target.value)}
            autoFocus
            required
          />
        </div>
        {picked.length > 0 && (
          <div className="chips" aria-live="polite">
            <span className="sr-only">{t('group.selected', { count: picked.length })}</span>
            {picked.map((u) => (
              <span key={u.id} className="chip">
                <Avatar id={u.id} name={u.displayName} size={22} />
                {u.displayName || u.username}
                <button type="button" aria-label={t('group.remove', { name: u.displayName })} onClick={() => toggle(u)}>
                  <Icon name="close" size={12} />
                </button>
              </span>
            ))}
          </div>
        )}
        <UserPicker
          label={t('group.addPeople')}
          mode={{ kind: 'select', selected: picked, onToggle: toggle, full }}
          suggestions={friends}
        />
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <span className="muted">{t('group.selected', { count: picked.length })}</span>
          <button type="submit" className="btn primary" disabled={!name.trim() || busy}>
            {t('group.create')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
