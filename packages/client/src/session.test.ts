/** SessionKeeper with a fake fetch: login, signup, resume from storage, revoke. */
import { ChatError } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { ParleyApi } from './api.js';
import type { FetchLike } from './api.js';
import { SessionKeeper } from './session.js';
import { MemoryStorage } from './storage.js';

function setup(logoutStatus = 204) {
  const requests: { path: string; body?: string; auth?: string }[] = [];
  const fetch: FetchLike = async (href, init) => {
    const path = new URL(href).pathname;
    requests.push({
      path,
      ...(init.body ? { body: init.body } : {}),
      ...(init.headers.authorization ? { auth: init.headers.authorization } : {}),
    });
    const auth = { user: { id: 'u1', username: 'ann', displayName: 'Ann' }, token: 'tok', deviceId: 'd1' };
    if (path === '/v1/auth/signup' || path === '/v1/auth/login') {
      return { status: 200, ok: true, text: async () => JSON.stringify(auth) };
    }
    if (path === '/v1/auth/logout') {
      const body =
        logoutStatus === 204
          ? ''
          : JSON.stringify({ error: { code: logoutStatus === 401 ? 'unauthorized' : 'unavailable', message: 'x' } });
      return { status: logoutStatus, ok: logoutStatus < 300, text: async () => body };
    }
    return { status: 404, ok: false, text: async () => '' };
  };
  const api = new ParleyApi({ baseUrl: 'http://fake', fetch });
  const storage = new MemoryStorage();
  const keeper = new SessionKeeper(api, storage, 'laptop', (e) => {
    throw e;
  });
  return { api, storage, keeper, requests };
}

describe('SessionKeeper', () => {
  it('logs in with the device name and saves the session it is told to use', async () => {
    const { api, storage, keeper, requests } = setup();
    const { session } = await keeper.login({ username: 'ann', password: 'pw' });
    expect(JSON.parse(requests[0]!.body!)).toMatchObject({ deviceName: 'laptop', username: 'ann' });
    expect(keeper.current).toBeUndefined();
    keeper.use(session);
    await keeper.flush();
    expect(api.token).toBe('tok');
    expect(keeper.current).toMatchObject({ token: 'tok', userId: 'u1', deviceId: 'd1' });
    expect(await keeper.stored()).toEqual(keeper.current);
    expect(JSON.parse((await storage.get('session'))!)).toMatchObject({ token: 'tok' });
  });

  it('resumes nothing from a missing or garbled stored session', async () => {
    const { storage, keeper } = setup();
    expect(await keeper.stored()).toBeUndefined();
    await storage.set('session', '{not json');
    expect(await keeper.stored()).toBeUndefined();
    await storage.set('session', JSON.stringify({ token: 42, userId: 'u1' }));
    expect(await keeper.stored()).toBeUndefined();
  });

  it('revokes on the server; a token already refused counts as revoked, other failures are returned', async () => {
    for (const [status, failed] of [
      [204, false],
      [401, false],
      [503, true],
    ] as const) {
      const { keeper, requests } = setup(status);
      const { session } = await keeper.signup({ username: 'ann', password: 'pw' });
      keeper.use(session);
      const failure = await keeper.revoke();
      expect(requests.at(-1)).toMatchObject({ path: '/v1/auth/logout', auth: 'Bearer tok' });
      if (failed) expect(failure).toBeInstanceOf(ChatError);
      else expect(failure).toBeUndefined();
    }
  });

  it('erase deletes the stored session; forget drops it here', async () => {
    const { api, storage, keeper } = setup();
    keeper.use({ token: 'tok', userId: 'u1', deviceId: 'd1' });
    keeper.erase();
    await keeper.flush();
    expect(await storage.get('session')).toBeUndefined();
    keeper.forget();
    expect(keeper.current).toBeUndefined();
    expect(api.token).toBeUndefined();
  });
});
