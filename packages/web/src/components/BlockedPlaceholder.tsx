import { useI18n } from '../i18n';

/** What a message from someone you blocked shows instead of its text (in groups you share). */
export function BlockedPlaceholder({ onReveal }: { onReveal(): void }) {
  const { t } = useI18n();
  return (
    <span className="text blocked-placeholder">
      <em className="muted">{t('block.placeholder')}</em>{' '}
      <button type="button" className="link-btn" onClick={onReveal}>
        {t('block.show')}
      </button>
    </span>
  );
}
