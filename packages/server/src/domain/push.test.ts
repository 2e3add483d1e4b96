import { describe, expect, it } from 'vitest';
import { ChatError } from '@parley/protocol';
import type { NewPushJob } from '../ports/push.js';
import {
  defaultPushOptions,
  notificationText,
  PushRegistrations,
  PushService,
  retryDelay,
  shouldNotify,
} from './push.js';

describe('the push rules', () => {
  it('mute silences a conversation, except messages that mention the recipient', () => {
    expect(shouldNotify({ mentioned: false }, { muted: false })).toBe(true);
    expect(shouldNotify({ mentioned: false }, { muted: true })).toBe(false);
    expect(shouldNotify({ mentioned: true }, { muted: true })).toBe(true);
  });

  it('says how many messages a notification stands for, and no text without previews', () => {
    const one = [{ preview: 'hello' }];
    const three = [{ preview: 'a' }, { preview: 'b' }, { preview: 'c' }];
    expect(notificationText(one, 'Ann', undefined, true)).toEqual({ title: 'Ann', body: 'hello' });
    expect(notificationText(three, 'Ann', 'Team', true)).toEqual({ title: 'Ann in Team', body: '3 new messages' });
    expect(notificationText(one, 'Ann', 'Team', false)).toEqual({ title: 'Team', body: 'New message from Ann' });
  });

  it('backs off exponentially with jitter, up to a ceiling, and honours Retry-After', () => {
    const options = { ...defaultPushOptions, backoffMs: 1000, maxBackoffMs: 8000 };
    expect(retryDelay(options, 1, undefined, () => 0)).toBe(500);
    expect(retryDelay(options, 1, undefined, () => 1)).toBe(1000);
    expect(retryDelay(options, 3, undefined, () => 1)).toBe(4000);
    expect(retryDelay(options, 10, undefined, () => 1)).toBe(8000);
    expect(retryDelay(options, 1, 30_000, () => 0)).toBe(30_000);
  });

  it('refuses a registration for a provider that is not configured', async () => {
    const registrations = new PushRegistrations(
      {
        savePushSubscription: async () => undefined,
        deletePushSubscription: async () => undefined,
        deleteDevicePushSubscriptions: async () => undefined,
      },
      ['webpush'],
      { now: () => 0 },
    );
    const refused = await registrations
      .register({ userId: '1', deviceId: '2' }, { provider: 'fcm', token: 't' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChatError);
    expect((refused as ChatError).code).toBe('push_not_configured');
  });
});

describe('queuing', () => {
  const silent = { warn: () => undefined, error: () => undefined, info: () => undefined };
  const message = (id: string) => ({ id, channelId: 'c', senderId: 's', text: `m${id}`, createdAt: '' });

  it('writes the jobs of the messages committed in one turn in one outbox write, offline recipients only', async () => {
    const writes: NewPushJob[][] = [];
    const push = new PushService(
      { enqueuePush: async (jobs) => void writes.push([...jobs]) },
      { online: async () => new Set(['on']) },
      { now: () => 1000 },
      { coalesceMs: 3000 },
      silent,
    );
    await Promise.all([
      push.messageCommitted(message('1'), ['s', 'a', 'on']),
      push.messageCommitted(message('2'), ['s', 'a', 'b']),
    ]);
    expect(writes.map((w) => w.map((j) => [j.userId, j.messageId, j.dueAt]))).toEqual([
      [
        ['a', '1', 4000],
        ['a', '2', 4000],
        ['b', '2', 4000],
      ],
    ]);
  });

  it('queues for every recipient when presence cannot be asked (the notifier asks again)', async () => {
    const writes: NewPushJob[][] = [];
    const push = new PushService(
      { enqueuePush: async (jobs) => void writes.push([...jobs]) },
      {
        online: async () => {
          throw new Error('redis down');
        },
      },
      { now: () => 0 },
      { coalesceMs: 0 },
      silent,
    );
    await push.messageCommitted(message('3'), ['s', 'a', 'b']);
    expect(writes.flat().map((j) => j.userId)).toEqual(['a', 'b']);
  });
});
