import { useContext, useSyncExternalStore } from 'react';
import { useI18n } from '../i18n';
import { blockList, useBlocked } from '../state/blocks';
import { StoreContext, useChatStore } from '../state/context';

const noSubscription = () => () => undefined;

/** Whether this user blocked `userId` (false outside a signed-in app). */
export function useIsBlocked(userId: string): boolean {
  const store = useContext(StoreContext);
  const list = store ? blockList(store.backend) : undefined;
  return useSyncExternalStore(list?.subscribe ?? noSubscription, () => list?.ids.has(userId) ?? false);
}

/** A compact block/unblock switch for a person (a DM's header, a group member's row). */
export function BlockToggle({ userId, name }: { userId: string; name: string }) {
  const { t } = useI18n();
  const store = useChatStore();
  const blocked = useBlocked(store.backend).has(userId);
  const label = `${blocked ? t('block.unblock') : t('block.block')}: ${name}`;
  const toggle = () => {
    if (!blocked && !window.confirm(t('block.confirm', { name }))) return;
    void (blocked ? store.backend.api.unblock(userId) : store.backend.api.block(userId)).catch(() =>
      window.alert(t('common.error')),
    );
  };
  return (
    <button
      type="button"
      className={`icon-btn block-toggle${blocked ? ' on' : ''}`}
      aria-label={label}
      title={label}
      aria-pressed={blocked}
      onClick={toggle}
    >
      <span aria-hidden="true">⊘</span>
    </button>
  );
}
