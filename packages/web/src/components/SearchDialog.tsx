/**
 * Message search (GET /v1/search): all conversations or the open one, newest first, each hit
 * with its matched ranges marked and a link that opens the message in its conversation (the
 * `around=` jump of a permalink).
 */
import type { SearchResult, TextRange } from '@parley/protocol';
import { useEffect, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n';
import { channelHref, navigate } from '../route';
import { useChat, useChatStore } from '../state/context';
import { channelTitle } from '../state/store';
import { Dialog } from './Dialog';

/** Code points of context shown before the first match of a long text. */
const CONTEXT_BEFORE = 40;
const SNIPPET_LENGTH = 240;

/** The text around its first match, with the matched ranges in <mark>. */
export function markedSnippet(text: string, highlights: readonly TextRange[]): ReactNode[] {
  const chars = [...text];
  const from = Math.max(0, (highlights[0]?.[0] ?? 0) - CONTEXT_BEFORE);
  const to = Math.min(chars.length, from + SNIPPET_LENGTH);
  const out: ReactNode[] = [];
  if (from > 0) out.push('…');
  let at = from;
  for (const [start, end] of highlights) {
    if (end <= at || start >= to) continue;
    const s = Math.max(start, at);
    if (s > at) out.push(chars.slice(at, s).join(''));
    out.push(<mark key={s}>{chars.slice(s, Math.min(end, to)).join('')}</mark>);
    at = Math.min(end, to);
  }
  if (at < to) out.push(chars.slice(at, to).join(''));
  if (to < chars.length) out.push('…');
  return out;
}

type Status = 'idle' | 'searching' | 'done' | 'invalid' | 'error';

export function SearchDialog({ channelId, onClose }: { channelId?: string; onClose(): void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const store = useChatStore();
  const me = useChat((s) => s.me);
  const channels = useChat((s) => s.channels);
  const users = useChat((s) => s.users);
  const [query, setQuery] = useState('');
  const [here, setHere] = useState(false);
  const [results, setResults] = useState<SearchResult[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [status, setStatus] = useState<Status>('idle');
  const q = query.trim();
  const scope = here && channelId !== undefined ? channelId : undefined;

  useEffect(() => {
    if (!q) {
      setStatus('idle');
      setResults([]);
      return;
    }
    let cancelled = false;
    setStatus('searching');
    const timer = setTimeout(() => {
      store.backend.api
        .search(q, scope === undefined ? {} : { channelId: scope })
        .then((page) => {
          if (cancelled) return;
          setResults(page.results);
          setHasMore(page.hasMore);
          setStatus('done');
        })
        .catch((error: { code?: string }) => {
          if (cancelled) return;
          setResults([]);
          setStatus(error.code === 'invalid_request' ? 'invalid' : 'error');
        });
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [q, scope, store]);

  const loadMore = () => {
    const last = results.at(-1);
    if (!last) return;
    void store.backend.api
      .search(q, { before: last.message.id, ...(scope === undefined ? {} : { channelId: scope }) })
      .then((page) => {
        setResults((r) => [...r, ...page.results]);
        setHasMore(page.hasMore);
      });
  };

  const open = (result: SearchResult) => {
    onClose();
    navigate(channelHref(result.message.channelId, result.message.id));
  };

  return (
    <Dialog title={t('search.title')} onClose={onClose} className="search-dialog">
      <form className="search-form" role="search" onSubmit={(e) => e.preventDefault()}>
        <input
          type="search"
          autoFocus
          aria-label={t('search.placeholder')}
          placeholder={t('search.placeholder')}
          value={query}
          maxLength={256}
          onChange={(e) => setQuery(e.target.value)}
        />
        {channelId !== undefined && (
          <div className="search-scope" role="radiogroup">
            <label>
              <input type="radio" name="scope" checked={!here} onChange={() => setHere(false)} />
              {t('search.scope.all')}
            </label>
            <label>
              <input type="radio" name="scope" checked={here} onChange={() => setHere(true)} />
              {t('search.scope.here')}
            </label>
          </div>
        )}
      </form>
      <div className="search-status muted" role="status">
        {status === 'searching' && t('search.searching')}
        {status === 'done' && results.length === 0 && t('search.none')}
        {status === 'done' && results.length > 0 && t('search.results', { count: results.length })}
        {status === 'invalid' && t('search.invalid')}
        {status === 'error' && t('common.error')}
      </div>
      <ul className="search-results">
        {results.map((result) => {
          const channel = channels[result.message.channelId];
          const sender = users[result.message.senderId];
          return (
            <li key={result.message.id}>
              <a
                className="search-hit"
                href={channelHref(result.message.channelId, result.message.id)}
                onClick={(e) => {
                  e.preventDefault();
                  open(result);
                }}
              >
                <span className="search-hit-head">
                  <span className="search-hit-channel">{channel ? channelTitle(channel, me.id) : ''}</span>
                  <span className="muted">{sender?.displayName || sender?.username || ''}</span>
                  <time dateTime={result.message.createdAt}>{i18n.shortStamp(result.message.createdAt)}</time>
                </span>
                <span className="search-hit-text" dir="auto">
                  {markedSnippet(result.message.text, result.highlights)}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {hasMore && status === 'done' && (
        <button type="button" className="link-btn" onClick={loadMore}>
          {t('search.more')}
        </button>
      )}
    </Dialog>
  );
}
