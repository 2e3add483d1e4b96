import type { User } from '@parley/protocol';
import { useState } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Dialog } from './Dialog';
import { IconButton } from './IconButton';
import { PersonRow } from './PersonRow';
import { UserPicker } from './UserPicker';

type Tab = 'all' | 'requests' | 'add';

export function FriendsDialog({ onClose, onOpen }: { onClose(): void; onOpen(channelId: string): void }) {
  const { t } = useI18n();
  const incoming = useChat((s) => s.incoming);
  const [tab, setTab] = useState<Tab>(() => (incoming.length ? 'requests' : 'all'));
  const tabs: [Tab, string][] = [
    ['all', t('friends.tab.all')],
    ['requests', t('friends.tab.requests')],
    ['add', t('friends.tab.add')],
  ];
  return (
    <Dialog title={t('friends.title')} onClose={onClose} className="tall">
      <div className="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            className={tab === id ? 'active' : ''}
            onClick={() => setTab(id)}
          >
            {label}
            {id === 'requests' && incoming.length > 0 && <span className="badge small">{incoming.length}</span>}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === 'all' && <FriendList onOpen={onOpen} />}
        {tab === 'requests' && <Requests />}
        {tab === 'add' && <AddFriend />}
      </div>
    </Dialog>
  );
}

function FriendList({ onOpen }: { onOpen(channelId: string): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const ids = useChat((s) => s.friends);
  const users = useChat((s) => s.users);
  const presence = useChat((s) => s.presence);
  const friends = ids
    .map((id) => users[id])
    .filter((u): u is User => !!u)
    .sort((a, b) => {
      const oa = presence[a.id]?.status === 'online' ? 0 : 1;
      const ob = presence[b.id]?.status === 'online' ? 0 : 1;
      return oa - ob || a.displayName.localeCompare(b.displayName);
    });
  if (friends.length === 0) return <p className="muted empty-note">{t('friends.empty')}</p>;
  return (
    <div className="pick-list">
      {friends.map((u) => (
        <PersonRow key={u.id} user={u} sub={u.statusText || undefined}>
          <IconButton
            icon="chat"
            label={t('dm.start', { name: u.displayName })}
            onClick={() => void store.openDm(u.id).then(onOpen)}
          />
          <IconButton
            icon="trash"
            label={`${t('friends.remove')}: ${u.displayName}`}
            onClick={() => void store.removeFriend(u.id)}
          />
        </PersonRow>
      ))}
    </div>
  );
}

function Requests() {
  const { t } = useI18n();
  const store = useChatStore();
  const incoming = useChat((s) => s.incoming);
  const outgoing = useChat((s) => s.outgoing);
  if (incoming.length === 0 && outgoing.length === 0)
    return <p className="muted empty-note">{t('friends.noRequests')}</p>;
  return (
    <>
      {incoming.length > 0 && <h3 className="section-label">{t('friends.incoming')}</h3>}
      <div className="pick-list">
        {incoming.map((r) => (
          <PersonRow key={r.id} user={r.fromUser}>
            <button type="button" className="btn primary small" onClick={() => void store.acceptFriendRequest(r.id)}>
              {t('friends.accept')}
            </button>
            <button type="button" className="btn secondary small" onClick={() => void store.dropFriendRequest(r.id)}>
              {t('friends.decline')}
            </button>
          </PersonRow>
        ))}
      </div>
      {outgoing.length > 0 && <h3 className="section-label">{t('friends.outgoing')}</h3>}
      <div className="pick-list">
        {outgoing.map((r) => (
          <PersonRow key={r.id} user={r.toUser}>
            <button type="button" className="btn secondary small" onClick={() => void store.dropFriendRequest(r.id)}>
              {t('friends.cancel')}
            </button>
          </PersonRow>
        ))}
      </div>
    </>
  );
}

function AddFriend() {
  const { t } = useI18n();
  const store = useChatStore();
  const friends = useChat((s) => s.friends);
  const outgoing = useChat((s) => s.outgoing);
  const [sent, setSent] = useState<Set<string>>(new Set());
  return (
    <UserPicker
      label={t('dm.search')}
      autoFocus
      mode={{
        kind: 'action',
        action: (u) =>
          friends.includes(u.id) ? (
            <span className="tag">{t('friends.isFriend')}</span>
          ) : sent.has(u.id) || outgoing.some((r) => r.toUserId === u.id) ? (
            <span className="tag">{t('friends.added')}</span>
          ) : (
            <button
              type="button"
              className="btn primary small"
              aria-label={`${t('friends.add')}: ${u.displayName || u.username}`}
              onClick={() => void store.sendFriendRequest(u.id).then(() => setSent((s) => new Set(s).add(u.id)))}
            >
              {t('friends.add')}
            </button>
          ),
      }}
    />
  );
}
