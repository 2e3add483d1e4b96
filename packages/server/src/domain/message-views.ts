/**
 * A message as one user reads it: the stored message plus its reactions, aggregated with `me`
 * for that reader, and its reply's preview (the answered message's current text, none once it
 * is deleted). History pages, /v1/sync, replays and live events of changed messages all go
 * through here; a new message's message.created is published as sent (it has no reactions, and
 * its reply preview was taken when it was sent).
 */
import { limits, type Message, type Reaction } from '@parley/protocol';
import type { MessageChangeStore, ReactionRecord } from '../ports/message-changes.js';

export class MessageViews {
  constructor(private readonly store: Pick<MessageChangeStore, 'listReactions' | 'replySources'>) {}

  /** The messages as `viewerId` reads them, in the same order. */
  async forViewer(messages: readonly Message[], viewerId: string): Promise<Message[]> {
    return this.forViewers(messages.map((message) => ({ message, viewerId })));
  }

  /** Each message as its own viewer reads it (a page of log entries of several users), in order. */
  async forViewers(items: readonly { message: Message; viewerId: string }[]): Promise<Message[]> {
    if (items.length === 0) return [];
    const live = items.filter((item) => item.message.deletedAt === undefined);
    const unique = new Map(live.map(({ message }) => [message.id, message]));
    const refs = [...unique.values()].map((m) => ({ channelId: m.channelId, messageId: m.id }));
    const replyRefs = new Map<string, { channelId: string; messageId: string }>();
    for (const message of unique.values()) {
      if (message.replyTo !== undefined && message.replyTo.preview === undefined) {
        replyRefs.set(message.replyTo.id, { channelId: message.channelId, messageId: message.replyTo.id });
      }
    }
    const [reactions, sources] = await Promise.all([
      refs.length === 0 ? [] : this.store.listReactions(refs),
      replyRefs.size === 0 ? [] : this.store.replySources([...replyRefs.values()], limits.replyPreviewCodePoints),
    ]);
    const byMessage = new Map<string, ReactionRecord[]>();
    for (const reaction of reactions) {
      const list = byMessage.get(reaction.messageId);
      if (list === undefined) byMessage.set(reaction.messageId, [reaction]);
      else list.push(reaction);
    }
    const sourceOf = new Map(sources.map((source) => [source.messageId, source]));
    return items.map(({ message, viewerId }) => {
      if (message.deletedAt !== undefined) return message;
      const view: Message = { ...message };
      const aggregated = aggregate(byMessage.get(message.id) ?? [], viewerId);
      if (aggregated.length > 0) view.reactions = aggregated;
      else delete view.reactions;
      if (message.replyTo !== undefined && message.replyTo.preview === undefined) {
        const source = sourceOf.get(message.replyTo.id);
        view.replyTo = { id: message.replyTo.id, senderId: source?.senderId ?? message.replyTo.senderId };
        if (source?.preview !== undefined) view.replyTo.preview = source.preview;
      }
      return view;
    });
  }
}

/** One chip per emoji, by its first reaction: how many, and whether `viewerId` is among them. */
export function aggregate(reactions: readonly { userId: string; emoji: string }[], viewerId: string): Reaction[] {
  const chips = new Map<string, Reaction>();
  for (const { userId, emoji } of reactions) {
    const chip = chips.get(emoji) ?? { emoji, count: 0, me: false, userIds: [] };
    chip.count++;
    chip.userIds.push(userId);
    if (userId === viewerId) chip.me = true;
    chips.set(emoji, chip);
  }
  return [...chips.values()];
}
