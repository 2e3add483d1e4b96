import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, pushSupported } from './push';

describe('push helpers', () => {
  it('decodes unpadded base64url VAPID keys', () => {
    expect([...base64UrlToBytes('AQID_-8')]).toEqual([1, 2, 3, 255, 239]);
    expect(base64UrlToBytes('').length).toBe(0);
  });
  it('reports no support outside a browser', () => {
    expect(pushSupported()).toBe(false);
  });
});
