import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { navigate, useRoute } from '../route';
import { useChat, useChatStore } from '../state/context';
import { ChatView } from './ChatView';
import { ConnectionBanner } from './ConnectionBanner';
import { DetailsPanel } from './DetailsPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { FriendsDialog } from './FriendsDialog';
import { Icon } from './Icon';
import { NewGroupDialog } from './NewGroupDialog';
import { NewMessageDialog } from './NewMessageDialog';
import { SearchDialog } from './SearchDialog';
import { SettingsDialog } from './SettingsDialog';
import { Sidebar } from './Sidebar';

export type DialogKind = 'dm' | 'group' | 'friends' | 'settings' | 'search';

export function ChatApp({ onLogout }: { onLogout(): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const route = useRoute();
  const [dialog, setDialog] = useState<DialogKind | null>(null);
  const [details, setDetails] = useState(false);
  const channels = useChat((s) => s.channels);
  const channelsLoaded = useChat((s) => s.channelsLoaded);
  const channel = route.channelId ? channels[route.channelId] : undefined;

  // The tab title counts unread messages across channels.
  let unread = 0;
  for (const c of Object.values(channels)) unread += c.unreadCount;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${t('app.name')}` : t('app.name');
  }, [unread, t]);

  useEffect(() => {
    if (!route.channelId) store.setActive(undefined);
  }, [route.channelId, store]);

  // A channel we lost (left, removed) closes its view.
  useEffect(() => {
    if (route.channelId && channelsLoaded && !channel) {
      const id = route.channelId;
      const timer = setTimeout(() => {
        if (!store.state.channels[id]) navigate('', true);
      }, 1500);
      return () => clearTimeout(timer);
    }
    return undefined;
  }, [route.channelId, channelsLoaded, channel, store]);

  const openChannel = (id: string) => {
    setDialog(null);
    navigate(`#/c/${encodeURIComponent(id)}`);
  };

  return (
    <div className="app" data-view={route.channelId ? 'chat' : 'list'} data-details={details && !!channel}>
      <ConnectionBanner />
      <ErrorBoundary area="conversation list">
        <Sidebar activeId={route.channelId} onDialog={setDialog} onLogout={onLogout} />
      </ErrorBoundary>
      <main className="main">
        {route.channelId && channel ? (
          <ErrorBoundary area="conversation" key={route.channelId}>
            <ChatView
              channel={channel}
              jumpTo={route.messageId}
              detailsOpen={details}
              onToggleDetails={() => setDetails((d) => !d)}
            />
          </ErrorBoundary>
        ) : route.channelId && !channelsLoaded ? (
          <div className="empty-main" role="status">
            <span className="spinner" aria-hidden="true" /> {t('chat.loading')}
          </div>
        ) : (
          <div className="empty-main">
            <div className="empty-illustration" aria-hidden="true">
              <Icon name="chat" size={40} />
            </div>
            <h2>{route.channelId ? t('chat.notFound') : t('chat.select')}</h2>
            <p className="muted">{t('chat.selectHint')}</p>
          </div>
        )}
      </main>
      {details && channel && (
        <ErrorBoundary area="group details">
          <DetailsPanel channel={channel} onClose={() => setDetails(false)} />
        </ErrorBoundary>
      )}
      <ErrorBoundary area="dialog" key={dialog ?? ''}>
        {dialog === 'dm' && <NewMessageDialog onClose={() => setDialog(null)} onOpen={openChannel} />}
        {dialog === 'group' && <NewGroupDialog onClose={() => setDialog(null)} onOpen={openChannel} />}
        {dialog === 'friends' && <FriendsDialog onClose={() => setDialog(null)} onOpen={openChannel} />}
        {dialog === 'settings' && <SettingsDialog onClose={() => setDialog(null)} onLogout={onLogout} />}
        {dialog === 'search' && <SearchDialog channelId={channel?.id} onClose={() => setDialog(null)} />}
      </ErrorBoundary>
    </div>
  );
}
