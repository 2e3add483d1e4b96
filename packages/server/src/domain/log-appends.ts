/**
 * What each event stores in the update log, and who gets it: the one place that builds a
 * `LogAppend`. A stored entry keeps ids only; EventRouter.hydrate (events.ts) turns it into the
 * wire event when it is read, so the two functions of one event type are written to match.
 * (message.created is the exception: the store writes it with the message, to the members of
 * the moment of the commit, as `{channelId, messageId}`.)
 */
import type { FriendRequestRecord, LogAppend } from '../ports/store.js';

/** read.updated (`{channelId, userId, messageId}`): the reader's devices, and whoever else is listed. */
export function readUpdated(channelId: string, readerId: string, messageId: string, to: readonly string[]): LogAppend {
  return { userIds: to, type: 'read.updated', channelId, messageId, data: { userId: readerId } };
}

/** channel.created (`{channel}`), to every member. */
export function channelCreated(channelId: string, memberIds: readonly string[]): LogAppend {
  return { userIds: memberIds, type: 'channel.created', channelId };
}

/** channel.updated (`{channel}`): a rename or a role change, to every member. */
export function channelUpdated(channelId: string, memberIds: readonly string[]): LogAppend {
  return { userIds: memberIds, type: 'channel.updated', channelId };
}

/** member.added (`{channel, userId}`), to every member, the new one included. */
export function memberAdded(channelId: string, userId: string, to: readonly string[]): LogAppend {
  return { userIds: to, type: 'member.added', channelId, data: { userId } };
}

/** member.removed (`{channel, userId}`), to every member, the removed one included. */
export function memberRemoved(channelId: string, userId: string, to: readonly string[]): LogAppend {
  return { userIds: to, type: 'member.removed', channelId, data: { userId } };
}

/** friend.requested (`{request}`), to both users: the addressee first. */
export function friendRequested(request: FriendRequestRecord): LogAppend {
  return {
    userIds: [request.toUserId, request.fromUserId],
    type: 'friend.requested',
    data: { requestId: request.id, fromUserId: request.fromUserId, toUserId: request.toUserId },
  };
}

/** friend.added (`{friend}`) to each of the two, naming the other: `a`'s entry first. */
export function friendsAdded(a: string, b: string): LogAppend[] {
  return [
    { userIds: [a], type: 'friend.added', data: { userId: b } },
    { userIds: [b], type: 'friend.added', data: { userId: a } },
  ];
}

/** friend.removed (`{userId}`) to each of the two, naming the other: `a`'s entry first. */
export function friendsRemoved(a: string, b: string): LogAppend[] {
  return [
    { userIds: [a], type: 'friend.removed', data: { userId: b } },
    { userIds: [b], type: 'friend.removed', data: { userId: a } },
  ];
}

/** user.updated (`{user}`): the user's own devices and everyone who shows them. */
export function userUpdated(userId: string, to: readonly string[]): LogAppend {
  return { userIds: to, type: 'user.updated', data: { userId } };
}

/**
 * message.updated (`{message}`) and message.deleted (`{message}`), to every member: the entry
 * keeps the ids, and the message is read when the entry is (its state then, so a replay ends
 * where everyone else is).
 */
export function messageChanged(
  type: 'message.updated' | 'message.deleted',
  channelId: string,
  messageId: string,
  to: readonly string[],
): LogAppend {
  return { userIds: to, type, channelId, messageId };
}

/**
 * reaction.added / reaction.removed (`{channelId, messageId, emoji, userId}`), to every member:
 * who and which emoji, so that applying one twice is a set insert (or removal) done twice.
 */
export function reactionChanged(
  type: 'reaction.added' | 'reaction.removed',
  channelId: string,
  messageId: string,
  userId: string,
  emoji: string,
  to: readonly string[],
): LogAppend {
  return { userIds: to, type, channelId, messageId, data: { userId, emoji } };
}

/** user.blocked (`{userId}`): the blocker's own devices only (the blocked user learns nothing). */
export function userBlocked(blockerId: string, blockedId: string): LogAppend {
  return { userIds: [blockerId], type: 'user.blocked', data: { userId: blockedId } };
}

/** user.unblocked (`{userId}`): the blocker's own devices only. */
export function userUnblocked(blockerId: string, blockedId: string): LogAppend {
  return { userIds: [blockerId], type: 'user.unblocked', data: { userId: blockedId } };
}

/** channel.settings.updated (`{channelId, muted}`): a user's own setting, to their own devices only. */
export function channelSettingsUpdated(channelId: string, userId: string, muted: boolean): LogAppend {
  return { userIds: [userId], type: 'channel.settings.updated', channelId, data: { muted: String(muted) } };
}
