import type { Message } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import type { History } from '../state/store';
import { isSendKey } from './Composer';
import { buildRows } from './MessageList';

const me = '1';
let n = 100;
function msg(senderId: string, createdAt: string, text = 'hi', clientMsgId?: string): Message {
  const m: Message = { id: String(n++), channelId: 'c', senderId, text, createdAt };
  if (clientMsgId) m.clientMsgId = clientMsgId;
  return m;
}
function hist(messages: Message[], patch: Partial<History> = {}): History {
  return {
    messages,
    hasOlder: false,
    hasNewer: false,
    loadingOlder: false,
    loadingNewer: false,
    loaded: true,
    generation: 1,
    ...patch,
  };
}

describe('message rows', () => {
  it('adds day separators, groups a sender’s burst and places the "new" divider', () => {
    const a = msg('2', '2026-03-01T10:00:00Z');
    const b = msg('2', '2026-03-01T10:01:00Z');
    const c = msg(me, '2026-03-01T10:02:00Z', 'mine', 'cm1');
    const d = msg('2', '2026-03-02T09:00:00Z');
    const rows = buildRows(hist([a, b, c, d]), [], me, { '2': c.id }, b.id);
    expect(rows.map((r) => r.kind)).toEqual(['top', 'day', 'msg', 'msg', 'msg', 'day', 'new', 'msg']);
    const msgs = rows.filter((r) => r.kind === 'msg');
    expect(msgs.map((r) => r.grouped)).toEqual([false, true, false, false]);
    expect(msgs[2]).toMatchObject({ key: 'c:cm1', mine: true, readBy: ['2'] });
  });

  it('puts the outbox after history, without duplicates of what was already sent', () => {
    const sent = msg(me, '2026-03-01T10:00:00Z', 'sent one', 'x1');
    const rows = buildRows(
      hist([sent]),
      [
        { clientMsgId: 'x1', channelId: 'c', text: 'sent one', state: 'pending', queuedAt: '2026-03-01T10:00:00Z' },
        { clientMsgId: 'x2', channelId: 'c', text: 'queued', state: 'failed', queuedAt: '2026-03-01T10:00:05Z' },
      ],
      me,
      undefined,
      undefined,
    );
    expect(rows.map((r) => r.key)).toEqual(['top', rows[1]!.key, 'c:x1', 'c:x2']);
  });

  it('does not guess where the divider goes when the read position is not loaded', () => {
    const rows = buildRows(hist([msg('2', '2026-03-01T10:00:00Z')], { hasOlder: true }), [], me, undefined, '5');
    expect(rows.some((r) => r.kind === 'new')).toBe(false);
  });
});

describe('composer keys', () => {
  const key = (over: Partial<Parameters<typeof isSendKey>[0]> = {}) => ({
    key: 'Enter',
    shiftKey: false,
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    nativeEvent: {},
    ...over,
  });
  it('sends on Enter, not on Shift+Enter', () => {
    expect(isSendKey(key())).toBe(true);
    expect(isSendKey(key({ shiftKey: true }))).toBe(false);
    expect(isSendKey(key({ key: 'a' }))).toBe(false);
  });
  it('never sends while an IME is composing (Korean, Japanese, Chinese)', () => {
    expect(isSendKey(key({ nativeEvent: { isComposing: true } }))).toBe(false);
    expect(isSendKey(key({ nativeEvent: { keyCode: 229 } }))).toBe(false);
  });
});
