import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { useChat, useChatStore } from '../state/context';
import { Icon } from './Icon';

/** Shows when the live connection is down; quiet during the first second of connecting. */
export function ConnectionBanner() {
  const { t } = useI18n();
  const store = useChatStore();
  const connection = useChat((s) => s.connection);
  const [browserOnline, setBrowserOnline] = useState(() => navigator.onLine);
  const [grace, setGrace] = useState(true);

  useEffect(() => {
    const on = () => setBrowserOnline(navigator.onLine);
    window.addEventListener('online', on);
    window.addEventListener('offline', on);
    const timer = setTimeout(() => setGrace(false), 1200);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', on);
      clearTimeout(timer);
    };
  }, []);

  const down = connection !== 'online';
  const show = down && !(grace && connection === 'connecting');
  const text = !browserOnline
    ? t('conn.offline')
    : connection === 'connecting'
      ? t('conn.connecting')
      : connection === 'reconnecting'
        ? t('conn.reconnecting')
        : t('conn.offline');
  return (
    <div className="conn-banner" data-show={show} data-state={browserOnline ? connection : 'offline'} role="status">
      {show && (
        <>
          <Icon name={browserOnline ? 'retry' : 'wifiOff'} size={16} className={browserOnline ? 'spin-slow' : ''} />
          <span>{text}</span>
          {browserOnline && connection !== 'connecting' && (
            <button type="button" className="link-btn" onClick={() => store.backend.reconnectNow()}>
              {t('conn.retry')}
            </button>
          )}
        </>
      )}
    </div>
  );
}
