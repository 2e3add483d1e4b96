import type { ReadPositionFrame } from '@parley/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadReceipts } from './read-receipts.js';

describe('group read receipts', () => {
  let sent: { to: readonly string[]; frame: ReadPositionFrame }[];
  let receipts: ReadReceipts;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    receipts = new ReadReceipts(async (to, frame) => void sent.push({ to, frame }), 1000);
  });
  afterEach(() => vi.useRealTimers());

  const frame = (channelId: string, userId: string, messageId: string): ReadPositionFrame => ({
    op: 'read',
    channelId,
    userId,
    messageId,
  });

  it('sends the first move at once and coalesces the rest of the window into the newest', () => {
    receipts.share('g', 'r', '1', ['a', 'b']);
    expect(sent).toEqual([{ to: ['a', 'b'], frame: frame('g', 'r', '1') }]);
    receipts.share('g', 'r', '2', ['a', 'b']);
    receipts.share('g', 'r', '3', ['a', 'b', 'c']);
    vi.advanceTimersByTime(999);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([
      { to: ['a', 'b'], frame: frame('g', 'r', '1') },
      { to: ['a', 'b', 'c'], frame: frame('g', 'r', '3') },
    ]);
  });

  it('keeps readers and groups apart, and starts over once a window passes quietly', () => {
    receipts.share('g', 'r', '1', ['a']);
    receipts.share('g', 's', '1', ['a']);
    receipts.share('h', 'r', '5', ['b']);
    expect(sent.map((s) => s.frame)).toEqual([frame('g', 'r', '1'), frame('g', 's', '1'), frame('h', 'r', '5')]);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(3); // nothing held: nothing more
    receipts.share('g', 'r', '2', ['a']);
    expect(sent.at(-1)?.frame).toEqual(frame('g', 'r', '2'));
  });

  it('sends a window’s held move only after the window that carried it out closes too', () => {
    receipts.share('g', 'r', '1', ['a']);
    receipts.share('g', 'r', '2', ['a']);
    vi.advanceTimersByTime(1000); // '2' goes out and opens a new window
    receipts.share('g', 'r', '3', ['a']);
    expect(sent.map((s) => s.frame.messageId)).toEqual(['1', '2']);
    vi.advanceTimersByTime(1000);
    expect(sent.map((s) => s.frame.messageId)).toEqual(['1', '2', '3']);
    vi.advanceTimersByTime(5000);
    expect(sent).toHaveLength(3);
  });
});
