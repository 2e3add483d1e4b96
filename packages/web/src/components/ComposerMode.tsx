import type { User } from '@parley/protocol';
import { useI18n } from '../i18n';
import { Icon } from './Icon';
import type { ComposerMode as Mode } from './message-actions';

/** Above the composer: what it is answering or editing, with a way out (also Escape). */
export function ComposerMode({
  mode,
  users,
  onCancel,
}: {
  mode: Mode;
  users: Readonly<Record<string, User>>;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const target = mode.editing ?? mode.replyTo;
  if (!target) return null;
  const sender = users[target.senderId];
  const name = sender?.displayName || sender?.username || '…';
  return (
    <div className="composer-mode" role="status">
      <Icon name={mode.editing ? 'edit' : 'reply'} size={15} />
      <span className="composer-mode-text">
        <strong>{mode.editing ? t('edits.editing') : t('edits.replyingTo', { name })}</strong>
        <span className="composer-mode-preview" dir="auto">
          {target.text.slice(0, 100)}
        </span>
      </span>
      <button type="button" className="link-btn muted" onClick={onCancel} aria-label={t('edits.cancel')}>
        <Icon name="close" size={15} />
      </button>
    </div>
  );
}
