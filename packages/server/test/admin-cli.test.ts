/**
 * `npm run admin`: its commands on the data directory of a server that is running, and the
 * built program's command line.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSqliteAccountsAdmin, type AccountsAdminStore } from '../src/adapters/sqlite/accounts-admin.js';
import { AdminCommands } from '../src/domain/admin.js';
import { systemClock } from '../src/domain/clock.js';
import { SnowflakeGenerator } from '../src/domain/ids.js';
import { startServer, type RunningServer } from '../src/testing.js';
import { errorCode, http, PASSWORD } from './harness.js';

let server: RunningServer;
let store: AccountsAdminStore;
let commands: AdminCommands;

beforeAll(async () => {
  server = await startServer();
  store = openSqliteAccountsAdmin(path.join(server.dataDir, 'parley.db'));
  commands = new AdminCommands(store, new SnowflakeGenerator(1023), systemClock, 10);
});
afterAll(async () => {
  await store.close();
  await server.close();
});

const login = (username: string, password = PASSWORD) =>
  http(server.baseUrl, 'POST', '/v1/auth/login', { body: { username, password } });

it('creates an administrator, promotes and demotes, while the server runs', async () => {
  const first = await http(server.baseUrl, 'POST', '/v1/auth/signup', {
    body: { username: 'alice', password: PASSWORD },
  });
  expect(first.body.role).toBe('admin');
  await http(server.baseUrl, 'POST', '/v1/auth/signup', { body: { username: 'bob', password: PASSWORD } });
  await commands.createAdmin('boss', PASSWORD);
  expect((await login('boss')).body.role).toBe('admin');
  await commands.setRole('bob', 'admin');
  expect((await login('bob')).body.role).toBe('admin');
  await commands.setRole('bob', 'member');
  const bob = await login('bob');
  expect(errorCode(await http(server.baseUrl, 'GET', '/v1/admin/stats', { token: bob.body.token }))).toBe('forbidden');
  expect((await commands.list('', 10)).map((u) => [u.username, u.role])).toEqual([
    ['alice', 'admin'],
    ['bob', 'member'],
    ['boss', 'admin'],
  ]);
});

it('resets a password and signs every device out; refuses an unknown user', async () => {
  await http(server.baseUrl, 'POST', '/v1/auth/signup', { body: { username: 'carol', password: PASSWORD } });
  const before = await login('carol');
  await commands.resetPassword('carol', 'a new password');
  expect((await http(server.baseUrl, 'GET', '/v1/me', { token: before.body.token })).status).toBe(401);
  expect((await login('carol', 'a new password')).status).toBe(200);
  await expect(commands.setRole('nobody', 'admin')).rejects.toMatchObject({ code: 'not_found' });
});

it('runs as a program on the data directory the environment names', async () => {
  const program = fileURLToPath(new URL('../dist/admin-cli.js', import.meta.url));
  const env = {
    ...process.env,
    PARLEY_DATA_DIR: server.dataDir,
    PARLEY_ADMIN_PASSWORD: 'cli password',
    PARLEY_LOG_LEVEL: 'silent',
  };
  const run = promisify(execFile);
  const created = await run(process.execPath, [program, 'create-admin', 'Dora'], { env });
  expect(created.stdout).toBe('created administrator dora\n');
  expect((await login('dora', 'cli password')).body.role).toBe('admin');
  const listed = await run(process.execPath, [program, 'list', 'do'], { env });
  expect(listed.stdout).toMatch(/\tdora\tadmin\tactive\tdora\n$/);
  await expect(run(process.execPath, [program, 'promote', 'nobody'], { env })).rejects.toMatchObject({ code: 1 });
});
