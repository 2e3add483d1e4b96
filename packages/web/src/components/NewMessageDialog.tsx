import type { User } from '@parley/protocol';
import { useState } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Dialog } from './Dialog';
import { UserPicker } from './UserPicker';

/** Start a DM: pick a friend or search everyone. */
export function NewMessageDialog({ onClose, onOpen }: { onClose(): void; onOpen(channelId: string): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const friendIds = useChat((s) => s.friends);
  const users = useChat((s) => s.users);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState(false);
  const friends = friendIds.map((id) => users[id]).filter((u): u is User => !!u);

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
      <UserPicker
        label={t('dm.search')}
        mode={{ kind: 'open', onPick: (u) => void start(u), busyId: busy }}
        suggestions={friends}
        headings={[t('dm.friends'), t('dm.results')]}
        autoFocus
      />
      {error && (
        <p className="form-error" role="alert">
          {t('common.error')}
        </p>
      )}
    </Dialog>
  );
}
