import { compareIds } from '@parley/protocol';
import type { Channel, Message } from '@parley/protocol';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { dayNumber, useI18n } from '../i18n';
import { channelHref, navigate } from '../route';
import type { OutboxItem } from '../state/backend';
import { useChat, useChatStore } from '../state/context';
import type { History } from '../state/store';
import { VirtualList, type VirtualListHandle } from '../virtual/VirtualList';
import { sentEvent } from './Composer';
import { Icon } from './Icon';
import { MessageRow } from './MessageRow';

export type Row =
  | { kind: 'top'; key: string; hasOlder: boolean; loading: boolean }
  | { kind: 'day'; key: string; date: string }
  | { kind: 'new'; key: string }
  | { kind: 'msg'; key: string; message: Message; mine: boolean; grouped: boolean; readBy: number }
  | { kind: 'out'; key: string; item: OutboxItem; grouped: boolean }
  | { kind: 'bottom'; key: string };

const groupWindowMs = 5 * 60_000;

export function messageKey(m: Message, meId: string): string {
  return m.senderId === meId && m.clientMsgId ? `c:${m.clientMsgId}` : `m:${m.id}`;
}

/** Turns a history window plus the outbox into list rows: day separators, the "new" divider, grouping. */
export function buildRows(
  h: History,
  outbox: readonly OutboxItem[],
  meId: string,
  readers: Readonly<Record<string, string>> | undefined,
  newAfter: string | null | undefined,
): Row[] {
  const rows: Row[] = [{ kind: 'top', key: 'top', hasOlder: h.hasOlder, loading: h.loadingOlder }];
  let lastDay = -1;
  let prev: { senderId: string; at: number } | null = null;
  // The divider goes where the read position is, so only when that position is in this window.
  const first = h.messages[0];
  let newPlaced =
    newAfter === undefined || (h.hasOlder && (newAfter === null || !first || compareIds(first.id, newAfter) > 0));
  const cursors = readers ? Object.entries(readers) : [];
  const sentIds = new Set<string>();
  for (const m of h.messages) {
    const at = Date.parse(m.createdAt);
    const day = dayNumber(new Date(at));
    if (day !== lastDay) {
      rows.push({ kind: 'day', key: `d:${day}`, date: m.createdAt });
      lastDay = day;
      prev = null;
    }
    const mine = m.senderId === meId;
    if (!newPlaced && newAfter !== undefined && !mine && (newAfter === null || compareIds(m.id, newAfter) > 0)) {
      rows.push({ kind: 'new', key: 'new' });
      newPlaced = true;
      prev = null;
    }
    const grouped = !!prev && prev.senderId === m.senderId && at - prev.at < groupWindowMs;
    let readBy = 0;
    if (mine) {
      for (const [uid, cursor] of cursors) if (uid !== meId && compareIds(cursor, m.id) >= 0) readBy++;
      if (m.clientMsgId) sentIds.add(m.clientMsgId);
    }
    rows.push({ kind: 'msg', key: messageKey(m, meId), message: m, mine, grouped, readBy });
    prev = { senderId: m.senderId, at };
  }
  if (h.hasNewer) {
    rows.push({ kind: 'bottom', key: 'bottom' });
    return rows;
  }
  for (const item of outbox) {
    if (sentIds.has(item.clientMsgId)) continue;
    const at = Date.parse(item.queuedAt);
    const day = dayNumber(new Date(at));
    if (day !== lastDay) {
      rows.push({ kind: 'day', key: `d:${day}`, date: item.queuedAt });
      lastDay = day;
      prev = null;
    }
    const grouped = !!prev && prev.senderId === meId && at - prev.at < groupWindowMs;
    rows.push({ kind: 'out', key: `c:${item.clientMsgId}`, item, grouped });
    prev = { senderId: meId, at };
  }
  return rows;
}

/** Height guesses for rows not measured yet, close enough that scrolling rarely jumps. */
export function estimateRowHeight(row: Row, width: number): number {
  switch (row.kind) {
    case 'top':
      return row.hasOlder ? 48 : 120;
    case 'day':
      return 44;
    case 'new':
      return 32;
    case 'bottom':
      return 48;
    case 'msg':
    case 'out': {
      const text = row.kind === 'msg' ? row.message.text : row.item.text;
      const bubble = Math.max(160, Math.min(width * 0.72, 640) - 28);
      const perLine = Math.max(12, Math.floor(bubble / 7.6));
      let lines = 0;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        const len = (nl < 0 ? text.length : nl) - start;
        lines += Math.max(1, Math.ceil(len / perLine));
        if (nl < 0 || lines > 5000) break;
        start = nl + 1;
      }
      const header = row.grouped ? 0 : 22;
      return 20 + lines * 21 + header + (row.kind === 'out' && row.item.state === 'failed' ? 28 : 0);
    }
  }
}

