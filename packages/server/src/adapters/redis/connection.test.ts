import { describe, expect, it } from 'vitest';
import { parseSentinelUrl } from './connection.js';

describe('parseSentinelUrl', () => {
  it('leaves plain redis URLs alone', () => {
    expect(parseSentinelUrl('redis://127.0.0.1:6379')).toBeUndefined();
    expect(parseSentinelUrl('rediss://user:pw@cache.example.com:6380/2')).toBeUndefined();
  });

  it('reads sentinels, master name, password and db', () => {
    expect(parseSentinelUrl('redis+sentinel://:s3cr%40t@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3')).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      password: 's3cr@t',
      db: 3,
    });
    expect(parseSentinelUrl('redis+sentinels://h:26379/primary')).toEqual({
      sentinels: [{ host: 'h', port: 26379 }],
      name: 'primary',
      tls: {},
    });
  });
});
