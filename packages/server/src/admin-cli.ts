#!/usr/bin/env node
/**
 * `npm run admin -- <command>`: administration without a running server or a signed-in
 * administrator, on the store the environment names (PARLEY_DATA_DIR or PARLEY_DATABASE_URL, as
 * for `npm start`). Safe while a server runs on the same store (adapters/sqlite/accounts-admin.ts).
 *
 *   create-admin <username>     a new administrator account
 *   promote <username>          make an administrator
 *   demote <username>           make a member
 *   reset-password <username>   set a new password and sign every device out
 *   list [prefix]               accounts (up to 200), with role and state
 *
 * Passwords come from PARLEY_ADMIN_PASSWORD, or one is generated and printed.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ChatError } from '@parley/protocol';
import { ConfigError, loadConfig } from './config/config.js';
import { AdminCommands } from './domain/admin.js';
import { systemClock } from './domain/clock.js';
import { SnowflakeGenerator } from './domain/ids.js';
import type { AccountsAdminStore } from './adapters/sqlite/accounts-admin.js';

const USAGE = `usage: npm run admin -- <command>
  create-admin <username>     create an administrator account
  promote <username>          make a user an administrator
  demote <username>           make an administrator a member
  reset-password <username>   set a new password (signs every device out)
  list [prefix]               list accounts
The store is the one PARLEY_DATA_DIR or PARLEY_DATABASE_URL names; passwords come from
PARLEY_ADMIN_PASSWORD (at least 8 characters), or one is generated and printed.`;

async function openStore(): Promise<AccountsAdminStore> {
  const config = loadConfig(process.env);
  if (config.storage.kind === 'postgres') {
    const { PostgresStore } = await import('./adapters/postgres/postgres-store.js');
    return PostgresStore.open({ url: config.storage.url, poolSize: 2 });
  }
  const { openSqliteAccountsAdmin } = await import('./adapters/sqlite/accounts-admin.js');
  return openSqliteAccountsAdmin(path.resolve(config.storage.path));
}

function password(): { value: string; generated: boolean } {
  const given = process.env.PARLEY_ADMIN_PASSWORD;
  if (given !== undefined) {
    if (given.length < 8)
      throw new ChatError('invalid_request', 'PARLEY_ADMIN_PASSWORD must have at least 8 characters');
    return { value: given, generated: false };
  }
  return { value: randomBytes(12).toString('base64url'), generated: true };
}

async function run(args: string[]): Promise<number> {
  const [command, name] = args;
  if (command === undefined || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const store = await openStore();
  // Its ids could only collide with a server leasing node id 1023 in the same millisecond, which
  // would fail the insert (a taken id), never overwrite anything.
  const commands = new AdminCommands(store, new SnowflakeGenerator(1023), systemClock);
  try {
    const needName = () => {
      if (!name) throw new ChatError('invalid_request', `${command} needs a username`);
      return name.toLowerCase();
    };
    switch (command) {
      case 'create-admin': {
        const username = needName();
        const pw = password();
        await commands.createAdmin(username, pw.value);
        console.log(`created administrator ${username}${pw.generated ? ` with password ${pw.value}` : ''}`);
        return 0;
      }
      case 'promote':
      case 'demote': {
        const username = needName();
        await commands.setRole(username, command === 'promote' ? 'admin' : 'member');
        console.log(`${username} is now ${command === 'promote' ? 'an administrator' : 'a member'}`);
        return 0;
      }
      case 'reset-password': {
        const username = needName();
        const pw = password();
        await commands.resetPassword(username, pw.value);
        console.log(
          `reset the password of ${username}${pw.generated ? ` to ${pw.value}` : ''}; its devices are signed out`,
        );
        return 0;
      }
      case 'list': {
        for (const user of await commands.list(name ?? '', 200)) {
          const state = user.deactivatedAt ? 'deactivated' : 'active';
          console.log(`${user.id}\t${user.username}\t${user.role}\t${state}\t${user.displayName}`);
        }
        return 0;
      }
      default:
        console.error(`unknown command: ${command}\n${USAGE}`);
        return 2;
    }
  } finally {
    await store.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof ChatError) console.error(error.message);
    else console.error(error);
    process.exit(1);
  },
);
