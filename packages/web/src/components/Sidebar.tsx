import { memo, useMemo, useState } from 'react';
import type { Channel } from '@parley/protocol';
import { useI18n } from '../i18n';
import { channelHref } from '../route';
import { useChat } from '../state/context';
import { channelTitle, dmPeer } from '../state/store';
import { Avatar } from './Avatar';
import type { DialogKind } from './ChatApp';
import { Icon } from './Icon';
import { IconButton } from './IconButton';

export function Sidebar({
  activeId,
  onDialog,
  onLogout,
}: {
  activeId?: string;
  onDialog(kind: DialogKind): void;
  onLogout(): void;
}) {
  const { t } = useI18n();
  const me = useChat((s) => s.me);
  const channels = useChat((s) => s.channels);
  const orderIds = useChat((s) => s.channelOrder);
  const loaded = useChat((s) => s.channelsLoaded);
  const incoming = useChat((s) => s.incoming);
  const connection = useChat((s) => s.connection);
  const [filter, setFilter] = useState('');

  const visible = useMemo(() => {
    const q = filter.trim().toLowerCase();
    const list = orderIds.map((id) => channels[id]!).filter(Boolean);
    if (!q) return list;
    return list.filter(
      (c) =>
        channelTitle(c, me.id).toLowerCase().includes(q) ||
        c.members.some((m) => m.id !== me.id && m.username.includes(q)),
    );
  }, [orderIds, channels, filter, me.id]);

  return (
    <aside className="sidebar">
      <header className="sidebar-head">
        <div className="brand">
          <span className="brand-mark small" aria-hidden="true" />
          <span className="brand-name">{t('app.name')}</span>
          <span
            className={`conn-dot ${connection}`}
            title={t(connection === 'online' ? 'conn.online' : 'conn.reconnecting')}
          />
        </div>
        <div className="head-actions">
          <IconButton icon="search" label={t('search.open')} onClick={() => onDialog('search')} />
          <IconButton icon="group" label={t('nav.newGroup')} onClick={() => onDialog('group')} />
          <IconButton icon="compose" label={t('nav.newMessage')} onClick={() => onDialog('dm')} />
        </div>
      </header>
      <div className="sidebar-search">
        <Icon name="search" size={16} />
        <input
          type="text"
          aria-label={t('nav.filter')}
          placeholder={t('nav.filter')}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      <nav className="conv-list" aria-label={t('nav.conversations')}>
        {!loaded && orderIds.length === 0 ? (
          <div className="conv-skeletons" aria-hidden="true">
            {[0, 1, 2, 3].map((i) => (
              <div key={i} className="conv skeleton">
                <span className="avatar" />
                <span className="lines" />
              </div>
            ))}
          </div>
        ) : visible.length === 0 ? (
          <div className="conv-empty">
            <p>{filter ? t('nav.noMatch') : t('nav.empty')}</p>
            {!filter && <p className="muted">{t('nav.emptyHint')}</p>}
          </div>
        ) : (
          visible.map((c) => <ConversationItem key={c.id} channel={c} active={c.id === activeId} meId={me.id} />)
        )}
      </nav>
      <footer className="sidebar-foot">
        <div className="me-card">
          <Avatar
            id={me.id}
            name={me.displayName || me.username || '?'}
            size={36}
            presence={connection === 'online' ? 'online' : 'offline'}
          />
          <div className="me-text">
            <span className="me-name">{me.displayName || me.username}</span>
            <span className="me-status muted">{me.statusText || `@${me.username}`}</span>
          </div>
        </div>
        <div className="foot-actions">
          <IconButton
            icon="friends"
            label={
              incoming.length
                ? `${t('nav.friends')} (${t('friends.requestsBadge', { count: incoming.length })})`
                : t('nav.friends')
            }
            badge={incoming.length}
            onClick={() => onDialog('friends')}
          />
          <IconButton icon="settings" label={t('nav.settings')} onClick={() => onDialog('settings')} />
          <IconButton icon="logout" label={t('auth.logout')} onClick={onLogout} />
        </div>
      </footer>
    </aside>
  );
}

const ConversationItem = memo(function ConversationItem({
  channel,
  active,
  meId,
}: {
  channel: Channel;
  active: boolean;
  meId: string;
}) {
  const { t, shortStamp } = useI18n();
  const users = useChat((s) => s.users);
  const presence = useChat((s) => s.presence);
  const typing = useChat((s) => s.typing[channel.id]);
  const outbox = useChat((s) => s.outbox);
  const title = channelTitle(channel, meId);
  const peer = dmPeer(channel, meId);
  const status = peer ? (presence[peer.id]?.status ?? 'offline') : undefined;
  const last = channel.lastMessage;
  const failed = outbox.some((m) => m.channelId === channel.id && m.state === 'failed');
  const typers = typing ? Object.keys(typing).filter((id) => id !== meId) : [];

  let preview = '';
  if (typers.length) {
    const name = users[typers[0]!]?.displayName ?? '';
    preview = typers.length === 1 ? t('chat.typing.one', { name }) : t('chat.typing.many');
  } else if (last) {
    const who =
      last.senderId === meId
        ? `${t('nav.you')}: `
        : channel.kind === 'group'
          ? `${users[last.senderId]?.displayName ?? ''}: `
          : '';
    preview = who + last.text.slice(0, 140).replace(/\s+/g, ' ');
  } else {
    preview = channel.kind === 'group' ? t('chat.members', { count: channel.members.length }) : '';
  }
  const descId = `conv-desc-${channel.id}`;
  return (
    <a
      href={channelHref(channel.id)}
      className={`conv${active ? ' active' : ''}${channel.unreadCount > 0 ? ' unread' : ''}`}
      aria-current={active ? 'page' : undefined}
      aria-label={title}
      aria-describedby={descId}
    >
      <Avatar id={peer?.id ?? channel.id} name={title} size={44} presence={status} group={channel.kind === 'group'} />
      <span className="conv-body">
        <span className="conv-top">
          <span className="conv-title">{title}</span>
          {last && <time dateTime={last.createdAt}>{shortStamp(last.createdAt)}</time>}
        </span>
        <span className="conv-bottom" id={descId}>
          <span className={`conv-preview${typers.length ? ' typing' : ''}`}>
            {failed && <Icon name="alert" size={14} className="danger" />}
            {preview}
          </span>
          {channel.unreadMentionCount > 0 && (
            <span className="badge mention" title={t('mention.unread', { count: channel.unreadMentionCount })}>
              @<span className="sr-only"> {t('mention.unread', { count: channel.unreadMentionCount })}</span>
            </span>
          )}
          {channel.unreadCount > 0 && (
            <span className="badge">
              {channel.unreadCount > 999 ? '999+' : channel.unreadCount}
              <span className="sr-only"> {t('nav.unread', { count: channel.unreadCount })}</span>
            </span>
          )}
        </span>
      </span>
    </a>
  );
});
