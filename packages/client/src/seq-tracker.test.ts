import { describe, expect, it } from 'vitest';
import { RecentIds, SeqTracker } from './seq-tracker.js';

const ev = (seq: number) => ({ seq, name: `e${seq}` });
const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);

describe('SeqTracker', () => {
  it('applies events in order and drops duplicates', () => {
    const t = new SeqTracker(0);
    expect(seqs(t.offer(ev(1)))).toEqual([1]);
    expect(seqs(t.offer(ev(2)))).toEqual([2]);
    expect(t.offer(ev(2))).toEqual([]);
    expect(t.offer(ev(1))).toEqual([]);
    expect(t.applied).toBe(2);
    expect(t.gap()).toBeUndefined();
  });

  it('buffers events after a gap, reports the gap, and releases them in order once filled', () => {
    const t = new SeqTracker(3);
    expect(t.offer(ev(6))).toEqual([]);
    expect(t.offer(ev(7))).toEqual([]);
    expect(t.gap()).toEqual({ from: 4, to: 5 });
    expect(t.buffered).toBe(2);
    expect(seqs(t.offer(ev(4)))).toEqual([4]);
    expect(t.gap()).toEqual({ from: 5, to: 5 });
    expect(seqs(t.offer(ev(5)))).toEqual([5, 6, 7]);
    expect(t.applied).toBe(7);
    expect(t.buffered).toBe(0);
    expect(t.gap()).toBeUndefined();
  });

  it('treats a head from ready beyond the applied seq as a gap to catch up', () => {
    const t = new SeqTracker(10);
    t.noteHead(12);
    expect(t.gap()).toEqual({ from: 11, to: 12 });
    t.offer(ev(11));
    t.offer(ev(12));
    expect(t.gap()).toBeUndefined();
    t.noteHead(5); // an older head never moves it back
    expect(t.head).toBe(12);
  });

  it('applies a sync page that overlaps buffered live events exactly once', () => {
    const t = new SeqTracker(0);
    t.offer(ev(3));
    t.offer(ev(5));
    const applied = [1, 2, 3, 4, 5, 6].flatMap((s) => seqs(t.offer(ev(s))));
    expect(applied).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('is idempotent under any arrival order with duplicates', () => {
    for (let round = 0; round < 20; round++) {
      const arrivals = Array.from({ length: 60 }, (_, i) => (i % 30) + 1).sort(() => Math.random() - 0.5);
      const t = new SeqTracker(0);
      const applied = arrivals.flatMap((s) => seqs(t.offer(ev(s))));
      expect(applied).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
  });

  it('bounds the buffer (the fill fetches the dropped ones again)', () => {
    const t = new SeqTracker(0, 2);
    t.offer(ev(3));
    t.offer(ev(4));
    t.offer(ev(5));
    expect(t.buffered).toBe(2);
    expect(seqs(t.offer(ev(1)))).toEqual([1]);
    expect(seqs(t.offer(ev(2)))).toEqual([2, 3, 4]);
    expect(seqs(t.offer(ev(5)))).toEqual([5]);
  });

  it('refuses events before it has a starting point, and reset drops the buffer', () => {
    const t = new SeqTracker<{ seq: number }>(undefined);
    expect(() => t.offer(ev(1))).toThrow();
    t.reset(100);
    t.offer(ev(105));
    t.reset(200);
    expect(t.buffered).toBe(0);
    expect(t.gap()).toBeUndefined();
    expect(seqs(t.offer(ev(201)))).toEqual([201]);
  });
});

describe('RecentIds', () => {
  it('reports duplicates and forgets the oldest beyond capacity', () => {
    const ids = new RecentIds(3);
    expect(ids.add('1')).toBe(true);
    expect(ids.add('1')).toBe(false);
    ids.add('2');
    ids.add('3');
    ids.add('4');
    expect(ids.has('1')).toBe(false);
    expect(ids.has('4')).toBe(true);
    expect(ids.add('2')).toBe(false);
  });
});
