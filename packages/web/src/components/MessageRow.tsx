import type { Channel, User } from '@parley/protocol';
import { memo, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n';
import { channelHref } from '../route';
import { useChat } from '../state/context';
import { Avatar } from './Avatar';
import { Icon } from './Icon';
import { MessageActions } from './MessageActions';
import { BlockedPlaceholder } from './BlockedPlaceholder';
import { useIsBlocked } from './BlockButton';
import type { Row } from './MessageList';
import { ReactionChips } from './ReactionChips';
import { ReplyQuote } from './ReplyQuote';

const urlPattern = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/giu;
const collapseOver = 3_000;
/** Text with Hangul is marked Korean so it wraps between words (see styles.css). */
const hangul = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/u;

/** Text with links made clickable; everything else stays plain text (no HTML is ever injected). */
export function linkify(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(urlPattern)) {
    const start = m.index ?? 0;
    if (start > last) out.push(text.slice(last, start));
    out.push(
      <a key={start} href={m[0]} target="_blank" rel="noopener noreferrer">
        {m[0]}
      </a>,
    );
    last = start + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export const MessageRow = memo(function MessageRow({
  row,
  channel,
  users,
  highlight,
  onRetry,
  onDiscard,
}: {
  row: Extract<Row, { kind: 'msg' | 'out' }>;
  channel: Channel;
  users: Readonly<Record<string, User>>;
  highlight: boolean;
  onRetry(clientMsgId: string): void;
  onDiscard(clientMsgId: string): void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const [expanded, setExpanded] = useState(false);
  const [showReaders, setShowReaders] = useState(false);
  const [revealed, setRevealed] = useState(false);
  const mine = row.kind === 'out' || row.mine;
  const meId = useChat((s) => s.me.id);
  const mentionsMe = row.kind === 'msg' && !mine && !!row.message.mentions?.includes(meId);
  const message = row.kind === 'msg' ? row.message : undefined;
  const deleted = message?.deletedAt !== undefined;
  const text = row.kind === 'msg' ? row.message.text : row.item.text;
  const at = row.kind === 'msg' ? row.message.createdAt : row.item.queuedAt;
  const senderId = row.kind === 'msg' ? row.message.senderId : '';
  const sender = users[senderId];
  const hidden = useIsBlocked(senderId) && !mine && !revealed;
  const senderName = sender?.displayName || sender?.username || '…';
  const isGroup = channel.kind === 'group';
  const showHeader = isGroup && !mine && !row.grouped;
  const long = text.length > collapseOver && !expanded;
  const shown = long ? text.slice(0, collapseOver) + '…' : text;

  let status: ReactNode = null;
  if (row.kind === 'out') {
    status =
      row.item.state === 'pending' ? (
        <span className="status pending" title={t('msg.pending')}>
          <Icon name="clock" size={13} />
          <span className="sr-only">{t('msg.pending')}</span>
        </span>
      ) : (
        <span className="status failed">
          <Icon name="alert" size={13} />
          {t('msg.failed')}
        </span>
      );
  } else if (row.mine) {
    const read = row.readBy.length > 0;
    const label = read ? (isGroup ? t('msg.readBy', { count: row.readBy.length }) : t('msg.read')) : t('msg.sent');
    const names = row.readBy.map((id) => users[id]?.displayName || users[id]?.username || '…').join(', ');
    status =
      read && isGroup ? (
        // Who has seen it: on hover (title) and on tap (the list under the bubble).
        <button
          type="button"
          className="status read seen-by"
          title={`${label}: ${names}`}
          aria-label={`${label}: ${names}`}
          aria-expanded={showReaders}
          onClick={() => setShowReaders((v) => !v)}
        >
          <Icon name="checks" size={13} />
          <span className="count" aria-hidden="true">
            {row.readBy.length}
          </span>
        </button>
      ) : (
        <span className={`status ${read ? 'read' : 'sent'}`} title={label}>
          <Icon name={read ? 'checks' : 'check'} size={13} />
          <span className="sr-only">{label}</span>
        </span>
      );
  }

  const cls = [
    'msg',
    mine ? 'mine' : 'theirs',
    row.grouped ? 'grouped' : 'first',
    highlight ? 'flash' : '',
    isGroup ? 'in-group' : '',
    mentionsMe ? 'mentions-me' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <div
      className={deleted ? `${cls} deleted` : cls}
      data-state={row.kind === 'out' ? row.item.state : 'sent'}
      data-message-id={message?.id}
    >
      {isGroup && !mine && (
        <div className="msg-gutter">{!row.grouped && <Avatar id={senderId} name={senderName} size={32} />}</div>
      )}
      <div className="msg-body">
        {showHeader && <div className="sender">{senderName}</div>}
        <div className="bubble">
          {hidden ? (
            <BlockedPlaceholder onReveal={() => setRevealed(true)} />
          ) : message?.replyTo ? (
            <ReplyQuote channelId={channel.id} replyTo={message.replyTo} users={users} />
          ) : null}
          {hidden ? null : deleted ? (
            <span className="text deleted-mark">{t('edits.deleted')}</span>
          ) : (
            <span className="text" dir="auto" lang={hangul.test(shown) ? 'ko' : undefined}>
              {linkify(shown)}
            </span>
          )}
          {long && !hidden && (
            <button
              type="button"
              className="link-btn more"
              onClick={() => setExpanded(true)}
              aria-label={t('msg.showMore')}
            >
              {t('msg.showMore')}
            </button>
          )}
          <span className="meta">
            {message?.editedAt && !deleted && (
              <span className="edited-mark" title={i18n.full(message.editedAt)}>
                {t('msg.edited')}
              </span>
            )}
            {row.kind === 'msg' && (
              <a className="time" href={channelHref(channel.id, row.message.id)} title={i18n.full(at)} tabIndex={-1}>
                <time dateTime={at}>{i18n.time(at)}</time>
              </a>
            )}
            {row.kind === 'out' && <time dateTime={at}>{i18n.time(at)}</time>}
            {status}
          </span>
        </div>
        {message && <ReactionChips message={message} users={users} />}
        {message && !deleted && <MessageActions message={message} channel={channel} />}
        {showReaders && row.kind === 'msg' && row.readBy.length > 0 && (
          <div className="seen-list">
            {t('msg.readBy', { count: row.readBy.length })}:{' '}
            {row.readBy.map((id) => users[id]?.displayName || users[id]?.username || '…').join(', ')}
          </div>
        )}
        {row.kind === 'out' && row.item.state === 'failed' && (
          <div className="failed-actions">
            <button type="button" className="link-btn" onClick={() => onRetry(row.item.clientMsgId)}>
              <Icon name="retry" size={13} /> {t('msg.retry')}
            </button>
            <button type="button" className="link-btn muted" onClick={() => onDiscard(row.item.clientMsgId)}>
              {t('msg.discard')}
            </button>
          </div>
        )}
      </div>
    </div>
  );
});
