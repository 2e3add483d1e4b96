import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  describeIssues,
  groupBody,
  groupPatch,
  helloFrame,
  historyQuery,
  parseHelloFrame,
  parseSessionFrame,
  profilePatch,
  sessionFrame,
  signupBody,
  syncQuery,
} from './schemas.js';

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

/** The same answer as the schema's: the data when it accepts, the same message when it does not. */
function outcome(
  result: { success: true; data: unknown } | { success: false; error: Parameters<typeof describeIssues>[0] },
) {
  return result.success ? { data: result.data } : { error: describeIssues(result.error) };
}

describe('parseHelloFrame and parseSessionFrame', () => {
  afterEach(() => vi.restoreAllMocks());

  const long = 'x'.repeat(256);
  const hellos: unknown[] = [
    { op: 'hello', token: 't' },
    { op: 'hello', token: long },
    { op: 'hello', token: `${long}x` },
    { op: 'hello', token: '' },
    { op: 'hello', token: 't', since: 0 },
    { op: 'hello', token: 't', since: 42, extra: true },
    { op: 'hello', token: 't', since: Number.MAX_SAFE_INTEGER },
    { op: 'hello', token: 't', since: Number.MAX_SAFE_INTEGER + 1 },
    { op: 'hello', token: 't', since: -1 },
    { op: 'hello', token: 't', since: 1.5 },
    { op: 'hello', token: 't', since: '7' },
    { op: 'hello', token: 't', since: null },
    { op: 'hello', token: 't', since: Number.NaN },
    { op: 'hello', token: 7 },
    { op: 'hello' },
    { op: 'ping', token: 't' },
    Object.assign(Object.create({ op: 'hello' }) as object, { token: 't' }),
    Object.assign([], { op: 'hello', token: 't' }),
    null,
    'hello',
    undefined,
  ];

  it.each(hellos)('answers %j as helloFrame does', (frame) => {
    expect(outcome(parseHelloFrame(frame))).toEqual(outcome(helloFrame.safeParse(frame)));
  });

  const sessions: unknown[] = [
    { op: 'ping' },
    { op: 'ping', extra: 1 },
    { op: 'send', channelId: '1', text: 'hi', clientMsgId: 'c' },
    { op: 'pong' },
    Object.assign([], { op: 'ping' }),
    null,
  ];

  it.each(sessions)('answers %j as sessionFrame does', (frame) => {
    expect(outcome(parseSessionFrame(frame))).toEqual(outcome(sessionFrame.safeParse(frame)));
  });

  it('checks the usual hello and ping without the schema', () => {
    const helloSchema = vi.spyOn(helloFrame, 'safeParse');
    const sessionSchema = vi.spyOn(sessionFrame, 'safeParse');
    expect(parseHelloFrame({ op: 'hello', token: 't', since: 3 })).toEqual({
      success: true,
      data: { op: 'hello', token: 't', since: 3 },
    });
    expect(parseSessionFrame({ op: 'ping' })).toEqual({ success: true, data: { op: 'ping' } });
    expect(helloSchema).not.toHaveBeenCalled();
    expect(sessionSchema).not.toHaveBeenCalled();
    parseHelloFrame({ op: 'hello', token: 't', since: '3' });
    expect(helloSchema).toHaveBeenCalledTimes(1);
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

describe('names people see', () => {
  const name = (displayName: string) => profilePatch.safeParse({ displayName });
  const group = (value: string) => groupBody.safeParse({ name: value });
  const status = (statusText: string) => profilePatch.safeParse({ statusText });

  it.each(['Alice', 'José', '김민지', 'محمد', '👩‍💻 dev', 'a\u200db', '  padded  '])('accepts %j', (value) => {
    expect(name(value).success).toBe(true);
    expect(group(value).success).toBe(true);
    expect(status(value).success).toBe(true);
  });

  it.each([
    ['zero-width spaces only', '\u200b\u200b'],
    ['a Hangul filler', '\u3164'],
    ['a braille blank', '\u2800'],
    ['a zero-width joiner and a word joiner', '\u200d\u2060'],
    ['only a combining mark', '\u0301'],
    ['white space only', ' \u00a0\u3000 '],
    ['a right-to-left override', 'evil\u202egnp.exe'],
    ['a bidi isolate', 'a\u2067b'],
    ['a right-to-left mark', 'a\u200fb'],
    ['a newline', 'two\nlines'],
    ['a NUL', 'a\u0000b'],
    ['a C1 control', 'a\u0085b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['nothing', ''],
  ])('rejects %s', (_what, value) => {
    expect(name(value).success).toBe(false);
    expect(group(value).success).toBe(false);
  });

  it('lets the status text be cleared, but not set to something invisible', () => {
    expect(status('').success).toBe(true);
    expect(status('\u200b').success).toBe(false);
    expect(status('a\u202eb').success).toBe(false);
  });

  it('says which rule a name broke', () => {
    const result = name('\u200b');
    expect(result.success).toBe(false);
    if (!result.success) expect(describeIssues(result.error)).toBe('displayName: must contain a visible character');
  });

  it('checks group renames and device names the same way', () => {
    expect(groupPatch.safeParse({ name: '\u200b' }).success).toBe(false);
    expect(groupPatch.safeParse({ name: 'Team' }).success).toBe(true);
    expect(signupBody.safeParse({ username: 'abc', password: '12345678', deviceName: 'x\u202e' }).success).toBe(false);
    expect(signupBody.safeParse({ username: 'abc', password: '12345678', displayName: '\u3164' }).success).toBe(false);
  });
});
