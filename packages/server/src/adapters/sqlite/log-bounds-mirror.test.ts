import { describe, expect, it } from 'vitest';
import { LogBoundsMirror } from './log-bounds-mirror.js';

const news = (heads: (string | number)[], trimmed = false) => ({ heads, trimmed });

describe('LogBoundsMirror', () => {
  it('knows a user once the writer answered for them, and raises the head with every commit', () => {
    const mirror = new LogBoundsMirror();
    mirror.committed(news(['u', 3]));
    expect(mirror.get('u')).toBeUndefined(); // no floor yet: the writer is asked
    mirror.learn('u', { head: 3, floor: 0 }, mirror.epoch);
    expect(mirror.get('u')).toEqual({ head: 3, floor: 0 });
    mirror.committed(news(['u', 4, 'v', 1, 'u', 5]));
    expect(mirror.get('u')).toEqual({ head: 5, floor: 0 });
  });

  it('keeps the newer head when an answer arrives after the news of a later commit', () => {
    const mirror = new LogBoundsMirror();
    const askedAt = mirror.epoch;
    // The reply message carries the answer (head 3) and the news of a commit after it (head 4),
    // taken in before the answer resolves.
    mirror.committed(news(['u', 4]));
    mirror.learn('u', { head: 3, floor: 0 }, askedAt);
    expect(mirror.get('u')).toEqual({ head: 4, floor: 0 });
  });

  it('forgets every floor after a trim, and does not learn an answer asked before it', () => {
    const mirror = new LogBoundsMirror();
    mirror.learn('u', { head: 9, floor: 0 }, mirror.epoch);
    const askedBeforeTrim = mirror.epoch;
    mirror.committed(news([], true));
    expect(mirror.get('u')).toBeUndefined();
    mirror.learn('v', { head: 9, floor: 0 }, askedBeforeTrim);
    expect(mirror.get('v')).toBeUndefined();
    mirror.learn('u', { head: 9, floor: 6 }, mirror.epoch);
    expect(mirror.get('u')).toEqual({ head: 9, floor: 6 });
  });
});
