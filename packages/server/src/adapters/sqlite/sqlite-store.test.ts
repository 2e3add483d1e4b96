import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describePushOutboxContract } from '../../ports/contract/push-outbox.contract.js';
import { describePushSubscriptionStoreContract } from '../../ports/contract/push-subscriptions.contract.js';
import { describeStoreContract } from '../../ports/contract/store.contract.js';
import { expect, it } from 'vitest';
import { openSqliteStoreHere } from './sqlite-store.js';
import { openSqliteStore } from './threaded-store.js';
import { SqliteReader } from './reader.js';
import { SqliteConnection } from './connection.js';
import { dmOf, groupOf } from '../../ports/contract/fixtures.js';
import { indexedText } from '../../ports/contract/suite.js';

async function inMemory() {
  const store = openSqliteStoreHere({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
}

/**
 * A file database, as in production: writes on the writer thread, reads on this one, checkpoints
 * on a thread of their own, the WAL synced off the writer's event loop.
 */
async function onDisk() {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const store = await openSqliteStore({ path: path.join(dir, 'parley.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('sqlite in memory', inMemory);
describeStoreContract('sqlite file', onDisk);
describePushSubscriptionStoreContract('sqlite', inMemory);
describePushOutboxContract('sqlite in memory', inMemory);
describePushOutboxContract('sqlite file', onDisk);

it('keeps the WAL bounded while messages are committed without a pause', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const file = path.join(dir, 'parley.db');
  const limit = 1024 * 1024;
  const store = openSqliteStoreHere({
    path: file,
    checkpoint: { intervalMs: 10, restartFrames: 64, walSizeLimitBytes: limit },
  });
  try {
    const now = new Date().toISOString();
    await store.createUser({ id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt: now });
    await store.createUser({ id: '2', username: 'b', displayName: 'B', passwordHash: 'h', createdAt: now });
    await store.getOrCreateDm(...dmOf('3', '1', '2', now));
    const text = 'x'.repeat(4000);
    let id = 1000;
    let largest = 0;
    // About 40 MB of message text, committed back to back as a busy server would.
    for (let batch = 0; batch < 500; batch++) {
      const messages = Array.from({ length: 20 }, () => {
        id++;
        return { id: String(id), channelId: '3', senderId: '1', text, createdAt: now, clientMsgId: `c${id}` };
      });
      await store.appendMessages(messages);
      largest = Math.max(largest, statSync(`${file}-wal`).size);
    }
    expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(limit + 4 * 1024 * 1024);
    expect(largest).toBeLessThan(20 * 1024 * 1024);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('reads beside the writer on a connection that refuses every write', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const file = path.join(dir, 'parley.db');
  const writer = openSqliteStoreHere({ path: file });
  const opened = SqliteReader.open(file);
  try {
    const user = { id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt: new Date().toISOString() };
    // The reader has no write methods at all (routes.ts); its connection is query_only besides.
    expect(() => opened.db.prepare(`DELETE FROM users`).run()).toThrow(/readonly/);
    await writer.createUser(user);
    expect((await opened.reader.getUser('1'))?.username).toBe('a');
  } finally {
    opened.close();
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it("merges the search index's segments sixteen at a time, and a whole level at once only past 64", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const file = path.join(dir, 'parley.db');
  await openSqliteStoreHere({ path: file }).close();
  const db = new Database(file, { readonly: true });
  try {
    const config = db.prepare(`SELECT k, v FROM message_search_config WHERE k IN ('automerge', 'crisismerge')`).all();
    expect(Object.fromEntries(config.map((row) => [(row as { k: string }).k, (row as { v: number }).v]))).toEqual({
      automerge: 16,
      crisismerge: 64,
    });
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('runs the reads a hello asks for in one turn in one read transaction, each with its own answer', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const file = path.join(dir, 'parley.db');
  const writer = openSqliteStoreHere({ path: file });
  const statements: string[] = [];
  const db = new Database(file, { verbose: (sql) => statements.push(String(sql).trim().split(/\s+/)[0]!) });
  const reader = new SqliteReader(new SqliteConnection(db, undefined), { readsInTurns: true });
  try {
    const at = new Date().toISOString();
    for (const id of ['1', '2']) {
      await writer.createUser({ id, username: `u${id}`, displayName: id, passwordHash: 'h', createdAt: at });
      await writer.createDevice({ id: `1${id}`, userId: id, name: 'phone', tokenHash: `token-${id}`, createdAt: at });
    }
    await writer.setLastSeen(['2'], at);
    statements.length = 0;
    const one = reader.findDeviceByTokenHash('token-1');
    // Committed after the first read was asked for, in the same turn: the batch, run at the
    // turn's end, sees it.
    await writer.createDevice({ id: '13', userId: '1', name: 'laptop', tokenHash: 'token-3', createdAt: at });
    const answers = await Promise.all([
      one,
      reader.findDeviceByTokenHash('token-3'),
      reader.findDeviceByTokenHash('no such token'),
      reader.getLastSeen(['1', '2']),
    ]);
    expect(answers).toEqual([
      { deviceId: '11', userId: '1', lastUsedAt: at },
      { deviceId: '13', userId: '1', lastUsedAt: at },
      undefined,
      new Map([['2', at]]),
    ]);
    expect(statements).toEqual(['BEGIN', 'SELECT', 'SELECT', 'SELECT', 'SELECT', 'COMMIT']);
    // A read alone in its turn needs no transaction of its own.
    statements.length = 0;
    expect(await reader.findDeviceByTokenHash('token-2')).toMatchObject({ deviceId: '12' });
    expect(statements).toEqual(['SELECT']);
  } finally {
    db.close();
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it("answers the log bounds on the server's thread as the writer would, through appends, rollbacks and trims", async () => {
  const { store, cleanup } = await onDisk();
  try {
    const now = new Date().toISOString();
    for (const id of ['1', '2']) {
      await store.createUser({ id, username: `u${id}`, displayName: id, passwordHash: 'h', createdAt: now });
    }
    expect(await store.logBounds('1')).toEqual({ head: 0, floor: 0 });
    expect(await store.logBounds('2')).toEqual({ head: 0, floor: 0 });
    await store.getOrCreateDm(...dmOf('3', '1', '2', now));
    const message = (id: number) => ({
      id: String(id),
      channelId: '3',
      senderId: '1',
      text: `m${id}`,
      createdAt: now,
      clientMsgId: `c${id}`,
    });
    // Asked in the same turn as a batch: an answer from before the commit, never one above it.
    const [, during] = await Promise.all([store.appendMessages([message(100)]), store.logBounds('2')]);
    expect([1, 2]).toContain(during.head);
    expect(await store.logBounds('2')).toEqual({ head: 2, floor: 0 });
    // A batch that rolls back after logging its first message teaches nothing.
    await expect(store.appendMessages([message(101), { ...message(100), clientMsgId: 'new' }])).rejects.toThrow(
      /UNIQUE/,
    );
    expect(await store.logBounds('2')).toEqual({ head: 2, floor: 0 });
    await store.appendLog([{ userIds: ['2'], type: 'user.updated', data: { userId: '1' } }], now);
    expect(await store.logBounds('2')).toEqual({ head: 3, floor: 0 });
    expect(await store.logBounds('1')).toEqual({ head: 2, floor: 0 });
    // Trimming everything keeps each user's newest entry, and the floor moves up to it.
    await store.trimLog(new Date(Date.now() + 60_000).toISOString());
    expect(await store.logBounds('2')).toEqual({ head: 3, floor: 2 });
  } finally {
    await cleanup();
  }
});

it('resolves message batches in commit order while the next one commits during the previous sync', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const store = openSqliteStoreHere({ path: path.join(dir, 'parley.db') });
  try {
    const now = new Date().toISOString();
    await store.createUser({ id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt: now });
    await store.createGroup(...groupOf('3', 'self', '1', [], now));
    const resolved: number[] = [];
    const batches = Array.from({ length: 20 }, (_, i) =>
      store
        .appendMessages([
          { id: String(100 + i), channelId: '3', senderId: '1', text: 't', createdAt: now, clientMsgId: `c${i}` },
        ])
        .then((results) => {
          resolved.push(i);
          return results;
        }),
    );
    const seqs = (await Promise.all(batches)).map((results) => {
      const [result] = results;
      return result?.status === 'created' ? result.entries[0]!.seq : undefined;
    });
    expect(resolved).toEqual([...Array(20).keys()]);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('leaves no trace of a deleted, edited or erased text in the database or the long-text file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-sqlite-'));
  const file = path.join(dir, 'parley.db');
  const store = openSqliteStoreHere({ path: file });
  try {
    const now = new Date().toISOString();
    await store.createUser({ id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt: now });
    await store.createUser({ id: '2', username: 'b', displayName: 'B', passwordHash: 'h', createdAt: now });
    await store.getOrCreateDm(...dmOf('3', '1', '2', now));
    // Indexed for search as MessageService.send does (the index holds words, never the text).
    const message = (id: string, text: string, senderId = '1') => ({
      id,
      channelId: '3',
      senderId,
      createdAt: now,
      clientMsgId: id,
      ...indexedText(text),
    });
    await store.appendMessages([
      message('10', 'short-secret-alpha'),
      message('11', 'long-secret-bravo '.repeat(200)),
      message('12', 'long-secret-charlie '.repeat(200)),
      message('13', 'kept text'),
      message('14', 'short-secret-delta', '2'),
      message('15', 'long-secret-echo '.repeat(200), '2'),
    ]);
    const ref = (messageId: string) => ({ channelId: '3', messageId, at: now, events: [] });
    await store.deleteMessage(ref('10'));
    await store.deleteMessage(ref('11'));
    await store.editMessage({ ...ref('12'), senderId: '1', ...indexedText('edited') });
    // A deleted account whose messages are erased (PARLEY_DELETED_ACCOUNT_MESSAGES=erase).
    await store.deleteAccount({ userId: '2', eraseMessages: true, at: now, events: [] });
  } finally {
    await store.close();
  }
  try {
    for (const suffix of ['', '-texts']) {
      const bytes = await readFile(`${file}${suffix}`);
      for (const secret of [
        'short-secret-alpha',
        'long-secret-bravo',
        'long-secret-charlie',
        'short-secret-delta',
        'long-secret-echo',
      ]) {
        expect(bytes.includes(secret), `${secret} in parley.db${suffix}`).toBe(false);
      }
    }
    expect((await readFile(file)).includes('kept text')).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
