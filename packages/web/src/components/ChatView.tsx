import type { Channel } from '@parley/protocol';
import { useEffect, useMemo, useState } from 'react';
import { useI18n } from '../i18n';
import { navigate } from '../route';
import { useChat, useChatStore } from '../state/context';
import { channelTitle, dmPeer } from '../state/store';
import { Avatar } from './Avatar';
import { BlockToggle } from './BlockButton';
import { Composer } from './Composer';
import { ErrorBoundary } from './ErrorBoundary';
import { IconButton } from './IconButton';
import { MessageActionsContext, type ComposerMode } from './message-actions';
import { MuteButton } from './MuteButton';
import { MessageList } from './MessageList';

export function ChatView({
  channel,
  jumpTo,
  detailsOpen,
  onToggleDetails,
}: {
  channel: Channel;
  jumpTo?: string;
  detailsOpen: boolean;
  onToggleDetails(): void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const store = useChatStore();
  const me = useChat((s) => s.me);
  const users = useChat((s) => s.users);
  const presence = useChat((s) => s.presence);
  const typing = useChat((s) => s.typing[channel.id]);
  const title = channelTitle(channel, me.id);
  const peer = dmPeer(channel, me.id);

  useEffect(() => {
    void store.openChannel(channel.id);
  }, [store, channel.id]);
  // Replying or editing: per channel, forgotten when switching.
  const [mode, setMode] = useState<ComposerMode & { channelId?: string }>({});
  const actions = useMemo(
    () => ({
      mode: mode.channelId === channel.id ? mode : {},
      setMode: (next: ComposerMode) => setMode({ ...next, channelId: channel.id }),
    }),
    [mode, channel.id],
  );

  const typers = typing ? Object.keys(typing).filter((id) => id !== me.id) : [];
  const name = (id: string) => users[id]?.displayName || users[id]?.username || '?';
  let subtitle: string;
  let live = false;
  if (typers.length === 1) {
    subtitle = t('chat.typing.one', { name: name(typers[0]!) });
    live = true;
  } else if (typers.length === 2) {
    subtitle = t('chat.typing.two', { a: name(typers[0]!), b: name(typers[1]!) });
    live = true;
  } else if (typers.length > 2) {
    subtitle = t('chat.typing.many');
    live = true;
  } else if (peer) {
    const p = presence[peer.id];
    const status = users[peer.id]?.statusText;
    subtitle =
      (p?.status === 'online'
        ? t('chat.online')
        : p?.lastSeenAt
          ? t('chat.lastSeen', { time: i18n.relative(p.lastSeenAt) })
          : t('chat.offline')) + (status ? ` · ${status}` : '');
  } else {
    const online = channel.members.filter((m) => presence[m.id]?.status === 'online').length;
    subtitle = `${t('chat.members', { count: channel.members.length })}${online ? ` · ${online} ${t('chat.online').toLowerCase()}` : ''}`;
  }

  return (
    <section className="chat" aria-label={title}>
      <header className="chat-head">
        <IconButton icon="back" label={t('nav.back')} className="back-btn" onClick={() => navigate('')} />
        <div className="chat-ident">
          <Avatar
            id={peer?.id ?? channel.id}
            name={title}
            size={38}
            presence={peer ? (presence[peer.id]?.status ?? 'offline') : undefined}
            group={channel.kind === 'group'}
          />
          <span className="chat-title">
            <h2>{title}</h2>
            <span className={`subtitle${live ? ' typing' : ''}`} aria-live="polite">
              {subtitle}
            </span>
          </span>
        </div>
        {peer && <BlockToggle userId={peer.id} name={title} />}
        <MuteButton channel={channel} />
        {channel.kind === 'group' && (
          <IconButton
            icon="group"
            label={t('chat.membersButton')}
            onClick={onToggleDetails}
            aria-pressed={detailsOpen}
          />
        )}
      </header>
      <MessageActionsContext.Provider value={actions}>
        <ErrorBoundary area="message list">
          <MessageList channel={channel} jumpTo={jumpTo} />
        </ErrorBoundary>
        <Composer channelId={channel.id} placeholderName={title} />
      </MessageActionsContext.Provider>
    </section>
  );
}
