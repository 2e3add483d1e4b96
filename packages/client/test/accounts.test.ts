/** The SDK's account calls against the real server: devices, password, blocks, invites, export, admin. */
import { startServer } from '@parley/server';
import type { RunningServer } from '@parley/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChatError } from '../src/node.js';
import { Device, uniqueName, waitFor } from './helpers.js';

let server: RunningServer;
const devices: Device[] = [];

beforeAll(async () => {
  server = await startServer({ env: { PARLEY_SIGNUP: 'invite' } });
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.client.close()));
  await server?.close();
});

function device(): Device {
  const d = new Device(server.baseUrl, {});
  devices.push(d);
  return d;
}

it('covers sign-up by invite, devices, password, blocks, export and administration', async () => {
  const root = device();
  expect(await root.client.api.authConfig()).toEqual({ signup: 'invite' });
  const rootAuth = await root.client.signup({ username: uniqueName('root'), password: 'correct horse' });
  expect(rootAuth.role).toBe('admin');
  expect((await root.client.api.account()).role).toBe('admin');

  const invite = await root.client.api.createInvite({ maxUses: 1 });
  expect(invite.link).toBe(`/#/invite/${invite.code}`);
  const member = device();
  const name = uniqueName('m');
  const auth = await member.client.signup({ username: name, password: 'correct horse', inviteCode: invite.code });
  expect(auth.role).toBe('member');
  expect((await root.client.api.invites())[0]).toMatchObject({ uses: 1, maxUses: 1 });

  // A second device of the member, told by the log when its other device blocks someone.
  const phone = device();
  await phone.client.login({ username: name, password: 'correct horse' });
  const blocks: { userId: string; blocked: boolean }[] = [];
  phone.client.on('block', (b) => blocks.push(b));
  await phone.client.connect();
  await member.client.api.block(rootAuth.user.id);
  await waitFor(() => blocks.length === 1, 'block event');
  expect(blocks).toEqual([{ userId: rootAuth.user.id, blocked: true }]);
  expect((await member.client.api.blocks()).map((b) => b.user.id)).toEqual([rootAuth.user.id]);
  await member.client.api.unblock(rootAuth.user.id);
  await waitFor(() => blocks.length === 2, 'unblock event');

  const listed = await member.client.api.devices();
  expect(listed.map((d) => d.current)).toEqual([true, false]);
  await member.client.api.changePassword({ currentPassword: 'correct horse', newPassword: 'battery staple' });
  await expect(phone.client.api.account()).rejects.toMatchObject({ code: 'unauthorized' });
  expect(await member.client.api.devices()).toHaveLength(1);

  const exported = JSON.parse(await member.client.api.exportData()) as { user: { username: string }; messages: [] };
  expect(exported.user.username).toBe(name);
  expect(exported.messages).toEqual([]);

  const page = await root.client.api.adminUsers({ query: name });
  expect(page.users.map((u) => u.username)).toEqual([name]);
  expect((await root.client.api.adminUpdateUser(auth.user.id, { deactivated: true })).deactivatedAt).toBeDefined();
  await expect(member.client.api.account()).rejects.toMatchObject({ code: 'unauthorized' });
  const stats = await root.client.api.adminStats(3);
  expect(stats.messagesPerDay).toHaveLength(3);
  await expect(member.client.api.adminStats()).rejects.toBeInstanceOf(ChatError);
});
