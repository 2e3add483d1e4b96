import { ChatError } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../ports/store.js';
import { storeCall, toChatError } from './errors.js';

describe('toChatError', () => {
  it('keeps a ChatError as it is', () => {
    const error = new ChatError('forbidden', 'no');
    expect(toChatError(error)).toBe(error);
  });

  it('maps a storage failure to unavailable, retryable, keeping the cause', () => {
    const cause = new StoreError('unavailable', 'postgres unavailable: connect ECONNREFUSED');
    const mapped = toChatError(cause);
    expect(mapped).toMatchObject({ code: 'unavailable', status: 503, retryable: true });
    expect(mapped.cause).toBe(cause);
    // The driver's message stays in the logs, not in the answer.
    expect(mapped.message).not.toContain('ECONNREFUSED');
  });

  it('maps every other StoreError kind to its code', () => {
    expect(toChatError(new StoreError('conflict', 'taken')).code).toBe('conflict');
    expect(toChatError(new StoreError('not_found', 'row 7'), 'no such user')).toMatchObject({
      code: 'not_found',
      message: 'no such user',
    });
  });

  it('maps errors that carry an HTTP status by that status', () => {
    const framework = (statusCode: number, message = 'framework said no') =>
      Object.assign(new Error(message), { statusCode });
    expect(toChatError(framework(400)).code).toBe('invalid_request');
    expect(toChatError(framework(404)).code).toBe('not_found');
    expect(toChatError(framework(413)).code).toBe('payload_too_large');
    expect(toChatError(framework(414)).code).toBe('invalid_request');
    expect(toChatError(framework(415)).code).toBe('invalid_request');
    expect(toChatError(framework(429)).code).toBe('rate_limited');
    expect(toChatError(framework(431)).code).toBe('payload_too_large');
    expect(toChatError(framework(503)).code).toBe('unavailable');
    expect(toChatError(framework(500, 'secret detail'))).toMatchObject({ code: 'internal', message: 'internal error' });
  });

  it('maps anything else to internal without echoing it', () => {
    const mapped = toChatError(new TypeError('x is undefined'));
    expect(mapped).toMatchObject({ code: 'internal', message: 'internal error' });
    expect(toChatError('a string').code).toBe('internal');
    expect(toChatError({ statusCode: 'nope' }).code).toBe('internal');
  });
});

describe('storeCall', () => {
  it('translates StoreErrors and lets everything else through', async () => {
    await expect(storeCall(Promise.reject(new StoreError('unavailable', 'down')))).rejects.toMatchObject({
      code: 'unavailable',
    });
    const bug = new TypeError('bug');
    await expect(storeCall(Promise.reject(bug))).rejects.toBe(bug);
  });
});
