/** SyncEngine with a fake /v1/sync and fake timers: order, persistence, gap fills, resync. */
import { ChatError } from '@parley/protocol';
import type { SyncEvent, SyncPage } from '@parley/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyWriter, MemoryStorage } from './storage.js';
import { SyncEngine } from './sync-engine.js';

const event = (seq: number): SyncEvent => ({
  seq,
  type: 'message.created',
  message: { id: String(100 + seq), channelId: 'c', senderId: 'u2', text: 't', createdAt: 'now' },
});

function setup(options: { applied?: number; log?: SyncEvent[]; syncError?: () => ChatError | undefined } = {}) {
  const log = options.log ?? [];
  const storage = new MemoryStorage();
  const delivered: number[] = [];
  const hooks: string[] = [];
  const requests: number[] = [];
  const state = { running: true, live: true };
  const sync = async (since: number, limit: number): Promise<SyncPage> => {
    requests.push(since);
    const error = options.syncError?.();
    if (error) throw error;
    const events = log.filter((e) => e.seq > since).slice(0, limit);
    return { events, seq: events.at(-1)?.seq ?? since, hasMore: false };
  };
  const engine = new SyncEngine(
    { sync, catchUpTimeoutMs: 1000 },
    {
      deliver: (e) => delivered.push(e.seq),
      restart: () => hooks.push('restart'),
      // As the client does: unauthorized stops it.
      unauthorized: (e) => {
        hooks.push(`unauthorized ${e.code}`);
        state.running = false;
      },
      resynced: (seq) => hooks.push(`resynced ${seq}`),
      running: () => state.running,
      live: () => state.live,
    },
  );
  engine.use(
    options.applied,
    new KeyWriter(storage, 'seq.u1', (e) => {
      throw e;
    }),
  );
  return { engine, storage, delivered, hooks, requests, state };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SyncEngine', () => {
  it('a fresh device starts at the ready seq, says no since before, and persists the position', async () => {
    const { engine, storage } = setup();
    expect(engine.helloSince()).toBeUndefined();
    expect(engine.ready(7)).toBe('new');
    expect(engine.applied).toBe(7);
    expect(engine.helloSince()).toBe(7);
    await engine.flush();
    expect(await storage.get('seq.u1')).toBe('7');
  });

  it('delivers live events once and in order, buffering past a gap until it is filled', async () => {
    const { engine, delivered, requests } = setup({ applied: 0, log: [event(1), event(2), event(3)] });
    engine.ready(0);
    engine.offerLive(event(1));
    engine.offerLive(event(1));
    engine.offerLive(event(3)); // 2 was lost: fetched at once, since 3 proves the gap
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toEqual([1]);
    expect(delivered).toEqual([1, 2, 3]);
    expect(engine.applied).toBe(3);
  });

  it('fetches a head reported ahead (ready or pong) only when the replay stalls', async () => {
    const { engine, delivered, requests } = setup({ applied: 0, log: [event(1), event(2)] });
    expect(engine.ready(1)).toBeUndefined(); // a stored position behind the head carries on
    engine.offerLive(event(1)); // the replay catches up by itself
    await vi.advanceTimersByTimeAsync(2000);
    expect(requests).toEqual([]);
    engine.noteHead(2); // a pong says 2 exists; no frame brings it
    await vi.advanceTimersByTimeAsync(999);
    expect(requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toEqual([1]);
    expect(delivered).toEqual([1, 2]);
  });

  it('starts over when the stored position is ahead of the server (restored from a backup)', () => {
    const { engine, hooks } = setup({ applied: 80 });
    expect(engine.ready(50)).toBe('lost');
    expect(engine.applied).toBe(50);
    engine.resyncRequired(); // the server's error after that ready changes nothing more
    expect(hooks).toEqual([]);
  });

  it('on resync_required after ready continues from the ready seq; before ready it restarts without since', () => {
    const after = setup({ applied: 3 });
    after.engine.ready(500);
    after.engine.resyncRequired();
    expect(after.engine.applied).toBe(500);
    expect(after.hooks).toEqual(['resynced 500']);

    const before = setup({ applied: 3 });
    before.engine.resyncRequired();
    expect(before.hooks).toEqual(['restart']);
    expect(before.engine.helloSince()).toBeUndefined();
    expect(before.engine.ready(900)).toBe('lost');
    expect(before.engine.applied).toBe(900);
  });

  it('retries a failing fill later with a growing delay, never in a loop', async () => {
    let failing = true;
    const { engine, requests, delivered, hooks } = setup({
      applied: 0,
      log: [event(1), event(2)],
      syncError: () => (failing ? new ChatError('unavailable', 'down') : undefined),
    });
    engine.ready(0);
    engine.offerLive(event(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(requests).toEqual([0]);
    failing = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toEqual([0, 0]);
    expect(delivered).toEqual([1, 2]);
    expect(hooks).toEqual([]);
  });

  it('reports unauthorized from a fill, and restarts on resync_required', async () => {
    const a = setup({ applied: 0, syncError: () => new ChatError('unauthorized', 'revoked') });
    a.engine.ready(0);
    a.engine.offerLive(event(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(a.hooks).toEqual(['unauthorized unauthorized']);

    const b = setup({ applied: 0, syncError: () => new ChatError('resync_required', 'too old') });
    b.engine.ready(0);
    b.engine.offerLive(event(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(b.hooks).toEqual(['restart']);
    expect(b.engine.applied).toBeUndefined();
  });

  it('does not fill while the link is down or the client stopped', async () => {
    const { engine, requests, state } = setup({ applied: 0, log: [event(1), event(2)] });
    engine.ready(0);
    state.live = false;
    engine.offerLive(event(2));
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toEqual([]);
    state.live = true;
    state.running = false;
    engine.checkGap();
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toEqual([]);
  });

  it('forget deletes the stored position', async () => {
    const { engine, storage } = setup({ applied: 4 });
    engine.ready(4);
    await engine.flush();
    engine.forget();
    await engine.flush();
    engine.detach();
    expect(await storage.get('seq.u1')).toBeUndefined();
    expect(engine.applied).toBeUndefined();
  });
});
