import { describe, expect, it } from 'vitest';
import { describeIssues, historyQuery, sessionFrame, signupBody, syncQuery } from './schemas.js';

describe('signupBody', () => {
  it('lower-cases the username', () => {
    expect(signupBody.parse({ username: 'Alice_B', password: '12345678' }).username).toBe('alice_b');
  });

  it('explains every problem in one line', () => {
    const result = signupBody.safeParse({ username: 'a b', password: 'short' });
    expect(result.success).toBe(false);
    if (!result.success) expect(describeIssues(result.error)).toMatch(/username: .*; password: /);
  });
});

describe('sessionFrame', () => {
  it('accepts the four session ops', () => {
    for (const frame of [
      { op: 'ping' },
      { op: 'send', channelId: '1', text: 'hi', clientMsgId: 'c' },
      { op: 'read', channelId: '1', messageId: '2' },
      { op: 'typing', channelId: '1' },
    ]) {
      expect(sessionFrame.safeParse(frame).success).toBe(true);
    }
  });

  it.each([
    { op: 'hello', token: 't' },
    { op: 'send', channelId: 'abc', text: 'x', clientMsgId: 'c' },
    { op: 'send', channelId: '1', text: '', clientMsgId: 'c' },
    null,
    [],
  ])('rejects %j', (frame) => {
    expect(sessionFrame.safeParse(frame).success).toBe(false);
  });
});

describe('query strings', () => {
  it('coerces numbers and applies defaults', () => {
    expect(historyQuery.parse({})).toEqual({ limit: 50 });
    expect(syncQuery.parse({ since: '7' })).toEqual({ since: 7, limit: 200 });
  });

  it('allows one of before/after/around at a time', () => {
    expect(historyQuery.safeParse({ before: '1', around: '2' }).success).toBe(false);
  });
});
