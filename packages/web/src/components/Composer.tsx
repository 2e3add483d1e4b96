import { countCodePoints, limits } from '@parley/protocol';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { lastEditable } from '../state/message-changes';
import { ComposerMode } from './ComposerMode';
import { Icon } from './Icon';
import { MentionSuggestions, useMentionAutocomplete } from './MentionSuggestions';
import { useMessageActions } from './message-actions';

const max = limits.maxTextCodePoints;
/** The counter appears from here on ("near the limit"). */
export const counterFrom = Math.floor(max * 0.9);
export const sentEvent = 'parley:sent';

const draftKey = (userId: string, channelId: string) => `parley.draft.${userId}.${channelId}`;

function readDraft(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function writeDraft(key: string, text: string): void {
  try {
    if (text) localStorage.setItem(key, text);
    else localStorage.removeItem(key);
  } catch {
    // storage full or unavailable: the draft lives until the page closes
  }
}

/**
 * Enter sends, Shift+Enter adds a line. While an IME is composing (Korean, Japanese, Chinese),
 * Enter only commits the composition: `isComposing` is true (Chrome, Firefox) or the key code
 * is 229 (Safari reports compositionend before the keydown).
 */
export function isSendKey(
  e: Pick<KeyboardEvent, 'key' | 'shiftKey' | 'altKey' | 'ctrlKey' | 'metaKey'> & {
    nativeEvent: { isComposing?: boolean; keyCode?: number };
  },
): boolean {
  if (e.key !== 'Enter' || e.shiftKey || e.altKey) return false;
  if (e.nativeEvent.isComposing || e.nativeEvent.keyCode === 229) return false;
  return true;
}

export function Composer({ channelId, placeholderName }: { channelId: string; placeholderName: string }) {
  const { t, language } = useI18n();
  const store = useChatStore();
  const meId = useChat((s) => s.me.id);
  const key = draftKey(meId, channelId);
  const [text, setText] = useState(() => readDraft(key));
  const ref = useRef<HTMLTextAreaElement>(null);
  const composing = useRef(false);
  const saveTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(text);
  latest.current = text;
  const [caret, setCaret] = useState(0);
  const pendingCaret = useRef<number | undefined>(undefined);
  const mention = useMentionAutocomplete(channelId, text, caret, (value, at) => {
    pendingCaret.current = at;
    setCaret(at);
    onChange(value);
  });
  // Replying or editing.
  const { mode, setMode } = useMessageActions();
  const users = useChat((s) => s.users);
  const editing = mode.editing;
  useEffect(() => {
    if (editing) setText(editing.text);
    if (editing || mode.replyTo) ref.current?.focus();
  }, [editing, mode.replyTo]);

  // Drafts survive reloads and switching channels.
  useEffect(() => {
    const flush = () => {
      clearTimeout(saveTimer.current);
      writeDraft(key, latest.current);
    };
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [key]);

  useEffect(() => {
    if (window.matchMedia?.('(pointer: fine)').matches) ref.current?.focus();
  }, [channelId]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, Math.round(window.innerHeight * 0.4))}px`;
    if (pendingCaret.current !== undefined) {
      el.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = undefined;
    }
  }, [text]);

  const length = text.length >= counterFrom ? countCodePoints(text) : text.length;
  const over = length - max;
  const trimmed = text.trim();
  const canSend = trimmed.length > 0 && over <= 0;

  function onChange(value: string) {
    setText(value);
    clearTimeout(saveTimer.current);
    saveTimer.current = setTimeout(() => writeDraft(key, value), 300);
    if (value) store.typing(channelId);
  }

  const send = useCallback(() => {
    const value = latest.current.trim();
    if (!value || countCodePoints(value) > max) return;
    if (editing) {
      if (value !== editing.text) store.changeMessage({ kind: 'edit', channelId, messageId: editing.id, text: value });
    } else {
      store.send(channelId, value, mode.replyTo?.id);
    }
    if (editing || mode.replyTo) setMode({});
    setText('');
    latest.current = '';
    clearTimeout(saveTimer.current);
    writeDraft(key, '');
    window.dispatchEvent(new CustomEvent(sentEvent, { detail: channelId }));
    ref.current?.focus();
  }, [store, channelId, key, editing, mode.replyTo, setMode]);

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (composing.current && e.key === 'Enter') return;
    if (mention.onKeyDown(e)) return;
    if (isSendKey(e)) {
      e.preventDefault();
      send();
    } else if (e.key === 'Escape' && (editing || mode.replyTo)) {
      e.preventDefault();
      if (editing) setText('');
      setMode({});
    } else if (e.key === 'ArrowUp' && text === '' && !editing) {
      // Up on an empty composer edits your last message.
      const last = lastEditable(store.state, channelId);
      if (last) {
        e.preventDefault();
        setMode({ editing: last });
      }
    }
  };

  const nf = new Intl.NumberFormat(language);
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <MentionSuggestions id={`mentions-${channelId}`} autocomplete={mention} />
      <ComposerMode
        mode={mode}
        users={users}
        onCancel={() => {
          if (editing) setText('');
          setMode({});
        }}
      />
      <div className={`composer-box${over > 0 ? ' over' : ''}`}>
        <textarea
          ref={ref}
          rows={1}
          aria-label={t('composer.label')}
          placeholder={t('composer.placeholder', { name: placeholderName })}
          value={text}
          onChange={(e) => {
            setCaret(e.target.selectionStart);
            onChange(e.target.value);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onCompositionStart={() => {
            composing.current = true;
          }}
          onCompositionEnd={() => {
            composing.current = false;
          }}
          aria-describedby={length >= counterFrom ? `counter-${channelId}` : undefined}
          enterKeyHint="send"
          dir="auto"
        />
        {length >= counterFrom && (
          <span id={`counter-${channelId}`} className={`counter${over > 0 ? ' over' : ''}`} aria-live="polite">
            {over > 0 ? t('composer.tooLong', { count: nf.format(over) }) : `${nf.format(length)} / ${nf.format(max)}`}
          </span>
        )}
      </div>
      <button
        type="submit"
        className="send-btn"
        aria-label={t('composer.send')}
        title={t('composer.send')}
        disabled={!canSend}
      >
        <Icon name="send" />
      </button>
    </form>
  );
}
