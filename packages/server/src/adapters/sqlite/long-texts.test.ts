import { appendFileSync, openSync, closeSync, statSync, truncateSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewMessage, Store } from '../../ports/store.js';
import { LONG_TEXT_BYTES, TextsOnDiskMark, type LongTexts } from './long-texts.js';
import { migrations } from './schema.js';
import { openSqliteStore } from './threaded-store.js';
import { dmOf } from '../../ports/contract/fixtures.js';

// Texts of LONG_TEXT_BYTES or more live in the file beside the database (long-texts.ts); every
// read path must give them back exactly, whether the row or the file holds them.

let dir: string;
let file: string;
let store: Store | undefined;
const now = new Date().toISOString();

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-long-texts-'));
  file = path.join(dir, 'parley.db');
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The server's shape: writes on the writer thread, reads on this one. Users 1, 2 and their DM 3. */
async function openWithDm(): Promise<Store> {
  store = await openSqliteStore({ path: file });
  await store.createUser({ id: '1', username: 'a', displayName: 'A', passwordHash: 'h', createdAt: now });
  await store.createUser({ id: '2', username: 'b', displayName: 'B', passwordHash: 'h', createdAt: now });
  await store.getOrCreateDm(...dmOf('3', '1', '2', now));
  return store;
}

async function reopen(): Promise<Store> {
  await store?.close();
  store = await openSqliteStore({ path: file });
  return store;
}

const message = (id: number, text: string): NewMessage => ({
  id: String(id),
  channelId: '3',
  senderId: '1',
  text,
  createdAt: now,
  clientMsgId: `c${id}`,
});

/** 9,000 characters of 1 to 4 UTF-8 bytes, so byte and character offsets differ (cut between characters). */
const longText = (seed: string) => [...`${seed} ${'héllo wörld 你好 🎉 '.repeat(560)}`].slice(0, 9_000).join('');

const textsFileSize = () => statSync(`${file}-texts`).size;

