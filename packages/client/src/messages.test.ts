import type { Message } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { applyReaction, replaceMessage } from './messages.js';

const base: Message = { id: '5', channelId: 'c', senderId: 'u1', text: 'hi', createdAt: 't' };
const added = (userId: string, emoji = '👍') => ({ type: 'reaction.added' as const, messageId: '5', emoji, userId });
const removed = (userId: string, emoji = '👍') => ({
  type: 'reaction.removed' as const,
  messageId: '5',
  emoji,
  userId,
});

describe('applyReaction', () => {
  it('adds and removes users as a set, with count and me following; twice changes nothing', () => {
    const one = applyReaction(base, added('u2'), 'u1');
    expect(one.reactions).toEqual([{ emoji: '👍', count: 1, me: false, userIds: ['u2'] }]);
    expect(applyReaction(one, added('u2'), 'u1')).toBe(one);
    const two = applyReaction(applyReaction(one, added('u1'), 'u1'), added('u1', '🎉'), 'u1');
    expect(two.reactions).toEqual([
      { emoji: '👍', count: 2, me: true, userIds: ['u2', 'u1'] },
      { emoji: '🎉', count: 1, me: true, userIds: ['u1'] },
    ]);
    const back = applyReaction(
      applyReaction(applyReaction(two, removed('u2'), 'u1'), removed('u1'), 'u1'),
      removed('u1'),
      'u1',
    );
    expect(back.reactions).toEqual([{ emoji: '🎉', count: 1, me: true, userIds: ['u1'] }]);
    expect(applyReaction(back, removed('u1', '🎉'), 'u1')).toEqual(base);
  });

  it('leaves a tombstone and another message alone', () => {
    const tombstone = { ...base, text: '', deletedAt: 't2' };
    expect(applyReaction(tombstone, added('u2'), 'u1')).toBe(tombstone);
    expect(applyReaction({ ...base, id: '6' }, added('u2'), 'u1').reactions).toBeUndefined();
  });
});

describe('replaceMessage', () => {
  it('replaces by id in a sorted list, and reports a message it does not hold', () => {
    const list: Message[] = [base, { ...base, id: '7' }];
    expect(replaceMessage(list, { ...base, id: '7', text: 'edited' })).toBe(true);
    expect(list[1]?.text).toBe('edited');
    expect(replaceMessage(list, { ...base, id: '6' })).toBe(false);
  });
});
