/** The SDK reads the whole channel list page by page: more channels than one page holds. */
import { limits } from '@parley/protocol';
import { startServer } from '@parley/server';
import type { RunningServer } from '@parley/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ParleyApi } from '../src/node.js';
import { uniqueName } from './helpers.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

it('api.channels() follows nextBefore until hasMore is false, each channel once, most recent first', async () => {
  const alice = new ParleyApi({ baseUrl: server.baseUrl });
  const bob = new ParleyApi({ baseUrl: server.baseUrl });
  alice.token = (await alice.signup({ username: uniqueName('alice'), password: 'correct horse' })).token;
  const signedUp = await bob.signup({ username: uniqueName('bob'), password: 'correct horse' });
  bob.token = signedUp.token;
  const b = signedUp.user;
  const created: string[] = [];
  for (let i = 0; i < limits.maxChannelsLimit + 3; i++) {
    created.push((await alice.createGroup({ name: `g${i}`, memberIds: [b.id] })).id);
  }
  const first = await bob.channelPage();
  expect(first.channels).toHaveLength(limits.maxChannelsLimit);
  expect(first.hasMore).toBe(true);
  expect((await bob.channels()).map((c) => c.id)).toEqual(created.reverse());
});

it('api.channels() keeps a channel that gains a message while it pages (it moves to the front)', async () => {
  const alice = new ParleyApi({ baseUrl: server.baseUrl });
  alice.token = (await alice.signup({ username: uniqueName('alice'), password: 'correct horse' })).token;
  const bobAuth = await new ParleyApi({ baseUrl: server.baseUrl }).signup({
    username: uniqueName('bob'),
    password: 'correct horse',
  });
  const created: string[] = [];
  for (let i = 0; i < limits.maxChannelsLimit + 3; i++) {
    created.push((await alice.createGroup({ name: `g${i}`, memberIds: [bobAuth.user.id] })).id);
  }
  // The oldest group is on the second page; it gets a message once the first page is read.
  const oldest = created[0]!;
  let firstPageRead = false;
  const bob = new ParleyApi({
    baseUrl: server.baseUrl,
    token: bobAuth.token,
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      if (!firstPageRead && String(url).endsWith('/v1/channels')) {
        firstPageRead = true;
        await alice.postMessage(oldest, { text: 'moved', clientMsgId: 'move-1' });
      }
      return response;
    },
  });
  const ids = (await bob.channels()).map((c) => c.id);
  expect(firstPageRead).toBe(true);
  expect(ids).toEqual([oldest, ...created.slice(1).reverse()]);
});
