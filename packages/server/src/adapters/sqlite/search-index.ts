/**
 * The search index and mentions on SQLite (ports/search.ts): writes for the writer's
 * transactions, reads for any connection.
 *
 * The index is a contentless FTS5 table (schema.ts) whose rowid is the message id: it holds the
 * tokens the domain made (domain/search-text.ts), never the text, so a long text in the side
 * file (long-texts.ts) is indexed like any other. FTS5's own tokenizer only splits the token
 * string at its spaces (every token is letters, digits, marks or a symbol such as an emoji).
 */
import type { Message } from '@parley/protocol';
import type { MessageSearch, SearchPageQuery, SearchTerm } from '../../ports/search.js';
import { MESSAGE_COLUMNS, type SqliteConnection, type SqliteMessageRow } from './connection.js';

/**
 * Indexes a message's tokens (inside the caller's transaction). The seam for edits: an edited
 * text is unindexed and indexed again, a deleted one only unindexed.
 */
export function indexMessage(s: SqliteConnection, messageId: string, tokens: string): void {
  if (tokens === '') return;
  s.sql(`INSERT INTO message_search (rowid, tokens) VALUES (CAST(? AS INTEGER), ?)`).run(messageId, tokens);
}

/** Removes a message from the index and from its mentions (inside the caller's transaction). */
export function unindexMessage(s: SqliteConnection, messageId: string): void {
  s.sql(`DELETE FROM message_search WHERE rowid = CAST(? AS INTEGER)`).run(messageId);
  s.sql(`DELETE FROM message_mentions WHERE message_id = ?`).run(messageId);
}

/**
 * Of `names` (lower-cased usernames), the ids of those who are among `memberIds`, in the order of
 * `names`, and records each (but the sender) as mentioned by the message.
 */
export function recordMentions(
  s: SqliteConnection,
  message: { id: string; channelId: string; senderId: string },
  names: readonly string[],
  memberIds: readonly string[],
): string[] {
  if (names.length === 0) return [];
  const rows = s
    .sql(`SELECT CAST(id AS TEXT) AS id, username FROM users WHERE username IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify(names)) as { id: string; username: string }[];
  const byName = new Map(rows.map((row) => [row.username, row.id]));
  const members = new Set(memberIds);
  const ids: string[] = [];
  for (const name of names) {
    const id = byName.get(name);
    if (id !== undefined && members.has(id) && !ids.includes(id)) ids.push(id);
  }
  const insert = s.sql(`INSERT OR IGNORE INTO message_mentions (user_id, channel_id, message_id) VALUES (?, ?, ?)`);
  for (const id of ids) if (id !== message.senderId) insert.run(id, message.channelId, message.id);
  return ids;
}

/** An FTS5 query for the terms: phrases quoted, prefixes starred, all ANDed. */
export function ftsQuery(terms: readonly SearchTerm[]): string {
  return terms
    .map((term) => (term.kind === 'phrase' ? `"${term.tokens.join(' ')}"` : `"${term.token}"*`))
    .join(' AND ');
}

const IN_MY_CHANNELS = `messages.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = ?)`;

export function searchMessages(s: SqliteConnection, userId: string, query: MessageSearch): Message[] {
  const params: unknown[] = [ftsQuery(query.terms)];
  let where = '';
  if (query.before !== undefined) {
    where += ' AND message_search.rowid < CAST(? AS INTEGER)';
    params.push(query.before);
  }
  if (query.channelId !== undefined) {
    where += ' AND messages.channel_id = ?';
    params.push(query.channelId);
  }
  params.push(userId, query.limit);
  const rows = s
    .sql(
      `SELECT ${MESSAGE_COLUMNS} FROM message_search
       JOIN messages ON messages.id = message_search.rowid
       WHERE message_search MATCH ?${where} AND ${IN_MY_CHANNELS}
       ORDER BY message_search.rowid DESC LIMIT ?`,
    )
    .iterate(...params) as Iterable<SqliteMessageRow>;
  return s.readMessagesWithin(rows, query.maxTextBytes ?? Infinity).messages;
}

export function mentions(s: SqliteConnection, userId: string, page: SearchPageQuery): Message[] {
  const params: unknown[] = [userId];
  let where = '';
  if (page.before !== undefined) {
    where = ' AND mm.message_id < ?';
    params.push(page.before);
  }
  params.push(userId, page.limit);
  const rows = s
    .sql(
      `SELECT ${MESSAGE_COLUMNS.replace('CAST(channel_id', 'CAST(messages.channel_id')}
       FROM message_mentions mm JOIN messages ON messages.id = mm.message_id
       WHERE mm.user_id = ?${where} AND mm.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = ?)
       ORDER BY mm.message_id DESC LIMIT ?`,
    )
    .iterate(...params) as Iterable<SqliteMessageRow>;
  return s.readMessagesWithin(rows, page.maxTextBytes ?? Infinity).messages;
}

/** Mentions of `userId` in the channel after `afterId`, up to `cap`. */
export function countMentionsAfter(
  s: SqliteConnection,
  userId: string,
  channelId: string,
  afterId: string | null,
  cap: number,
): number {
  return (
    s
      .sql(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM message_mentions
         WHERE user_id = ? AND channel_id = ? AND message_id > ? LIMIT ${cap})`,
      )
      .get(userId, channelId, afterId ?? 0) as { n: number }
  ).n;
}
