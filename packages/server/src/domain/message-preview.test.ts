import { limits, type Message } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { messagePreview, truncateText } from './message-preview.js';

const message = (text: string): Message => ({ id: '1', channelId: '2', senderId: '3', text, createdAt: 'x' });

describe('truncateText', () => {
  it('leaves a text of at most the limit whole, counting code points (an emoji is one)', () => {
    expect(truncateText('a'.repeat(5), 5)).toBeUndefined();
    expect(truncateText('😀'.repeat(5), 5)).toBeUndefined();
  });

  it('cuts a longer text at the limit in code points, never inside a surrogate pair', () => {
    expect(truncateText('a'.repeat(6), 5)).toBe('aaaaa');
    expect(truncateText('😀'.repeat(6), 5)).toBe('😀'.repeat(5));
  });

  it('cuts before a grapheme that would not fit whole', () => {
    // "e" + combining acute is one grapheme of two code points; the limit falls between them.
    expect(truncateText('abcde\u0301f', 5)).toBe('abcd');
    // A family emoji (7 code points joined by ZWJ) does not lose its last members.
    expect(truncateText(`ab${'👩‍👩‍👧‍👦'}c`, 5)).toBe('ab');
  });

  it('cuts at a code point when even the first grapheme is longer than the limit', () => {
    expect(truncateText(`e${'\u0301'.repeat(10)}`, 5)).toBe(`e${'\u0301'.repeat(4)}`);
  });
});

describe('messagePreview', () => {
  it('flags a preview and keeps the message whole and unflagged when it fits', () => {
    const long = message('x'.repeat(limits.maxTextCodePoints));
    expect(messagePreview(long)).toEqual({ ...long, text: 'x'.repeat(limits.previewCodePoints), textTruncated: true });
    const short = message('x'.repeat(limits.previewCodePoints));
    expect(messagePreview(short)).toEqual(short);
    expect(messagePreview(short)).not.toHaveProperty('textTruncated');
  });
});
