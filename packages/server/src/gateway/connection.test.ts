/**
 * The gateway's per-socket delivery: in seq order, without gaps or duplicates, whatever order
 * the bus brings events in and whatever it loses; with a bounded reorder buffer. The log is a
 * fake in memory (the real one is covered by the messaging and cluster tests); so is the socket.
 */
import type { SyncEvent, SyncPage } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Connection } from './connection.js';

/** What a socket needs to look open and record what is written to it. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly written: string[] = [];
  send(frame: string): void {
    this.written.push(frame);
  }
  close(): void {
    this.readyState = 3;
  }
  get seqs(): number[] {
    return this.written.map((f) => (JSON.parse(f) as { seq: number }).seq);
  }
}

const event = (seq: number, text = `m${seq}`): SyncEvent => ({
  seq,
  type: 'message.created',
  message: { id: String(seq), channelId: 'c', senderId: 's', text, createdAt: '2026-01-01T00:00:00.000Z' },
});
const frame = (seq: number, text?: string) => JSON.stringify({ op: 'event', ...event(seq, text) });

/** A user's log of `head` events; reads can be held back to stand for a slow store. */
class FakeLog {
  readonly reads: Array<{ since: number; limit: number }> = [];
  #gate: Promise<void> = Promise.resolve();
  #open: () => void = () => undefined;
  constructor(public head: number) {}
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }
  release(): void {
    this.#open();
  }
  readLog = async (_userId: string, since: number, limit: number): Promise<SyncPage> => {
    this.reads.push({ since, limit });
    await this.#gate;
    const events: SyncEvent[] = [];
    for (let seq = since + 1; seq <= Math.min(this.head, since + limit); seq++) events.push(event(seq));
    return { events, seq: events.at(-1)?.seq ?? since, hasMore: since + limit < this.head };
  };
}

function setup(log: FakeLog, caps: { events?: number; bytes?: number } = {}) {
  const ws = new FakeSocket();
  const errors: unknown[] = [];
  const connection = new Connection(
    ws as unknown as WebSocket,
    'conn',
    'user',
    'device',
    {
      readLog: log.readLog,
      maxBufferedBytes: 1 << 20,
      overProcessBudget: () => false,
      slowShareBytes: 1 << 20,
      maxPendingEvents: caps.events ?? 1_000,
      maxPendingBytes: caps.bytes ?? 1 << 20,
      onError: (error) => errors.push(error),
    },
    0,
  );
  return { ws, connection, errors };
}

/** Lets every queued promise callback run (the fake log answers within a few turns). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('Connection', () => {
  it('delivers bus events in order, straight through, without reading the log', async () => {
    const log = new FakeLog(3);
    const { ws, connection } = setup(log);
    connection.startLive(0, 0);
    for (const seq of [1, 2, 3]) connection.offer(seq, frame(seq));
    expect(ws.seqs).toEqual([1, 2, 3]);
    expect(log.reads).toEqual([]);
  });

  it('drops duplicates and anything at or below what it delivered', async () => {
    const log = new FakeLog(2);
    const { ws, connection } = setup(log);
    connection.startLive(0, 0);
    for (const seq of [1, 1, 2, 1, 2]) connection.offer(seq, frame(seq));
    expect(ws.seqs).toEqual([1, 2]);
  });

  it('fills a gap the bus left from the log, then sends what waited behind it', async () => {
    const log = new FakeLog(4);
    const { ws, connection } = setup(log);
    connection.startLive(0, 0);
    connection.offer(1, frame(1));
    connection.offer(4, frame(4)); // 2 and 3 were lost on the bus
    await settle();
    expect(ws.seqs).toEqual([1, 2, 3, 4]);
    expect(log.reads).toEqual([{ since: 1, limit: 2 }]);
    expect(connection.pending).toEqual({ events: 0, bytes: 0 });
  });

  it('puts events that arrive out of order back in order', async () => {
    const log = new FakeLog(3);
    log.hold();
    const { ws, connection } = setup(log);
    connection.startLive(0, 0);
    connection.offer(3, frame(3));
    connection.offer(2, frame(2));
    connection.offer(1, frame(1)); // arrives while the fill for 1..2 reads the log
    log.release();
    await settle();
    expect(ws.seqs).toEqual([1, 2, 3]);
  });

  it('replays from `since` to the head at hello, with live events arriving meanwhile sent after', async () => {
    const log = new FakeLog(6);
    log.hold();
    const { ws, connection } = setup(log);
    connection.startLive(3, 6);
    log.head = 7;
    connection.offer(7, frame(7));
    log.release();
    await settle();
    expect(ws.seqs).toEqual([4, 5, 6, 7]);
  });

  it('fills up to a head read from the store (an event the bus lost with nothing after it)', async () => {
    const log = new FakeLog(2);
    const { ws, connection } = setup(log);
    connection.startLive(0, 0);
    connection.offer(1, frame(1));
    connection.fillTo(2);
    await settle();
    expect(ws.seqs).toEqual([1, 2]);
    connection.fillTo(1);
    await settle();
    expect(log.reads).toHaveLength(1);
  });

  it('past its event cap, drops the reorder buffer and reads those events from the log', async () => {
    const log = new FakeLog(20);
    log.hold();
    const { ws, connection } = setup(log, { events: 5 });
    connection.startLive(0, 0);
    for (let seq = 2; seq <= 6; seq++) connection.offer(seq, frame(seq)); // 1 lost: a fill waits on the log
    expect(connection.pending.events).toBe(5);
    connection.offer(7, frame(7)); // the sixth: over the cap
    expect(connection.pending).toEqual({ events: 0, bytes: 0 });
    for (let seq = 8; seq <= 20; seq++) connection.offer(seq, frame(seq));
    expect(connection.pending.events).toBeLessThanOrEqual(5);
    log.release();
    await settle();
    expect(ws.seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(connection.pending).toEqual({ events: 0, bytes: 0 });
  });

  it('past its byte cap, drops the reorder buffer and reads those events from the log', async () => {
    const log = new FakeLog(4);
    log.hold();
    const big = 'x'.repeat(10_000);
    const { ws, connection } = setup(log, { bytes: 50_000 });
    connection.startLive(0, 0);
    connection.offer(2, frame(2, big));
    connection.offer(3, frame(3, big));
    expect(connection.pending.events).toBe(2);
    connection.offer(4, frame(4, big)); // three frames of 20 kB each in memory: over 50 kB
    expect(connection.pending).toEqual({ events: 0, bytes: 0 });
    log.release();
    await settle();
    expect(ws.seqs).toEqual([1, 2, 3, 4]);
  });

  it('keeps what an overflow handed to the log when it goes live after hello', async () => {
    const log = new FakeLog(9);
    const { ws, connection } = setup(log, { events: 2 });
    // Before ready: bus events are held until replay starts.
    for (const seq of [7, 8, 9]) connection.offer(seq, frame(seq));
    connection.startLive(4, 6);
    await settle();
    expect(ws.seqs).toEqual([5, 6, 7, 8, 9]);
  });
});
