/**
 * Edits, deletes and reactions folded into the state: a message event replaces the
 * message wherever the state holds it (the loaded history window, the channel's lastMessage); a
 * reaction event is a set operation on that emoji's userIds (applyReaction). Both are idempotent:
 * applying an event twice, or a replayed one, changes nothing more.
 */
import { applyReaction } from '@parley/client';
import type { Message, SyncEvent } from '@parley/protocol';
import type { State } from './reducer';

type ReactionEvent = Extract<SyncEvent, { type: 'reaction.added' | 'reaction.removed' }>;

/** The state with `message` (edited, or a tombstone) in place of the one with its id. */
export function withChangedMessage(state: State, message: Message): State {
  return mapMessage(state, message.channelId, message.id, () => message);
}

/**
 * Our own message as the server stored it, in place of the copy made from its ack, which lacks
 * what only the server knows (the reply's quote). Only then: the ack's copy is otherwise the same.
 */
export function withServerCopy(state: State, message: Message): State {
  if (message.replyTo === undefined) return state;
  return mapMessage(state, message.channelId, message.id, (held) => (held.replyTo === undefined ? message : held));
}

export function withReaction(state: State, e: ReactionEvent): State {
  return mapMessage(state, e.channelId, e.messageId, (m) => applyReaction(m, e, state.me.id));
}

function mapMessage(state: State, channelId: string, messageId: string, change: (m: Message) => Message): State {
  let next = state;
  const history = state.histories[channelId];
  const index = history?.messages.findIndex((m) => m.id === messageId) ?? -1;
  if (history && index >= 0) {
    const updated = change(history.messages[index]!);
    if (updated !== history.messages[index]) {
      const messages = history.messages.slice();
      messages[index] = updated;
      next = { ...next, histories: { ...next.histories, [channelId]: { ...history, messages } } };
    }
  }
  const channel = state.channels[channelId];
  if (channel?.lastMessage?.id === messageId) {
    const updated = change(channel.lastMessage);
    if (updated !== channel.lastMessage) {
      // The list's preview of the message: no reactions needed there.
      next = { ...next, channels: { ...next.channels, [channelId]: { ...channel, lastMessage: updated } } };
    }
  }
  return next;
}

/** The user's newest message in the loaded history that can still be edited (Up on an empty composer). */
export function lastEditable(state: State, channelId: string): Message | undefined {
  const messages = state.histories[channelId]?.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.senderId === state.me.id && m.deletedAt === undefined) return m;
  }
  return undefined;
}
