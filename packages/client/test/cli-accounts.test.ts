/** The terminal client's account commands (/devices, /signout, /password), driven over its stdin. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@parley/server';
import type { RunningServer } from '@parley/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ParleyApi } from '../src/node.js';
import { uniqueName, waitFor } from './helpers.js';

const program = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let server: RunningServer;
let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  server = await startServer();
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-cli-'));
});
afterAll(async () => {
  child?.kill();
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('lists devices, signs one out and changes the password', async () => {
  const username = uniqueName('cli');
  const password = 'correct-horse';
  const tablet = new ParleyApi({ baseUrl: server.baseUrl });
  await tablet.signup({ username, password, deviceName: 'first' });
  tablet.token = (await tablet.login({ username, password, deviceName: 'tablet' })).token;

  let output = '';
  child = spawn(
    process.execPath,
    [program, '--url', server.baseUrl, '--user', username, '--password', password, '--data', dataDir],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const say = (line: string) => child!.stdin!.write(`${line}\n`);
  await waitFor(() => output.includes('/help'), 'the prompt');

  say('/devices');
  await waitFor(() => output.includes('(this device)'), 'the device list');
  const listed = output.split('\n').filter((l) => /^(> )?\s+\d+\. /.test(l));
  expect(listed, output).toHaveLength(3);
  const number = /(\d+)\. tablet/.exec(listed.join('\n'))![1];
  say(`/signout ${number}`);
  await waitFor(() => output.includes('* signed out tablet'), 'the sign-out');
  await expect(tablet.me()).rejects.toMatchObject({ code: 'unauthorized' });

  say('/password not-the-password new-password-1');
  await waitFor(() => output.includes('password is wrong'), 'a refused change');
  say(`/password ${password} new-password-1`);
  await waitFor(() => output.includes('* password changed'), 'the change');
  const check = new ParleyApi({ baseUrl: server.baseUrl });
  expect((await check.login({ username, password: 'new-password-1' })).user.username).toBe(username);
}, 30_000);