function storedRow(id: string): { text: string; text_at: number | null } {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT text, text_at FROM messages WHERE id = ?`).get(id) as { text: string; text_at: number };
  } finally {
    db.close();
  }
}

it('keeps a long text out of its row and gives it back on every read path', async () => {
  const s = await openWithDm();
  const text = longText('first');
  await s.appendMessages([message(100, text)]);

  expect(storedRow('100')).toEqual({ text: '', text_at: 0 });
  expect(textsFileSize()).toBe(Buffer.byteLength(text));
  expect((await s.listMessages('3', { limit: 10 })).map((m) => m.text)).toEqual([text]);
  expect((await s.getMessage('3', '100'))?.text).toBe(text);
  const log = await s.readLog('2', 1, 10);
  expect(log.map((entry) => entry.message?.text)).toEqual([text]);
});

it('keeps a text shorter than the threshold in its row', async () => {
  const s = await openWithDm();
  const short = 'é'.repeat((LONG_TEXT_BYTES - 2) / 2); // LONG_TEXT_BYTES - 2 bytes, half as many characters
  await s.appendMessages([message(100, short)]);

  expect(storedRow('100')).toEqual({ text: short, text_at: null });
  expect(textsFileSize()).toBe(0);
  expect((await s.getMessage('3', '100'))?.text).toBe(short);
});

it('puts a text of exactly the threshold in the file, after the texts before it', async () => {
  const s = await openWithDm();
  const first = longText('one');
  const exact = 'x'.repeat(LONG_TEXT_BYTES);
  await s.appendMessages([message(100, first), message(101, 'short'), message(102, exact)]);

  expect(storedRow('102').text_at).toBe(Buffer.byteLength(first));
  expect((await s.listMessages('3', { limit: 10 })).map((m) => m.text)).toEqual([first, 'short', exact]);
});

it('answers a resend of a long message with the original text', async () => {
  const s = await openWithDm();
  const text = longText('original');
  await s.appendMessages([message(100, text)]);
  const [result] = await s.appendMessages([{ ...message(101, longText('resent')), clientMsgId: 'c100' }]);

  expect(result).toMatchObject({ status: 'duplicate', message: { id: '100', text } });
});

it('reads long texts after a restart, skipping bytes a crash left at the end of the file', async () => {
  const s = await openWithDm();
  const before = longText('before');
  await s.appendMessages([message(100, before)]);
  await store!.close();
  store = undefined;
  // What a crash between writing a batch's texts and committing its rows leaves behind.
  appendFileSync(`${file}-texts`, 'bytes that no row points at');

  const reopened = await reopen();
  const after = longText('after');
  await reopened.appendMessages([message(101, after)]);

  expect((await reopened.listMessages('3', { limit: 10 })).map((m) => m.text)).toEqual([before, after]);
});

/**
 * What a machine crash can leave: message 101's row committed (its WAL pages reached the disk)
 * while its text did not, so it was never acked. Message 100 was acked before 101 was sent.
 */
async function crashAfterCommittingTwo(damage: (textsFile: string, lostAt: number) => void): Promise<string> {
  const s = await openWithDm();
  const kept = longText('acked');
  await s.appendMessages([message(100, kept)]);
  await s.appendMessages([message(101, longText('never acked'))]);
  await store!.close();
  store = undefined;
  damage(`${file}-texts`, Buffer.byteLength(kept));
  return kept;
}

it('removes at start-up a message whose text a crash lost, and stores its resend anew', async () => {
  const kept = await crashAfterCommittingTwo((textsFile, lostAt) => truncateSync(textsFile, lostAt));

  const s = await reopen();
  expect((await s.listMessages('3', { limit: 10 })).map((m) => m.id)).toEqual(['100']);
  expect(await s.getMessage('3', '101')).toBeUndefined();
  const resent = longText('never acked');
  const [result] = await s.appendMessages([{ ...message(102, resent), clientMsgId: 'c101' }]);

  expect(result).toMatchObject({ status: 'created', message: { id: '102', text: resent } });
  expect((await s.listMessages('3', { limit: 10 })).map((m) => m.text)).toEqual([kept, resent]);
});

it('removes at start-up a message whose text came back with other bytes', async () => {
  await crashAfterCommittingTwo((textsFile, lostAt) => {
    const fd = openSync(textsFile, 'r+');
    writeSync(fd, Buffer.alloc(4096), 0, 4096, lostAt + 100);
    closeSync(fd);
  });

  const s = await reopen();
  expect((await s.listMessages('3', { limit: 10 })).map((m) => m.id)).toEqual(['100']);
});

it('keeps the log entries of a message whose text a crash lost, so seqs stay gap-free', async () => {
  await crashAfterCommittingTwo((textsFile, lostAt) => truncateSync(textsFile, lostAt));

  const s = await reopen();
  const log = await s.readLog('2', 0, 10);
  expect(
    log.filter((entry) => entry.type === 'message.created').map((entry) => [entry.messageId, entry.message?.id]),
  ).toEqual([
    ['100', '100'],
    ['101', undefined],
  ]);
});

it('reads back at start-up only the texts after the last recorded mark, not the whole history', async () => {
  const s = await openWithDm();
  await s.appendMessages([message(100, longText('synced long ago'))]);
  await s.appendMessages([message(101, 'a short one, committed once the long text was on disk')]);
  await store!.close();
  store = undefined;
  // Damage start-up would notice if it read message 100's text back: it must not need to.
  const fd = openSync(`${file}-texts`, 'r+');
  writeSync(fd, Buffer.alloc(16), 0, 16, 0);
  closeSync(fd);

  const reopened = await reopen();
  expect((await reopened.listMessages('3', { limit: 10 })).map((m) => m.id)).toEqual(['100', '101']);
});

it('reads a database written before long texts moved out, and adds long texts to it', async () => {
  // The schema as it was before the long-text file (migrations 1-4), with a long text in its row.
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  for (const migration of migrations.slice(0, 4)) old.exec(migration);
  old.pragma('user_version = 4');
  old.exec(`INSERT INTO users (id, username, display_name, password_hash, created_at)
      VALUES (1, 'a', 'A', 'h', '${now}'), (2, 'b', 'B', 'h', '${now}');
    INSERT INTO channels (id, kind, dm_key, created_at) VALUES (3, 'dm', '1:2', '${now}');
    INSERT INTO channel_members (channel_id, user_id, role, joined_at)
      VALUES (3, 1, 'member', '${now}'), (3, 2, 'member', '${now}');`);
  const inRow = longText('in its row');
  old
    .prepare(
      `INSERT INTO messages (id, channel_id, sender_id, text, created_at, client_msg_id) VALUES (100, 3, 1, ?, ?, 'c100')`,
    )
    .run(inRow, now);
  old.close();

  const s = await reopen();
  const inFile = longText('in the file');
  await s.appendMessages([message(101, inFile)]);

  expect(storedRow('100')).toEqual({ text: inRow, text_at: null });
  expect(storedRow('101')).toEqual({ text: '', text_at: 0 });
  expect((await s.listMessages('3', { limit: 10 })).map((m) => m.text)).toEqual([inRow, inFile]);
});

describe('TextsOnDiskMark', () => {
  const syncedFile = { sync: () => Promise.resolve() } as unknown as LongTexts;

  it('moves past a batch of long texts once their sync is done', async () => {
    const mark = new TextsOnDiskMark(0n, () => 5000);
    const synced = mark.sync(syncedFile, 100n);
    expect(mark.due()).toBeUndefined();
    await synced;
    expect(mark.due()).toBe(100n);
  });

  it('moves past a batch without long texts only while no sync is under way', async () => {
    let finishSync!: () => void;
    const slowFile = { sync: () => new Promise<void>((resolve) => (finishSync = resolve)) } as unknown as LongTexts;
    const mark = new TextsOnDiskMark(0n, () => 5000);
    const synced = mark.sync(slowFile, 100n);
    mark.withoutTexts(101n);
    expect(mark.due()).toBeUndefined();
    finishSync();
    await synced;
    expect(mark.due()).toBe(100n);
    mark.withoutTexts(102n);
    expect(mark.due()).toBe(102n);
  });

  it('is due at most once a second', () => {
    let now = 5000;
    const mark = new TextsOnDiskMark(0n, () => now);
    mark.withoutTexts(100n);
    mark.recorded(mark.due()!);
    mark.withoutTexts(101n);
    now += 999;
    expect(mark.due()).toBeUndefined();
    now += 1;
    expect(mark.due()).toBe(101n);
  });
});
