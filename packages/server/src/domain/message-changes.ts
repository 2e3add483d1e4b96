/**
 * Edits, deletes and reactions: who may do what, decided here once; the store applies each
 * change with one log entry per member in the same transaction (ports/message-changes.ts), and
 * the entries are published only after the commit.
 *
 * Rules:
 * - Only the sender edits, within `editWindowMs` of sending (0: always), with the same text rules
 *   as sending. Earlier versions are not kept. Editing a deleted message is `not_found`.
 * - The sender deletes, and so do a group's owner and admins. Deleting a deleted message
 *   succeeds and changes nothing (DELETE is idempotent).
 * - A reaction is one emoji grapheme; a user puts each emoji on a message at most once; a message
 *   carries at most `maxReactionEmoji` distinct emoji (`conflict` past that). Adding a reaction
 *   that is there, or removing one that is not, succeeds and changes nothing.
 * - Nobody learns anything of a channel they are not in: `not_found`.
 * - An edit never notifies through push again, except the members it newly mentions: they are
 *   told as they would have been had the message named them when it was sent.
 * - An edit's text is indexed for search and its mentions found as a new message's are; a
 *   deleted message is found by nobody and mentions nobody (the store does both with the change).
 */
import type { Message, MemberRole } from '@parley/protocol';
import type { MessageChangeStore, MessageRef } from '../ports/message-changes.js';
import type { ChannelRecord, ChannelStore, LogEntry, MessageStore } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { decideAndWrite, STALE } from './decide.js';
import { ChatError, fail } from './errors.js';
import type { EventRouter } from './events.js';
import { messageChanged, reactionChanged } from './log-appends.js';
import { mentionCandidates } from './mentions.js';
import { textProblem, type CommitListener } from './messages.js';
import { indexTokens } from './search-text.js';

export interface MessageChangeOptions {
  /** How long after sending the sender may edit; 0: always. */
  editWindowMs: number;
  /** Distinct emoji one message can carry. */
  maxReactionEmoji: number;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** A grapheme that draws as an emoji: a pictograph (with its modifiers and joiners), a flag or a keycap. */
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3)/u;

/** Whether `emoji` is exactly one emoji grapheme. */
export function isOneEmoji(emoji: string): boolean {
  if (emoji.length === 0 || emoji.length > 64 || !emoji.isWellFormed()) return false;
  const [first, second] = graphemes.segment(emoji);
  return first !== undefined && second === undefined && EMOJI.test(emoji);
}

const canModerate = (channel: ChannelRecord, role: MemberRole): boolean =>
  channel.kind === 'group' && (role === 'owner' || role === 'admin');

export class MessageChangeService {
  constructor(
    private readonly store: MessageChangeStore & Pick<MessageStore, 'getMessage'> & Pick<ChannelStore, 'getChannel'>,
    private readonly events: EventRouter,
    private readonly clock: Clock,
    private readonly options: MessageChangeOptions,
    /** Push notifications, told of the members an edit newly mentions. */
    private readonly push?: CommitListener,
  ) {}

  /** The message with its new text, as the editor reads it. */
  async edit(userId: string, ref: MessageRef, text: string): Promise<Message> {
    const problem = textProblem(text);
    if (problem !== undefined) throw problem;
    const message = await decideAndWrite(async () => {
      const { channel, message } = await this.#read(userId, ref);
      if (message.deletedAt !== undefined) fail('not_found', 'no such message');
      if (message.senderId !== userId) fail('forbidden', 'only the sender can edit a message');
      const window = this.options.editWindowMs;
      if (window > 0 && this.clock.now() - Date.parse(message.createdAt) > window) {
        fail('forbidden', 'this message can no longer be edited');
      }
      if (message.text === text) return message; // the same edit again changes nothing
      const write = await this.store.editMessage({
        ...ref,
        senderId: userId,
        text,
        searchTokens: indexTokens(text),
        mentionNames: mentionCandidates(text),
        at: isoNow(this.clock),
        events: [messageChanged('message.updated', ref.channelId, ref.messageId, memberIds(channel))],
      });
      if (write.status === 'stale') return STALE;
      this.#publish(write.entries);
      const before = new Set(message.mentions);
      const newlyMentioned = (write.message.mentions ?? []).filter((id) => !before.has(id));
      if (newlyMentioned.length > 0) void this.push?.messageCommitted(write.message, newlyMentioned);
      return write.message;
    });
    return (await this.events.views.forViewer([message], userId))[0]!;
  }

