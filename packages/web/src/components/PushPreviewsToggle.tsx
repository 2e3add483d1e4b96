import type { PushSettings } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { useChatStore } from '../state/context';

/** Whether notifications show the message text (the user's setting, on every device). */
export function PushPreviewsToggle() {
  const { t } = useI18n();
  const store = useChatStore();
  const [previews, setPreviews] = useState<boolean | undefined>(undefined);
  useEffect(() => {
    let live = true;
    store.backend.api
      .request<PushSettings>('GET', '/v1/push/settings')
      .then((s) => live && setPreviews(s.previews))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [store]);
  if (previews === undefined) return null;
  return (
    <label className="check-row">
      <input
        type="checkbox"
        checked={previews}
        onChange={(e) => {
          const next = e.target.checked;
          setPreviews(next);
          store.backend.api
            .request<PushSettings>('PATCH', '/v1/push/settings', { body: { previews: next } })
            .then((s) => setPreviews(s.previews))
            .catch(() => setPreviews(!next));
        }}
      />
      <span>{t('push.previews')}</span>
    </label>
  );
}
