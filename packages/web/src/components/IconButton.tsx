import type { ButtonHTMLAttributes } from 'react';
import { Icon, type IconName } from './Icon';

/** A square icon button; `label` is its accessible name and tooltip. */
export function IconButton({
  icon,
  label,
  badge,
  className,
  ...rest
}: { icon: IconName; label: string; badge?: number } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" className={`icon-btn ${className ?? ''}`} aria-label={label} title={label} {...rest}>
      <Icon name={icon} />
      {badge ? (
        <span className="badge small" aria-hidden="true">
          {badge > 99 ? '99+' : badge}
        </span>
      ) : null}
    </button>
  );
}
