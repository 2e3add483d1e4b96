import type { User } from '@parley/protocol';
import { useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useI18n } from '../i18n';
import { useChat } from '../state/context';
import { Avatar } from './Avatar';
import { PersonRow } from './PersonRow';
import { useUserSearch } from './useUserSearch';

/** What choosing a person does. */
export type PickMode =
  /** The whole row is a button (start a DM); `busyId` shows a spinner on that row and disables the rest. */
  | { kind: 'open'; onPick(user: User): void; busyId?: string | null }
  /** Each row has a checkbox (a group's members); no more can be ticked once `full`. */
  | { kind: 'select'; selected: readonly User[]; onToggle(user: User): void; full: boolean }
  /** Each row ends in what `action` renders for that person (a button, or a tag saying why not). */
  | { kind: 'action'; action(user: User): ReactNode };

export interface UserPickerProps {
  /** Names the search field and the list (e.g. "Search people", "Add member"). */
  label: string;
  mode: PickMode;
  /** Shown while the search field is empty (friends); without them the list starts empty. */
  suggestions?: readonly User[];
  /** Headings over the list: [while showing suggestions, while showing results]. */
  headings?: [string, string];
  autoFocus?: boolean;
  /** Next to the search field (e.g. a close button). */
  beside?: ReactNode;
}

/**
 * Search for people and pick from the list: the one way the app asks "who?" (new message, new
 * group, add friend, add member). The arrow keys move between the search field and the rows,
 * Home and End jump to the first and last row; Enter, Space or the checkbox choose, as usual.
 */
export function UserPicker({ label, mode, suggestions, headings, autoFocus, beside }: UserPickerProps) {
  const { t } = useI18n();
  const presence = useChat((s) => s.presence);
  const [query, setQuery] = useState('');
  const { results, loading } = useUserSearch(query);
  const searching = !!query.trim();
  const list = searching ? results : (suggestions ?? []);
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);

  /** The control that stands for each row (rows with nothing to choose are skipped). */
  const targets = (): HTMLElement[] =>
    [...(listRef.current?.querySelectorAll<HTMLElement>('[data-pick-row]') ?? [])]
      .map((row) =>
        row.matches('button') ? row : row.querySelector<HTMLElement>('button:not([disabled]), input:not([disabled])'),
      )
      .filter((el): el is HTMLElement => !!el && !(el as HTMLButtonElement).disabled);

  const onKeyDown = (e: KeyboardEvent) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const items = targets();
    const active = document.activeElement;
    const fromInput = active === inputRef.current;
    if (fromInput && (e.key === 'Home' || e.key === 'End')) return; // the caret's keys in a text field
    const row = active?.closest('[data-pick-row]');
    const at = items.findIndex((el) => el === active || (!!row && row.contains(el)));
    let next: HTMLElement | null | undefined;
    if (e.key === 'Home') next = items[0];
    else if (e.key === 'End') next = items[items.length - 1];
    else if (e.key === 'ArrowDown') next = fromInput ? items[0] : items[at + 1];
    else next = at <= 0 ? inputRef.current : items[at - 1];
    if (!next) return;
    e.preventDefault();
    next.focus();
  };

  const name = (u: User) => u.displayName || u.username;
  const text = (u: User) => (
    <span className="person-text">
      <span className="person-name">{name(u)}</span>
      {u.displayName !== u.username && <span className="person-sub muted">@{u.username}</span>}
    </span>
  );
  const row = (u: User): ReactNode => {
    switch (mode.kind) {
      case 'open':
        return (
          <button
            key={u.id}
            type="button"
            className="person pick"
            data-pick-row
            onClick={() => mode.onPick(u)}
            disabled={!!mode.busyId}
          >
            <Avatar id={u.id} name={name(u)} size={36} presence={presence[u.id]?.status} />
            {text(u)}
            {mode.busyId === u.id && <span className="spinner" aria-hidden="true" />}
          </button>
        );
      case 'select': {
        const picked = mode.selected.some((p) => p.id === u.id);
        return (
          <label key={u.id} className="person pick" data-pick-row>
            <Avatar id={u.id} name={name(u)} size={36} presence={presence[u.id]?.status} />
            {text(u)}
            <input
              type="checkbox"
              checked={picked}
              disabled={!picked && mode.full}
              onChange={() => mode.onToggle(u)}
              aria-label={name(u)}
            />
          </label>
        );
      }
      case 'action':
        return (
          <div key={u.id} data-pick-row>
            <PersonRow user={u}>{mode.action(u)}</PersonRow>
          </div>
        );
    }
  };

  const input = (
    <input
      ref={inputRef}
      type="text"
      enterKeyHint="search"
      autoComplete="off"
      className="search-input"
      aria-label={label}
      placeholder={t('dm.searchHint')}
      value={query}
      onChange={(e) => setQuery(e.target.value)}
      autoFocus={autoFocus}
    />
  );
  return (
    <div className="user-picker" onKeyDown={onKeyDown}>
      {beside ? (
        <div className="row">
          {input}
          {beside}
        </div>
      ) : (
        input
      )}
      {headings && <h3 className="section-label">{searching ? headings[1] : headings[0]}</h3>}
      <div className="pick-list" role="group" aria-label={label} ref={listRef}>
        {list.map(row)}
        {searching && !loading && list.length === 0 && <p className="muted empty-note">{t('dm.noResults')}</p>}
        {!searching && suggestions && list.length === 0 && <p className="muted empty-note">{t('dm.searchHint')}</p>}
      </div>
    </div>
  );
}
