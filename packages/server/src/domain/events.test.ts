import type { Message } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { messageJson } from './events.js';

const message = (text: string, clientMsgId = 'c1'): Message => ({
  id: '117820932617142272',
  channelId: '3',
  senderId: '1',
  text,
  createdAt: '2026-12-03T01:00:00.000Z',
  clientMsgId,
});

const long = 'lorem ipsum dolor sit amet '.repeat(400);

describe('messageJson', () => {
  it.each([
    ['a short text', 'hello'],
    ['a long plain text', long],
    ['a long text with a quote', `${long}"${long}`],
    ['a long text with a backslash', `${long}\\`],
    ['a long text with a newline', `line one\n${long}`],
    ['a long text with a control character', `${long}\u0001`],
    ['a long text with emoji', `${long}👍🏽`],
    ['a long text with a lone surrogate', `${long}\ud800`],
    ['a long text with non-Latin letters and U+2028', `${long}한국어 \u2028 ü`],
  ])('writes %s exactly as JSON.stringify does', (_, text) => {
    expect(messageJson(message(text))).toBe(JSON.stringify(message(text)));
  });

  it('splices the text into the text field, whatever the other fields hold', () => {
    const tricky = message(long, '"text":""');
    expect(messageJson(tricky)).toBe(JSON.stringify(tricky));
    expect(JSON.parse(messageJson(tricky))).toEqual(tricky);
  });

  it('leaves out a field the message does not have', () => {
    const { clientMsgId: _, ...withoutKey } = message(long);
    expect(messageJson(withoutKey)).toBe(JSON.stringify(withoutKey));
  });
});
