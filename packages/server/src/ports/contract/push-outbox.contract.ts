import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelSettingsUpdated } from '../../domain/log-appends.js';
import type { NewPushJob, PushOutboxStore, PushSettingsStore } from '../push.js';
import type { AccountStore, ChannelStore, LogStore } from '../store.js';
import { at, createGroup, createUser, nextId, type PortHarness } from './suite.js';

/** The outbox's jobs name users and channels, and the settings live on them. */
export type PushOutboxHarness = PortHarness<
  PushOutboxStore & PushSettingsStore & AccountStore & ChannelStore & LogStore
>;

const T0 = 1_780_000_000_000;

/** The PushOutboxStore and PushSettingsStore contract, run against every backend. */
export function describePushOutboxContract(
  name: string,
  makeHarness: () => Promise<PushOutboxHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`PushOutboxStore contract: ${name}`, () => {
    let harness: PushOutboxHarness;
    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(() => harness.cleanup());

    const job = (userId: string, channelId: string, messageId: string, dueAt: number): NewPushJob => ({
      userId,
      channelId,
      messageId,
      senderId: '7400000000000000001',
      preview: `m${messageId.slice(-3)}`,
      mentioned: false,
      dueAt,
    });
    const ids = (n: number) => Array.from({ length: n }, () => nextId());
    const claim = (owner: string, now: number, groups = 10, leaseMs = 1000) =>
      harness.store.claimPush({ owner, now, leaseUntil: now + leaseMs, groups });

    it('claims nothing before a job is due, then the whole group, burst included', async () => {
      const [u, c, m1, m2, m3] = ids(5) as [string, string, string, string, string];
      await harness.store.enqueuePush([job(u, c, m1, T0 + 100), job(u, c, m2, T0 + 150), job(u, c, m3, T0 + 900)]);
      expect(await claim('a', T0 + 99)).toEqual([]);
      const claimed = await claim('a', T0 + 100);
      expect(claimed.map((j) => j.messageId)).toEqual([m1, m2, m3]);
      expect(claimed[0]).toMatchObject({ userId: u, channelId: c, senderId: '7400000000000000001', attempts: 0 });
      expect(claimed[0]!.mentioned).toBe(false);
    });

    it('stores a (user, message) once', async () => {
      const [u, c, m] = ids(3) as [string, string, string];
      await harness.store.enqueuePush([job(u, c, m, T0)]);
      await harness.store.enqueuePush([job(u, c, m, T0)]);
      expect(await claim('a', T0)).toHaveLength(1);
    });

    it('keeps a leased group from another claimer until the lease runs out', async () => {
      const [u, c, m1, m2] = ids(4) as [string, string, string, string];
      await harness.store.enqueuePush([job(u, c, m1, T0)]);
      expect(await claim('a', T0, 10, 1000)).toHaveLength(1);
      // A job arriving in the leased group waits for the lease too (the group is not split).
      await harness.store.enqueuePush([job(u, c, m2, T0)]);
      expect(await claim('b', T0 + 999)).toEqual([]);
      const reclaimed = await claim('b', T0 + 1000);
      expect(reclaimed.map((j) => j.messageId)).toEqual([m1, m2]);
    });

    it('completes only the owner’s jobs: a job re-claimed by another owner stays', async () => {
      const [u, c, m1] = ids(3) as [string, string, string];
      await harness.store.enqueuePush([job(u, c, m1, T0)]);
      await claim('a', T0, 10, 10);
      await claim('b', T0 + 10, 10, 1000);
      await harness.store.completePush('a', u, [m1]);
      await harness.store.completePush('b', u, []);
      expect(await claim('c', T0 + 2000)).toHaveLength(1);
      await harness.store.completePush('c', u, [m1]);
      expect(await claim('d', T0 + 5000)).toEqual([]);
    });

    it('retries: releases the jobs with a later due time and the attempt count', async () => {
      const [u, c, m1] = ids(3) as [string, string, string];
      await harness.store.enqueuePush([job(u, c, m1, T0)]);
      await claim('a', T0);
      await harness.store.retryPush('a', u, [m1], T0 + 500, 1);
      expect(await claim('b', T0 + 499)).toEqual([]);
      const again = await claim('b', T0 + 500);
      expect(again.map((j) => [j.messageId, j.attempts])).toEqual([[m1, 1]]);
    });

    it('hands each group to one of two claimers and at most `groups` groups per claim', async () => {
      const [u1, u2, u3, c] = ids(4) as [string, string, string, string];
      await harness.store.enqueuePush([job(u1, c, nextId(), T0), job(u2, c, nextId(), T0), job(u3, c, nextId(), T0)]);
      const [a, b] = await Promise.all([claim('a', T0, 2), claim('b', T0, 2)]);
      const users = (jobs: typeof a) => [...new Set(jobs.map((j) => j.userId))];
      expect(users(a).length + users(b).length).toBe(3);
      expect(users(a).filter((x) => users(b).includes(x))).toEqual([]);
      expect(Math.max(users(a).length, users(b).length)).toBe(2);
    });

    it('records sent marks per (endpoint, message) and trims old ones', async () => {
      const m = nextId();
      await harness.store.markPushSent('https://push.example/a', m, T0);
      await harness.store.markPushSent('https://push.example/a', m, T0 + 5);
      await harness.store.markPushSent('tok-b', nextId(), T0 + 100);
      expect(await harness.store.pushSentTo(['https://push.example/a', 'tok-b', 'x'], m)).toEqual(
        new Set(['https://push.example/a']),
      );
      expect(await harness.store.trimPushSent(T0 + 50)).toBe(1);
      expect(await harness.store.pushSentTo(['https://push.example/a'], m)).toEqual(new Set());
    });

    it('mutes a member’s channel with its log entry, and shows it in their view only', async () => {
      const alice = await createUser(harness.store, `al${nextId().slice(-6)}`);
      const bob = await createUser(harness.store, `bo${nextId().slice(-6)}`);
      const channel = await createGroup(harness.store, alice, [bob]);
      const write = await harness.store.setChannelMuted({
        channelId: channel,
        userId: bob,
        muted: true,
        at: at(),
        events: [channelSettingsUpdated(channel, bob, true)],
      });
      expect(write.status).toBe('applied');
      if (write.status === 'applied') {
        expect(write.entries.map((e) => [e.userId, e.type, e.data])).toEqual([
          [bob, 'channel.settings.updated', { muted: 'true' }],
        ]);
      }
      expect(await harness.store.pushRecipient(bob, channel)).toEqual({ muted: true, previews: true });
      expect(await harness.store.pushRecipient(alice, channel)).toEqual({ muted: false, previews: true });
      const [mine] = await harness.store.listChannelViews(bob, { limit: 5, textCodePoints: 10 });
      expect(mine!.muted).toBe(true);
      const [theirs] = await harness.store.listChannelViews(alice, { limit: 5, textCodePoints: 10 });
      expect(theirs!.muted ?? false).toBe(false);
    });

    it('refuses to mute for a non-member (stale) and knows no recipient there', async () => {
      const alice = await createUser(harness.store, `al${nextId().slice(-6)}`);
      const eve = await createUser(harness.store, `ev${nextId().slice(-6)}`);
      const channel = await createGroup(harness.store, alice, []);
      const write = await harness.store.setChannelMuted({
        channelId: channel,
        userId: eve,
        muted: true,
        at: at(),
        events: [channelSettingsUpdated(channel, eve, true)],
      });
      expect(write).toEqual({ status: 'stale' });
      expect(await harness.store.pushRecipient(eve, channel)).toBeUndefined();
      expect((await harness.store.logBounds(eve)).head).toBe(0);
    });

    it('keeps the preview setting per user, on by default', async () => {
      const alice = await createUser(harness.store, `al${nextId().slice(-6)}`);
      expect(await harness.store.pushPreviews(alice)).toBe(true);
      await harness.store.setPushPreviews(alice, false);
      expect(await harness.store.pushPreviews(alice)).toBe(false);
      const channel = await createGroup(harness.store, alice, []);
      expect(await harness.store.pushRecipient(alice, channel)).toEqual({ muted: false, previews: false });
    });
  });
}
