/**
 * Mute and push settings as a client sees them: the channel view's `muted`, the sync event to the
 * user's other devices (live and from the log), and who may change what.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { group, newUser, type Client } from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let bob: Client;
let eve: Client;

describe('mute and push settings', () => {
  beforeAll(async () => {
    t = await startTarget();
    [alice, bob, eve] = await Promise.all([newUser(t, 'alice'), newUser(t, 'bob'), newUser(t, 'eve')]);
  });
  afterAll(() => t?.close());

  it('mutes a conversation for the caller only, and tells their other devices live and in the log', async () => {
    const g = await group(alice, [bob], 'quiet');
    const phone = await bob.newDevice('phone');
    const live = await phone.connect();
    const res = await bob.req('PATCH', `/v1/channels/${g}/settings`, { muted: true });
    expect(res.body).toEqual({ channelId: g, muted: true });
    const event = await live.waitFor((f) => f.op === 'event' && f.type === 'channel.settings.updated');
    expect(event).toMatchObject({ channelId: g, muted: true });
    await live.close();
    const views = async (c: Client) =>
      (await c.req('GET', '/v1/channels')).body.channels.find((ch: { id: string }) => ch.id === g);
    expect((await views(bob)).muted).toBe(true);
    expect((await views(alice)).muted).toBeUndefined();
    const sync = await phone.req('GET', '/v1/sync?since=0');
    expect(sync.body.events.at(-1)).toMatchObject({ type: 'channel.settings.updated', channelId: g, muted: true });
    await bob.req('PATCH', `/v1/channels/${g}/settings`, { muted: false });
    expect((await views(bob)).muted).toBeUndefined();
  });

  it('refuses a non-member (not_found) and a body that is not {muted: boolean}', async () => {
    const g = await group(alice, [bob], 'private');
    expect((await eve.req('PATCH', `/v1/channels/${g}/settings`, { muted: true })).body.error.code).toBe('not_found');
    expect((await bob.req('PATCH', `/v1/channels/${g}/settings`, { muted: 'yes' })).body.error.code).toBe(
      'invalid_request',
    );
  });

  it('keeps the preview setting per user, on by default', async () => {
    expect((await eve.req('GET', '/v1/push/settings')).body).toEqual({ previews: true });
    expect((await eve.req('PATCH', '/v1/push/settings', { previews: false })).body).toEqual({ previews: false });
    expect((await (await eve.newDevice()).req('GET', '/v1/push/settings')).body).toEqual({ previews: false });
  });

  it('says which push services it sends through', async () => {
    const res = await alice.req('GET', '/v1/push/config');
    expect(res.body.enabled).toBe(res.body.providers.length > 0);
    for (const provider of res.body.providers) expect(['webpush', 'apns', 'fcm']).toContain(provider);
  });
});
