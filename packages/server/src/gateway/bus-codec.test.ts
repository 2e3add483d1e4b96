import type { Message, SyncEvent } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../adapters/memory/memory-bus.js';
import { decodeBusPayload, encodeBusPayload, LiveBus, messageJson, userTopic, type BusPayload } from './bus-codec.js';

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

/** A LiveBus over a real in-memory bus, and what one user's subscription received. */
async function liveFor(userId: string) {
  const bus = new MemoryBus();
  const warnings: object[] = [];
  let droppedCalls = 0;
  const live = new LiveBus(
    bus,
    { warn: (obj) => void warnings.push(obj), error: () => undefined },
    () => droppedCalls++,
  );
  const received: BusPayload[] = [];
  await live.subscribe(userId, (payload) => received.push(payload));
  return { bus, live, received, warnings, droppedCalls: () => droppedCalls };
}

describe('bus payloads', () => {
  it.each<[string, BusPayload]>([
    ['an event', { kind: 'event', seq: 42, frame: '{"op":"event","seq":42,"type":"friend.removed","userId":"7"}' }],
    ['an ephemeral frame', { kind: 'ephemeral', frame: '{"op":"typing","channelId":"3","userId":"1"}' }],
    ['a control message', { kind: 'control', control: { type: 'device.revoked', deviceId: 'd|"1"' } }],
  ])('decode what encode wrote: %s', (_, payload) => {
    expect(decodeBusPayload(encodeBusPayload(payload))).toEqual(payload);
  });

  it.each([
    ['no separator', '{"op":"event"}'],
    ['an empty seq', '|{"op":"event"}'],
    ['a seq that is not a number', 'x|{"op":"event"}'],
    ['a negative seq', '-1|{"op":"event"}'],
    ['a fractional seq', '1.5|{"op":"event"}'],
    ['a frame that is not an object', '3|hello'],
    ['an empty frame', '3|'],
    ['a control message that is not JSON', 'c|{revoke'],
    ['a control message of an unknown kind', 'c|{"shutdown":true}'],
    ['a control message that is null', 'c|null'],
  ])('reject a payload with %s', (_, raw) => {
    expect(decodeBusPayload(raw)).toBeUndefined();
  });
});

describe('LiveBus', () => {
  const event = (seq: number): SyncEvent => ({ seq, type: 'friend.removed', userId: '9' });

  it('delivers each kind to the user it was published to, decoded', async () => {
    const { live, received } = await liveFor('1');
    await live.events([
      { userId: '1', event: event(5) },
      { userId: '2', event: event(8) },
    ]);
    await live.ephemeral(['2', '1'], { op: 'typing', channelId: '3', userId: '2' });
    await live.deviceRevoked('1', 'phone');
    expect(received).toEqual([
      { kind: 'event', seq: 5, frame: JSON.stringify({ op: 'event', ...event(5) }) },
      { kind: 'ephemeral', frame: JSON.stringify({ op: 'typing', channelId: '3', userId: '2' }) },
      { kind: 'control', control: { type: 'device.revoked', deviceId: 'phone' } },
    ]);
  });

  it("splices one message's JSON into every recipient's event frame", async () => {
    const { live, received } = await liveFor('2');
    const sent = message(long);
    await live.messages([
      {
        message: sent,
        entries: [
          { userId: '1', seq: 10 },
          { userId: '2', seq: 31 },
        ],
      },
    ]);
    expect(received).toHaveLength(1);
    const [payload] = received;
    expect(payload).toMatchObject({ kind: 'event', seq: 31 });
    expect(JSON.parse((payload as { frame: string }).frame)).toEqual({
      op: 'event',
      seq: 31,
      type: 'message.created',
      message: sent,
    });
  });

  it('drops, logs and counts a payload that does not decode, and keeps delivering', async () => {
    const { bus, live, received, warnings, droppedCalls } = await liveFor('1');
    await bus.publish([{ topic: userTopic('1'), payload: 'garbage' }]);
    await live.ephemeral(['1'], { op: 'typing', channelId: '3', userId: '2' });
    expect(received).toEqual([{ kind: 'ephemeral', frame: '{"op":"typing","channelId":"3","userId":"2"}' }]);
    expect(live.dropped).toBe(1);
    expect(droppedCalls()).toBe(1);
    expect(warnings).toEqual([expect.objectContaining({ topic: 'u:1', bytes: 'garbage'.length })]);
  });

  it('publishes nothing for no recipients', async () => {
    const bus = new MemoryBus();
    const published: unknown[] = [];
    bus.publish = async (messages) => void published.push(messages);
    const live = new LiveBus(bus, { warn: () => undefined, error: () => undefined });
    await live.ephemeral([], { op: 'typing', channelId: '3', userId: '2' });
    await live.messages([]);
    await live.events([]);
    expect(published).toEqual([]);
  });
});