  /** Deletes (or finds deleted) the message; its tombstone. */
  async delete(userId: string, ref: MessageRef): Promise<Message> {
    return decideAndWrite(async () => {
      const { channel, role, message } = await this.#read(userId, ref);
      if (message.senderId !== userId && !canModerate(channel, role)) {
        fail('forbidden', "only the sender, or a group's owner or admin, can delete a message");
      }
      if (message.deletedAt !== undefined) return message;
      const write = await this.store.deleteMessage({
        ...ref,
        at: isoNow(this.clock),
        events: [messageChanged('message.deleted', ref.channelId, ref.messageId, memberIds(channel))],
      });
      if (write.status === 'stale') return STALE;
      this.#publish(write.entries);
      return write.message;
    });
  }

  /** Adds or takes back the user's `emoji`; the message as the user reads it then. */
  async react(userId: string, ref: MessageRef, emoji: string, add: boolean): Promise<Message> {
    if (!isOneEmoji(emoji)) fail('invalid_request', 'a reaction is one emoji');
    await decideAndWrite(async () => {
      const { channel, message } = await this.#read(userId, ref);
      if (message.deletedAt !== undefined) fail('not_found', 'no such message');
      const reactions = await this.store.listReactions([ref]);
      const mine = reactions.some((r) => r.userId === userId && r.emoji === emoji);
      if (mine === add) return undefined; // already so: nothing changes
      const distinct = new Set(reactions.map((r) => r.emoji));
      if (add && !distinct.has(emoji) && distinct.size >= this.options.maxReactionEmoji) {
        fail('conflict', `a message carries at most ${this.options.maxReactionEmoji} different emoji`);
      }
      const change = {
        ...ref,
        userId,
        emoji,
        at: isoNow(this.clock),
        events: [
          reactionChanged(
            add ? 'reaction.added' : 'reaction.removed',
            ref.channelId,
            ref.messageId,
            userId,
            emoji,
            memberIds(channel),
          ),
        ],
      };
      const write = add
        ? await this.store.addReaction({ ...change, maxDistinctEmoji: this.options.maxReactionEmoji })
        : await this.store.removeReaction(change);
      if (write.status === 'stale') return STALE;
      this.#publish(write.entries);
      return undefined;
    });
    const message = await this.store.getMessage(ref.channelId, ref.messageId);
    if (message === undefined) fail('not_found', 'no such message');
    return (await this.events.views.forViewer([message], userId))[0]!;
  }

  /** The channel (if `userId` is a member), the user's role and the message; `not_found` otherwise. */
  async #read(
    userId: string,
    ref: MessageRef,
  ): Promise<{ channel: ChannelRecord; role: MemberRole; message: Message }> {
    const channel = await this.store.getChannel(ref.channelId);
    const role = channel?.members.find((m) => m.userId === userId)?.role;
    if (channel === undefined || role === undefined) throw new ChatError('not_found', 'no such channel');
    const message = await this.store.getMessage(ref.channelId, ref.messageId);
    if (message === undefined) fail('not_found', 'no such message');
    return { channel, role, message };
  }

  /**
   * Committed entries go out after the commit. The seam for a search index or mentions: each
   * applied edit and delete passes here with its entries.
   */
  #publish(entries: readonly LogEntry[]): void {
    void this.events.publish(entries);
  }
}

/** Every member gets each change (the members the change was decided with). */
function memberIds(channel: ChannelRecord): string[] {
  return channel.members.map((m) => m.userId);
}
