/**
 * The composer's `@` autocomplete: while the word before the caret is `@` and the start of a
 * name, the channel's members whose username or display name starts with it are offered; Enter or
 * Tab (or a click) puts `@username ` in its place. The server decides what a mention is
 * (`@username` of a member); this only helps type one.
 */
import type { ChannelMember } from '@parley/protocol';
import { useState, type KeyboardEvent } from 'react';
import { useI18n } from '../i18n';
import { useChat } from '../state/context';
import { Avatar } from './Avatar';

const MAX_OPTIONS = 8;
const MENTION_AT = /(?:^|[\s(])@([a-z0-9_.-]{0,32})$/i;

/** The `@word` being typed just before the caret: where its `@` is, and the word so far. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | undefined {
  const m = MENTION_AT.exec(text.slice(0, caret));
  if (!m) return undefined;
  return { start: caret - m[1]!.length - 1, query: m[1]!.toLowerCase() };
}

export interface MentionAutocomplete {
  options: ChannelMember[];
  active: number;
  choose(member: ChannelMember): void;
  /** Handles the list's keys; true when the key was used (the composer must not act on it). */
  onKeyDown(e: KeyboardEvent): boolean;
}

export function useMentionAutocomplete(
  channelId: string,
  text: string,
  caret: number,
  apply: (text: string, caret: number) => void,
): MentionAutocomplete {
  const meId = useChat((s) => s.me.id);
  const members = useChat((s) => s.channels[channelId]?.members);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | undefined>(undefined);
  const q = mentionQuery(text, caret);
  const options =
    q && q.start !== dismissed
      ? (members ?? [])
          .filter(
            (m) => m.id !== meId && (m.username.startsWith(q.query) || m.displayName.toLowerCase().startsWith(q.query)),
          )
          .slice(0, MAX_OPTIONS)
      : [];
  const current = Math.min(active, Math.max(0, options.length - 1));

  const choose = (member: ChannelMember) => {
    if (!q) return;
    const insert = `@${member.username} `;
    apply(text.slice(0, q.start) + insert + text.slice(caret), q.start + insert.length);
    setActive(0);
  };

  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (options.length === 0) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : options.length - 1;
      setActive((current + step) % options.length);
      return true;
    }
    if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      choose(options[current]!);
      return true;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      setDismissed(q?.start);
      return true;
    }
    return false;
  };

  return { options, active: current, choose, onKeyDown };
}

export function MentionSuggestions({ id, autocomplete }: { id: string; autocomplete: MentionAutocomplete }) {
  const { t } = useI18n();
  if (autocomplete.options.length === 0) return null;
  return (
    <ul className="mention-list" role="listbox" id={id} aria-label={t('mention.suggestions')}>
      {autocomplete.options.map((member, i) => (
        <li
          key={member.id}
          id={`${id}-${member.id}`}
          role="option"
          aria-selected={i === autocomplete.active}
          className={i === autocomplete.active ? 'active' : undefined}
          onMouseDown={(e) => {
            e.preventDefault(); // keep the focus in the composer
            autocomplete.choose(member);
          }}
        >
          <Avatar id={member.id} name={member.displayName || member.username} size={24} />
          <span className="mention-name">{member.displayName || member.username}</span>
          <span className="muted">@{member.username}</span>
        </li>
      ))}
    </ul>
  );
}
