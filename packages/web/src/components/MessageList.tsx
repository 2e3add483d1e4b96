import { compareIds } from '@parley/protocol';
import type { Channel, Message } from '@parley/protocol';
import { forwardRef, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type Components, type ItemProps, type ListProps, type VirtuosoHandle } from 'react-virtuoso';
import { dayNumber, useI18n, type I18n } from '../i18n';
import { channelHref, navigate } from '../route';
import type { OutboxItem } from '../state/backend';
import { useChat, useChatStore } from '../state/context';
import type { History, MemberNote } from '../state/store';
import { sentEvent } from './Composer';
import { Icon } from './Icon';
import { MessageRow } from './MessageRow';

export type Row =
  | { kind: 'top'; key: string; hasOlder: boolean; loading: boolean }
  | { kind: 'day'; key: string; date: string }
  | { kind: 'new'; key: string }
  | { kind: 'note'; key: string; note: MemberNote }
  | { kind: 'msg'; key: string; message: Message; mine: boolean; grouped: boolean; readBy: readonly string[] }
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
  notes: readonly MemberNote[] = [],
): Row[] {
  // Notes go after the message that was newest when they happened; older ones outside the window are left out.
  const notesAfter = new Map<string, MemberNote[]>();
  const trailing: MemberNote[] = [];
  const lastId = h.messages[h.messages.length - 1]?.id;
  for (const n of notes) {
    if (n.afterId && h.messages.some((m) => m.id === n.afterId) && n.afterId !== lastId) {
      notesAfter.set(n.afterId, [...(notesAfter.get(n.afterId) ?? []), n]);
    } else if (!h.hasNewer && (!n.afterId || !lastId || compareIds(n.afterId, lastId) >= 0)) trailing.push(n);
  }
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
    const readBy: string[] = [];
    if (mine) {
      for (const [uid, cursor] of cursors) if (uid !== meId && compareIds(cursor, m.id) >= 0) readBy.push(uid);
      if (m.clientMsgId) sentIds.add(m.clientMsgId);
    }
    rows.push({ kind: 'msg', key: messageKey(m, meId), message: m, mine, grouped, readBy });
    prev = { senderId: m.senderId, at };
    for (const note of notesAfter.get(m.id) ?? []) {
      rows.push({ kind: 'note', key: note.key, note });
      prev = null;
    }
  }
  for (const note of trailing) {
    rows.push({ kind: 'note', key: note.key, note });
    prev = null;
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

type BodyRow = Exclude<Row, { kind: 'top' | 'bottom' }>;

const rowRole = (row: BodyRow) =>
  row.kind === 'msg' || row.kind === 'out' ? 'listitem' : row.kind === 'note' ? 'note' : 'separator';

/** What the list's parts (header, footer, rows) need besides the row itself. */
interface ListContext {
  channel: Channel;
  meId: string;
  history: History;
  i18n: I18n;
}

/**
 * Virtuoso counts item indexes from here down when older pages are prepended, so the rows on
 * screen keep their index and the view does not move (see `firstItemIndex`).
 */
const firstIndexBase = 1_000_000_000;

const listComponents: Components<BodyRow, ListContext> = {
  List: forwardRef<HTMLDivElement, ListProps & { context?: ListContext }>(function MessageRows(
    { context, children, style, ...rest },
    ref,
  ) {
    return (
      <div
        {...rest}
        ref={ref}
        style={style}
        role="list"
        aria-label={context?.i18n.t('chat.messages')}
        className="message-list"
      >
        {children}
      </div>
    );
  }),
  Item: function MessageRowItem({ item, context, children, ...rest }: ItemProps<BodyRow> & { context?: ListContext }) {
    return (
      <div
        {...rest}
        data-key={item.key}
        role={rowRole(item)}
        aria-label={
          item.kind === 'day'
            ? context?.i18n.day(item.date)
            : item.kind === 'new'
              ? context?.i18n.t('chat.newDivider')
              : undefined
        }
        className="vrow"
      >
        {children}
      </div>
    );
  },
  Header: function HistoryTop({ context }: { context?: ListContext }) {
    if (!context) return null;
    const { history: h, channel, meId, i18n } = context;
    return h.hasOlder ? (
      <div className="history-top">
        <span className="spinner" aria-hidden="true" />
        <span className="sr-only">{i18n.t('chat.loadOlder')}</span>
      </div>
    ) : (
      <div className="history-intro">
        <p className="intro-title">
          {channel.kind === 'dm'
            ? i18n.t('chat.emptyDm', { name: channelName(channel, meId) })
            : i18n.t('chat.emptyGroup', { name: channel.name ?? '' })}
        </p>
        {h.loaded && h.messages.length === 0 && <p className="muted">{i18n.t('chat.empty')}</p>}
      </div>
    );
  },
  Footer: function HistoryBottom({ context }: { context?: ListContext }) {
    return context?.history.hasNewer ? (
      <div className="history-top">
        <span className="spinner" aria-hidden="true" />
      </div>
    ) : (
      <div className="history-end" />
    );
  },
};

/**
 * The index Virtuoso should give the first row: it goes down by the number of rows prepended
 * (older pages, a day separator that moves up) so the rows already shown keep their index.
 */
function useFirstItemIndex(rows: readonly BodyRow[], generation: number): number {
  const last = useRef<{ generation: number; index: number; firstKey?: string; firstAt: number }>({
    generation,
    index: firstIndexBase,
    firstAt: 0,
  });
  return useMemo(() => {
    const prev = last.current;
    const firstAt = rows.findIndex((r) => r.kind === 'msg');
    const firstKey = firstAt >= 0 ? rows[firstAt]!.key : undefined;
    let index = prev.generation === generation ? prev.index : firstIndexBase;
    if (prev.generation === generation && prev.firstKey !== undefined && firstKey !== prev.firstKey) {
      const moved = rows.findIndex((r) => r.key === prev.firstKey);
      if (moved >= 0) index -= moved - prev.firstAt;
    }
    last.current = { generation, index, firstKey, firstAt };
    return index;
  }, [rows, generation]);
}

export function MessageList({ channel, jumpTo }: { channel: Channel; jumpTo?: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const store = useChatStore();
  const me = useChat((s) => s.me);
  const users = useChat((s) => s.users);
  const history = useChat((s) => s.histories[channel.id]);
  const allOutbox = useChat((s) => s.outbox);
  const readers = useChat((s) => s.reads[channel.id]);
  const notes = useChat((s) => s.notes[channel.id]);
  const listRef = useRef<VirtuosoHandle>(null);
  const scrollerRef = useRef<HTMLElement | null>(null);
  const followNext = useRef(false);
  const [atBottom, setAtBottom] = useState(true);
  const [highlight, setHighlight] = useState<string | null>(null);
  const [target, setTarget] = useState<string | undefined>(undefined);
  // While a jump loads, no list is shown: one mounted at the end would start loading newer pages.
  const [jumping, setJumping] = useState(false);
  // The read position when the view opened: the "New" divider stays put while reading.
  const [opened] = useState(() => ({
    newAfter: channel.unreadCount > 0 ? (channel.lastReadMessageId ?? null) : undefined,
    unread: channel.unreadCount,
  }));
  const h = history ?? store.history(channel.id);
  const outbox = useMemo(() => allOutbox.filter((m) => m.channelId === channel.id), [allOutbox, channel.id]);
  const rows = useMemo(
    () => buildRows(h, outbox, me.id, readers, opened.newAfter, notes),
    [h, outbox, me.id, readers, opened.newAfter, notes],
  );
  const body = useMemo(() => rows.filter((r): r is BodyRow => r.kind !== 'top' && r.kind !== 'bottom'), [rows]);
  const firstItemIndex = useFirstItemIndex(body, h.generation);
  const hasNewDivider = body.some((r) => r.kind === 'new');
  const showJumpUnread = h.loaded && opened.unread > 0 && !hasNewDivider && h.hasOlder && !!opened.newAfter && !target;

  // Whether the newest messages are on screen decides if arrivals count as unread.
  useEffect(() => {
    store.setActive(channel.id, atBottom && !h.hasNewer);
  }, [store, channel.id, atBottom, h.hasNewer]);
  useEffect(() => () => store.setActive(undefined), [store]);

  // Permalinks: load the window around the message, then show it and flash it.
  useEffect(() => {
    if (!jumpTo) return;
    let cancelled = false;
    setJumping(true);
    void store.jumpTo(channel.id, jumpTo).then((found) => {
      if (cancelled) return;
      setJumping(false);
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
      if (hist.hasNewer) {
        setTarget(undefined);
        void store.loadLatest(channel.id);
      } else {
        // The new row arrives with the next store update; follow it down then.
        followNext.current = true;
        listRef.current?.scrollToIndex({ index: 'LAST', align: 'end' });
      }
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

  // Reading: the newest message fully (or mostly) on screen moves the read cursor, once the
  // list has settled in a frame, and only while the page is visible.
  const bodyRef = useRef(body);
  bodyRef.current = body;
  const historyRef = useRef(h);
  historyRef.current = h;
  const readFrame = useRef(0);
  const reportRead = useCallback(() => {
    cancelAnimationFrame(readFrame.current);
    readFrame.current = requestAnimationFrame(() => {
      const el = scrollerRef.current;
      if (!el || document.visibilityState !== 'visible') return;
      const bottom = el.getBoundingClientRect().bottom;
      const byKey = new Map(bodyRef.current.map((r) => [r.key, r]));
      let newest: string | undefined;
      for (const node of el.querySelectorAll<HTMLElement>('[data-key]')) {
        const rect = node.getBoundingClientRect();
        if (rect.height === 0 || rect.top >= bottom - Math.min(24, rect.height / 2)) continue;
        const row = byKey.get(node.dataset.key ?? '');
        if (row?.kind !== 'msg') continue;
        if (!newest || compareIds(row.message.id, newest) > 0) newest = row.message.id;
      }
      if (!newest) return;
      const c = store.state.channels[channel.id];
      if (!c) return;
      if (c.unreadCount > 0 || !c.lastReadMessageId || compareIds(newest, c.lastReadMessageId) > 0) {
        store.markRead(channel.id, newest);
      }
    });
  }, [store, channel.id]);
  useEffect(() => () => cancelAnimationFrame(readFrame.current), []);
  // New rows (live messages) and coming back to the tab are chances to read, too.
  useEffect(() => {
    if (h.loaded) reportRead();
  }, [body, h.loaded, reportRead]);
  useEffect(() => {
    const onVisible = () => document.visibilityState === 'visible' && reportRead();
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('focus', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
    };
  }, [reportRead]);

  const jumpToLatest = async () => {
    setTarget(undefined);
    if (h.hasNewer) await store.loadLatest(channel.id);
    else listRef.current?.scrollToIndex({ index: 'LAST', align: 'end' });
  };

  const jumpToUnread = async () => {
    if (!opened.newAfter) return;
    setJumping(true);
    await store.jumpTo(channel.id, opened.newAfter);
    setJumping(false);
    setTarget('new');
  };

  const retry = useCallback((id: string) => store.retry(id), [store]);
  const discard = useCallback((id: string) => store.discard(id), [store]);
  const context = useMemo<ListContext>(() => ({ channel, meId: me.id, history: h, i18n }), [channel, me.id, h, i18n]);
  const renderRow = (_index: number, row: BodyRow) => {
    switch (row.kind) {
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
      case 'note': {
        const u = users[row.note.userId];
        const name = u?.displayName || u?.username || '…';
        return <div className="member-note">{t(`group.note.${row.note.kind}`, { name })}</div>;
      }
      case 'msg':
      case 'out':
        return (
          <MessageRow
            row={row}
            channel={channel}
            users={users}
            highlight={highlight === row.key}
            onRetry={retry}
            onDiscard={discard}
          />
        );
    }
  };

  // Where a freshly mounted list starts: a permalink's message, the "New" divider, or the end.
  const startKey = target ?? (hasNewDivider ? 'new' : undefined);
  const startIndex = startKey ? body.findIndex((r) => r.key === startKey) : -1;
  const initialLocation =
    startIndex >= 0
      ? { index: startIndex, align: 'center' as const }
      : { index: 'LAST' as const, align: 'end' as const };

  return (
    <div className="message-pane">
      {h.error && !h.loaded ? (
        <div className="empty-main" role="alert">
          <p>{t('chat.historyError')}</p>
          <button type="button" className="btn secondary" onClick={() => void store.loadLatest(channel.id)}>
            {t('chat.tryAgain')}
          </button>
        </div>
      ) : !h.loaded || jumping ? (
        <div className="message-skeleton" role="status" aria-label={t('chat.loading')}>
          {[62, 40, 75, 30, 55].map((w, i) => (
            <div key={i} className={`skel-bubble${i % 2 ? ' mine' : ''}`} style={{ width: `${w}%` }} />
          ))}
        </div>
      ) : (
        <Virtuoso<BodyRow, ListContext>
          // A replaced window (jump, latest) or a new target mounts a new list at its place.
          key={`${h.generation}:${target ?? ''}`}
          ref={listRef}
          scrollerRef={(el) => {
            scrollerRef.current = el instanceof HTMLElement ? el : null;
          }}
          className="messages"
          data={body}
          context={context}
          components={listComponents}
          computeItemKey={(_index, row) => row.key}
          itemContent={renderRow}
          firstItemIndex={firstItemIndex}
          initialTopMostItemIndex={initialLocation}
          alignToBottom
          followOutput={(bottom) => {
            // Follow new messages at the live end only: a page appended to a jump window is not news.
            const follow = (bottom && !historyRef.current.hasNewer) || followNext.current;
            followNext.current = false;
            return follow ? 'auto' : false;
          }}
          atBottomThreshold={48}
          atBottomStateChange={setAtBottom}
          startReached={onNearTop}
          endReached={onNearBottom}
          rangeChanged={reportRead}
          increaseViewportBy={{ top: 600, bottom: 600 }}
          defaultItemHeight={48}
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
