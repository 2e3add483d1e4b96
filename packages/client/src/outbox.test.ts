import { ChatError, limits } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { Outbox, newClientMsgId } from './outbox.js';
import type { OutboxMessage } from './outbox.js';

function make() {
  let now = 1_000;
  const changes: OutboxMessage[] = [];
  const outbox = new Outbox({ onChange: (m) => changes.push(m), now: () => now, retryDelayMs: (n) => n * 100 });
  return { outbox, changes, advance: (ms: number) => (now += ms) };
}

describe('Outbox', () => {
  it('keeps one clientMsgId from pending to sent', () => {
    const { outbox, changes } = make();
    const m = outbox.add('c1', 'hi');
    expect(m).toMatchObject({ channelId: 'c1', text: 'hi', state: 'pending' });
    expect(m.clientMsgId).toMatch(/^[0-9a-f]{32}$/);
    expect(outbox.takeSendable().map((x) => x.clientMsgId)).toEqual([m.clientMsgId]);
    expect(outbox.takeSendable()).toEqual([]); // in flight: not sent twice on one connection
    const sent = outbox.ack(m.clientMsgId, '42', '2026-01-01T00:00:00.000Z');
    expect(sent).toMatchObject({ state: 'sent', messageId: '42', clientMsgId: m.clientMsgId });
    expect(changes.map((c) => c.state)).toEqual(['sent']);
    expect(outbox.size).toBe(0);
    expect(outbox.ack(m.clientMsgId, '42', 'x')).toBeUndefined(); // a second ack is ignored
  });

  it('sends in-flight messages again after the connection is lost, in order', () => {
    const { outbox } = make();
    const a = outbox.add('c1', 'a');
    const b = outbox.add('c1', 'b');
    outbox.takeSendable();
    outbox.connectionLost();
    expect(outbox.takeSendable().map((x) => x.clientMsgId)).toEqual([a.clientMsgId, b.clientMsgId]);
  });

  it('fails on permanent errors with the code and does not retry them', () => {
    const { outbox, changes } = make();
    const m = outbox.add('c1', 'x');
    outbox.takeSendable();
    const failed = outbox.reject(m.clientMsgId, new ChatError('forbidden', 'not a member'));
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'forbidden', message: 'not a member' } });
    expect(changes.at(-1)?.state).toBe('failed');
    outbox.connectionLost();
    expect(outbox.takeSendable()).toEqual([]);
    expect(outbox.list()).toHaveLength(1);
  });

  it('retries retryable errors after a growing delay', () => {
    const { outbox, advance } = make();
    const m = outbox.add('c1', 'x');
    outbox.takeSendable();
    expect(outbox.reject(m.clientMsgId, new ChatError('rate_limited', 'slow down'))?.state).toBe('pending');
    expect(outbox.takeSendable()).toEqual([]);
    expect(outbox.nextRetryAt()).toBe(1_100);
    advance(100);
    expect(outbox.takeSendable()).toHaveLength(1);
    outbox.reject(m.clientMsgId, new ChatError('unavailable', 'busy'));
    expect(outbox.nextRetryAt()).toBe(1_300);
  });

  it('fails over-long and empty text locally, without sending', () => {
    const { outbox } = make();
    const long = outbox.add('c1', 'a'.repeat(limits.maxTextCodePoints + 1));
    expect(long).toMatchObject({ state: 'failed', error: { code: 'message_too_long' } });
    expect(outbox.add('c1', '😀'.repeat(limits.maxTextCodePoints)).state).toBe('pending'); // code points, not UTF-16 units
    expect(outbox.add('c1', '').error?.code).toBe('invalid_request');
  });

  it('retry() moves a failed message back to pending with the same clientMsgId; discard() drops it', () => {
    const { outbox } = make();
    const m = outbox.add('c1', 'x');
    outbox.takeSendable();
    outbox.reject(m.clientMsgId, new ChatError('not_found', 'no channel'));
    expect(outbox.retry(m.clientMsgId)).toMatchObject({ state: 'pending', clientMsgId: m.clientMsgId });
    expect(outbox.takeSendable()).toHaveLength(1);
    expect(outbox.discard(m.clientMsgId)).toBe(true);
    expect(outbox.size).toBe(0);
  });

  it('restores a persisted list in order and skips sent entries', () => {
    const first = make().outbox;
    const a = first.add('c1', 'a');
    const b = first.add('c2', 'b');
    const persisted = JSON.parse(JSON.stringify(first.list())) as OutboxMessage[];
    const second = make().outbox;
    second.restore([...persisted, { ...a, clientMsgId: 'done', state: 'sent' }]);
    expect(second.takeSendable().map((x) => x.clientMsgId)).toEqual([a.clientMsgId, b.clientMsgId]);
  });

  it('generates distinct ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newClientMsgId));
    expect(ids.size).toBe(1000);
  });
});
