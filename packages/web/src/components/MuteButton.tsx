import type { Channel } from '@parley/protocol';
import { useState } from 'react';
import { useI18n } from '../i18n';
import { useChatStore } from '../state/context';
import { IconButton } from './IconButton';

/**
 * Mute: no push notifications from this conversation (mentions of you still come), on every
 * device of yours. The channel's `muted` follows the server (and other devices' changes).
 */
export function MuteButton({ channel }: { channel: Channel }) {
  const { t } = useI18n();
  const store = useChatStore();
  const [busy, setBusy] = useState(false);
  const muted = channel.muted === true;
  return (
    <IconButton
      icon={muted ? 'bellOff' : 'bell'}
      label={t('push.mute')}
      title={muted ? t('push.mutedHint') : t('push.mute')}
      aria-pressed={muted}
      disabled={busy}
      onClick={() => {
        setBusy(true);
        store
          .setMuted(channel.id, !muted)
          .catch(() => undefined)
          .finally(() => setBusy(false));
      }}
    />
  );
}
