import type { Message, User } from '@parley/protocol';
import { useI18n } from '../i18n';
import { useChatStore } from '../state/context';

/** A message's reactions: one chip per emoji with its count; who, on hover; a press toggles yours. */
export function ReactionChips({ message, users }: { message: Message; users: Readonly<Record<string, User>> }) {
  const { t } = useI18n();
  const store = useChatStore();
  if (!message.reactions || message.deletedAt !== undefined) return null;
  return (
    <div className="reactions">
      {message.reactions.map((r) => {
        const names = r.userIds.map((id) => users[id]?.displayName || users[id]?.username || '…').join(', ');
        const label = t('edits.reactedBy', { names, emoji: r.emoji });
        return (
          <button
            key={r.emoji}
            type="button"
            className={`reaction${r.me ? ' me' : ''}`}
            title={label}
            aria-label={label}
            aria-pressed={r.me}
            onClick={() =>
              store.changeMessage({
                kind: r.me ? 'unreact' : 'react',
                channelId: message.channelId,
                messageId: message.id,
                emoji: r.emoji,
              })
            }
          >
            <span aria-hidden="true">{r.emoji}</span>
            <span className="count" aria-hidden="true">
              {r.count}
            </span>
          </button>
        );
      })}
    </div>
  );
}