const rowRole = (row: Row) =>
  row.kind === 'msg' || row.kind === 'out'
    ? 'listitem'
    : row.kind === 'day' || row.kind === 'new'
      ? 'separator'
      : 'none';

export function MessageList({ channel, jumpTo }: { channel: Channel; jumpTo?: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const store = useChatStore();
  const me = useChat((s) => s.me);
  const users = useChat((s) => s.users);
  const history = useChat((s) => s.histories[channel.id]);
  const allOutbox = useChat((s) => s.outbox);
  const readers = useChat((s) => s.reads[channel.id]);
  const listRef = useRef<VirtualListHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [highlight, setHighlight] = useState<string | null>(null);
  const [target, setTarget] = useState<string | undefined>(undefined);
  // The read position when the view opened: the "New" divider stays put while reading.
  const [opened] = useState(() => ({
    newAfter: channel.unreadCount > 0 ? (channel.lastReadMessageId ?? null) : undefined,
    unread: channel.unreadCount,
  }));
  const h = history ?? store.history(channel.id);
  const outbox = useMemo(() => allOutbox.filter((m) => m.channelId === channel.id), [allOutbox, channel.id]);
  const rows = useMemo(
    () => buildRows(h, outbox, me.id, readers, opened.newAfter),
    [h, outbox, me.id, readers, opened.newAfter],
  );
  const hasNewDivider = rows.some((r) => r.kind === 'new');
  const showJumpUnread = h.loaded && opened.unread > 0 && !hasNewDivider && h.hasOlder && !!opened.newAfter && !target;

  // Whether the newest messages are on screen decides if arrivals count as unread.
  useEffect(() => {
    store.setActive(channel.id, atBottom && !h.hasNewer);
  }, [store, channel.id, atBottom, h.hasNewer]);
  useEffect(() => () => store.setActive(undefined), [store]);

  // Permalinks: load the window around the message, then scroll to it and flash it.
  useEffect(() => {
    if (!jumpTo) return;
    let cancelled = false;
    void store.jumpTo(channel.id, jumpTo).then((found) => {
      if (cancelled) return;
      navigate(channelHref(channel.id), true);
      if (!found) return;
      const m = store.history(channel.id).messages.find((x) => x.id === jumpTo);
      if (!m) return;
      const key = messageKey(m, me.id);
      setTarget(key);
      setHighlight(key);
    });
    return () => {
      cancelled = true;
    };
  }, [jumpTo, channel.id, store, me.id]);

  // Sending from the composer brings the newest messages into view.
  useEffect(() => {
    const onSent = (e: Event) => {
      if ((e as CustomEvent<string>).detail !== channel.id) return;
      const hist = store.history(channel.id);
      if (hist.hasNewer) void store.loadLatest(channel.id);
      else listRef.current?.scrollToBottom();
    };
    window.addEventListener(sentEvent, onSent);
    return () => window.removeEventListener(sentEvent, onSent);
  }, [store, channel.id]);

  useEffect(() => {
    if (!highlight) return;
    const timer = setTimeout(() => setHighlight(null), 2400);
    return () => clearTimeout(timer);
  }, [highlight]);

  const onNearTop = useCallback(() => void store.loadOlder(channel.id), [store, channel.id]);
  const onNearBottom = useCallback(() => void store.loadNewer(channel.id), [store, channel.id]);
  const onLastVisible = useCallback(
    (row: Row) => {
      if (document.visibilityState !== 'visible') return;
      const hist = store.history(channel.id);
      let id: string | undefined;
      if (row.kind === 'msg') id = row.message.id;
      else if (row.kind === 'out' || row.kind === 'bottom') id = undefined;
      if (row.kind === 'out') id = hist.messages[hist.messages.length - 1]?.id;
      if (!id) return;
      const c = store.state.channels[channel.id];
      if (!c) return;
      if (c.unreadCount > 0 || !c.lastReadMessageId || compareIds(id, c.lastReadMessageId) > 0) {
        store.markRead(channel.id, id);
      }
    },
    [store, channel.id],
  );

  const jumpToLatest = async () => {
    setTarget(undefined);
    if (h.hasNewer) await store.loadLatest(channel.id);
    listRef.current?.scrollToBottom();
  };

  const jumpToUnread = async () => {
    if (!opened.newAfter) return;
    await store.jumpTo(channel.id, opened.newAfter);
    setTarget('new');
  };

  // A replaced window (jump) mounts a new list; bring the target into view once it exists.
  useEffect(() => {
    if (target) listRef.current?.scrollToKey(target);
  }, [target, h.generation]);

  const getKey = useCallback((r: Row) => r.key, []);
  const rowLabel = useCallback(
    (r: Row) => (r.kind === 'day' ? i18n.day(r.date) : r.kind === 'new' ? t('chat.newDivider') : undefined),
    [i18n, t],
  );
  const renderRow = (row: Row) => {
    switch (row.kind) {
      case 'top':
        return row.hasOlder ? (
          <div className="history-top">
            <span className="spinner" aria-hidden="true" />
            <span className="sr-only">{t('chat.loadOlder')}</span>
          </div>
        ) : (
          <div className="history-intro">
            <p className="intro-title">
              {channel.kind === 'dm'
                ? t('chat.emptyDm', { name: channelName(channel, me.id) })
                : t('chat.emptyGroup', { name: channel.name ?? '' })}
            </p>
            {h.loaded && h.messages.length === 0 && <p className="muted">{t('chat.empty')}</p>}
          </div>
        );
      case 'day':
        return (
          <div className="day-sep">
            <span>{i18n.day(row.date)}</span>
          </div>
        );
      case 'new':
        return (
          <div className="new-sep">
            <span>{t('chat.newDivider')}</span>
          </div>
        );
      case 'bottom':
        return (
          <div className="history-top">
            <span className="spinner" aria-hidden="true" />
          </div>
        );
      case 'msg':
      case 'out':
        return (
          <MessageRow
            row={row}
            channel={channel}
            users={users}
            highlight={highlight === row.key}
            onRetry={(id) => store.retry(id)}
            onDiscard={(id) => store.discard(id)}
          />
        );
    }
  };

  return (
    <div className="message-pane">
      {h.error && !h.loaded ? (
        <div className="empty-main" role="alert">
          <p>{t('chat.historyError')}</p>
          <button type="button" className="btn secondary" onClick={() => void store.loadLatest(channel.id)}>
            {t('chat.tryAgain')}
          </button>
        </div>
      ) : !h.loaded ? (
        <div className="message-skeleton" role="status" aria-label={t('chat.loading')}>
          {[62, 40, 75, 30, 55].map((w, i) => (
            <div key={i} className={`skel-bubble${i % 2 ? ' mine' : ''}`} style={{ width: `${w}%` }} />
          ))}
        </div>
      ) : (
        <VirtualList
          key={h.generation}
          ref={listRef}
          className="messages"
          items={rows}
          getKey={getKey}
          estimateHeight={estimateRowHeight}
          renderItem={renderRow}
          rowRole={rowRole}
          rowLabel={rowLabel}
          initialKey={target ?? (hasNewDivider ? 'new' : undefined)}
          onNearTop={onNearTop}
          onNearBottom={onNearBottom}
          onAtBottomChange={setAtBottom}
          onLastVisible={onLastVisible}
          listProps={{ role: 'list', 'aria-label': t('chat.messages'), className: 'message-list' }}
        />
      )}
      {showJumpUnread && (
        <button type="button" className="pill top-pill" onClick={() => void jumpToUnread()}>
          <Icon name="down" size={14} className="flip" />
          {t('chat.jumpUnread')}
          <span className="badge">{opened.unread}</span>
        </button>
      )}
      {h.loaded && (!atBottom || h.hasNewer) && (
        <button
          type="button"
          className="fab"
          onClick={() => void jumpToLatest()}
          aria-label={t('chat.jumpLatest')}
          title={t('chat.jumpLatest')}
        >
          <Icon name="down" />
          {channel.unreadCount > 0 && <span className="badge small">{channel.unreadCount}</span>}
        </button>
      )}
    </div>
  );
}

function channelName(c: Channel, meId: string): string {
  const other = c.members.find((m) => m.id !== meId) ?? c.members[0];
  return other?.displayName ?? '';
}
