import type { User } from '@parley/protocol';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { useChat } from '../state/context';
import { Avatar } from './Avatar';

/** Avatar, name, @username and presence; `children` go on the right (actions). */
export function PersonRow({ user, children, sub }: { user: User; children?: ReactNode; sub?: ReactNode }) {
  const { t } = useI18n();
  const presence = useChat((s) => s.presence[user.id]);
  return (
    <div className="person">
      <Avatar id={user.id} name={user.displayName || user.username} size={36} presence={presence?.status} />
      <span className="person-text">
        <span className="person-name">{user.displayName || user.username}</span>
        <span className="person-sub muted">
          {sub ??
            [
              user.displayName !== user.username ? `@${user.username}` : '',
              presence?.status === 'online' ? t('chat.online') : '',
            ]
              .filter(Boolean)
              .join(' · ')}
        </span>
      </span>
      {children}
    </div>
  );
}
