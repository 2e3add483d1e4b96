/**
 * The search index and mentions on PostgreSQL (ports/search.ts), in the transactions of
 * postgres-store.ts.
 *
 * The index is message_search (id, channel_id, tokens tsvector) with a GIN index. The tsvector is
 * built from the domain's tokens (domain/search-text.ts) as a literal with positions, never by a
 * text-search parser or dictionary, so it holds exactly the tokens SQLite's index holds; a query's
 * terms become a tsquery of the same tokens (`<->` for adjacent, `:*` for a prefix). No extension
 * is needed.
 *
 * PostgreSQL's limits on a tsvector: positions above 16,383 are stored as 16,383 (a phrase that
 * far into a very long text may then fail to match, single tokens still do), at most 256
 * positions per token are kept, and the whole value must stay under 1 MB, so a text's tokens are
 * indexed up to about 900 KB of distinct tokens (the first ~300,000 characters of a text of all
 * distinct CJK bigrams; texts are at most 100,000 characters).
 */
import type pg from 'pg';
import type { MessageSearch, SearchPageQuery, SearchTerm } from '../../ports/search.js';
import type { MessageRow } from '../sql-rows.js';

type Queryable = pg.PoolClient | pg.Pool;

const MAX_LEXEME_BYTES = 900_000;

function quoteLexeme(token: string): string {
  return `'${token.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The tsvector literal of a token string ('' for none). */
export function tsvectorLiteral(tokens: string): string {
  if (tokens === '') return '';
  const positions = new Map<string, number[]>();
  let bytes = 0;
  let position = 0;
  for (const token of tokens.split(' ')) {
    if (token === '') continue;
    position = Math.min(position + 1, 16_383);
    const list = positions.get(token);
    if (list !== undefined) {
      if (list.length < 256) list.push(position);
      continue;
    }
    bytes += Buffer.byteLength(token) + 8;
    if (bytes > MAX_LEXEME_BYTES) break;
    positions.set(token, [position]);
  }
  return [...positions].map(([token, list]) => `${quoteLexeme(token)}:${list.join(',')}`).join(' ');
}

/** The tsquery of the terms: all must match. */
export function tsqueryOf(terms: readonly SearchTerm[]): string {
  return terms
    .map((term) =>
      term.kind === 'phrase' ? `(${term.tokens.map(quoteLexeme).join(' <-> ')})` : `${quoteLexeme(term.token)}:*`,
    )
    .join(' & ');
}

/**
 * Indexes messages' tokens (inside the caller's transaction). The seam for edits: an edited text
 * is unindexed and indexed again, a deleted one only unindexed.
 */
export async function indexMessages(
  c: Queryable,
  messages: readonly { id: string; channelId: string; tokens: string }[],
): Promise<void> {
  const indexed = messages.filter((m) => m.tokens !== '');
  if (indexed.length === 0) return;
  await c.query(
    `INSERT INTO message_search (id, channel_id, tokens)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::tsvector[])`,
    [indexed.map((m) => m.id), indexed.map((m) => m.channelId), indexed.map((m) => tsvectorLiteral(m.tokens))],
  );
}

/** Removes a message from the index and from its mentions (inside the caller's transaction). */
export async function unindexMessage(c: Queryable, messageId: string): Promise<void> {
  await c.query(`DELETE FROM message_search WHERE id = $1`, [messageId]);
  await c.query(`DELETE FROM message_mentions WHERE message_id = $1`, [messageId]);
}

/** Ids of the users with these (lower-cased) usernames, by username. */
export async function usersByName(c: Queryable, names: readonly string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const { rows } = await c.query<{ id: string; username: string }>(
    `SELECT id, username FROM users WHERE username = ANY($1::text[])`,
    [names],
  );
  return new Map(rows.map((row) => [row.username, row.id]));
}

/**
 * Of `names` (lower-cased usernames, in order), the ids of those who are among `memberIds`,
 * once each: who a message naming them mentions.
 */
export function mentionedMembers(
  names: readonly string[],
  byName: ReadonlyMap<string, string>,
  memberIds: ReadonlySet<string>,
): string[] {
  return [...new Set(names.map((name) => byName.get(name)))].filter(
    (id): id is string => id !== undefined && memberIds.has(id),
  );
}

/** Records who each message mentions (the sender never counts as mentioned by their own message). */
export async function recordMentions(
  c: Queryable,
  messages: readonly { id: string; channelId: string; senderId: string; mentions: readonly string[] }[],
): Promise<void> {
  const rows = messages.flatMap((m) =>
    m.mentions.filter((userId) => userId !== m.senderId).map((userId) => [userId, m.channelId, m.id] as const),
  );
  if (rows.length === 0) return;
  await c.query(
    `INSERT INTO message_mentions (user_id, channel_id, message_id)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
}

const COLUMNS = `m.id, m.channel_id, m.sender_id, m.text, m.created_at, m.client_msg_id, m.mentions, m.edited_at,
  m.deleted_at, m.reply_to_id, m.reply_to_sender_id`;

/**
 * The page's messages, newest first, from the ids `ids` selects (newest first, at most the
 * limit): the ids and text sizes first, then only the texts that fit the byte budget.
 */
async function pageOf(
  c: Queryable,
  ids: string,
  params: unknown[],
  maxTextBytes: number | undefined,
): Promise<MessageRow[]> {
  const budget = maxTextBytes === undefined || !Number.isFinite(maxTextBytes) ? null : maxTextBytes;
  const { rows } = await c.query<MessageRow>(
    `WITH hits AS (${ids}),
     sized AS (
       SELECT h.id, h.channel_id,
              SUM(octet_length(m.text)) OVER (ORDER BY h.id DESC) - octet_length(m.text) AS bytes_before
       FROM hits h JOIN messages m ON m.channel_id = h.channel_id AND m.id = h.id)
     SELECT ${COLUMNS} FROM sized s JOIN messages m ON m.channel_id = s.channel_id AND m.id = s.id
     WHERE $${params.length + 1}::bigint IS NULL OR s.bytes_before < $${params.length + 1}::bigint
     ORDER BY m.id DESC`,
    [...params, budget],
  );
  return rows;
}

export function searchMessages(c: Queryable, userId: string, query: MessageSearch): Promise<MessageRow[]> {
  return pageOf(
    c,
    `SELECT s.id, s.channel_id FROM message_search s
     WHERE s.tokens @@ $1::tsquery
       AND s.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $2)
       AND ($3::bigint IS NULL OR s.id < $3::bigint)
       AND ($4::bigint IS NULL OR s.channel_id = $4::bigint)
     ORDER BY s.id DESC LIMIT $5`,
    [tsqueryOf(query.terms), userId, query.before ?? null, query.channelId ?? null, query.limit],
    query.maxTextBytes,
  );
}

export function mentions(c: Queryable, userId: string, page: SearchPageQuery): Promise<MessageRow[]> {
  return pageOf(
    c,
    `SELECT mm.message_id AS id, mm.channel_id FROM message_mentions mm
     WHERE mm.user_id = $1
       AND mm.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $1)
       AND ($2::bigint IS NULL OR mm.message_id < $2::bigint)
     ORDER BY mm.message_id DESC LIMIT $3`,
    [userId, page.before ?? null, page.limit],
    page.maxTextBytes,
  );
}
