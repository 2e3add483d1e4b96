import type { PresenceStatus } from '@parley/protocol';

const palette = ['#5b6ee1', '#e0685b', '#2f9e77', '#c2831f', '#9a5bd6', '#d6578f', '#2b8fc9', '#6f8a1f'];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** One or two letters for an avatar: initials of the first two words, or the first two characters. */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/[\s._-]+/u)
    .filter(Boolean);
  if (words.length >= 2) return (Array.from(words[0]!)[0]! + Array.from(words[1]!)[0]!).toUpperCase();
  return Array.from(words[0] ?? '?')
    .slice(0, 2)
    .join('')
    .toUpperCase();
}

export function Avatar({
  id,
  name,
  size = 40,
  presence,
  group = false,
}: {
  id: string;
  name: string;
  size?: number;
  presence?: PresenceStatus;
  group?: boolean;
}) {
  const color = palette[hash(id) % palette.length];
  return (
    <span
      className={group ? 'avatar avatar-group' : 'avatar'}
      style={{ width: size, height: size, fontSize: Math.round(size * 0.4), background: color }}
      aria-hidden="true"
    >
      {initials(name)}
      {presence && <span className={`presence-dot ${presence}`} />}
    </span>
  );
}

/** A standalone presence dot with an accessible label, for lists. */
export function PresenceDot({ status, label }: { status: PresenceStatus; label: string }) {
  return <span className={`presence-dot inline ${status}`} role="img" aria-label={label} />;
}
