/**
 * Store arguments as the domain builds them, for tests that set up state directly on a store:
 * the log entries come from the domain's builders (domain/log-appends.ts), never restated here.
 */
import { channelCreated } from '../../domain/log-appends.js';
import type { LogAppend, NewDm, NewGroup } from '../store.js';

/** A DM between `a` and `b`, with its channel.created to both (getOrCreateDm's arguments). */
export function dmOf(id: string, a: string, b: string, createdAt: string): [NewDm, LogAppend[]] {
  const members = [
    { userId: a, role: 'member' as const },
    { userId: b, role: 'member' as const },
  ] as const;
  return [{ id, members, createdAt }, [channelCreated(id, [a, b])]];
}

/** A group owned by `ownerId` with `memberIds` as members (createGroup's arguments). */
export function groupOf(
  id: string,
  name: string,
  ownerId: string,
  memberIds: readonly string[],
  createdAt: string,
): [NewGroup, LogAppend[]] {
  const members = [
    { userId: ownerId, role: 'owner' as const },
    ...memberIds.filter((m) => m !== ownerId).map((userId) => ({ userId, role: 'member' as const })),
  ];
  return [
    { id, name, members, createdAt },
    [
      channelCreated(
        id,
        members.map((m) => m.userId),
      ),
    ],
  ];
}
