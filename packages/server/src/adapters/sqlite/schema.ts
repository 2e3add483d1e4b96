/**
 * SQLite schema, versioned through PRAGMA user_version. Ids are INTEGER (64-bit Snowflakes),
 * read back as text so no precision is lost in JavaScript numbers.
 *
 * Shaped like the scale-out schema: messages are found by (channel_id, id), the update log by
 * (user_id, seq), idempotency keys by (sender_id, client_msg_id); the last two are written behind
 * (pending-log.ts, client-msg-ids.ts). users.log_seq and channels.last_message_id are no longer written: a user's
 * log head is their newest log entry and a channel's last message the newest in its index (fewer
 * pages written per commit).
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    status_text TEXT,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    log_seq INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE TABLE friend_requests (
    id INTEGER PRIMARY KEY,
    from_user_id INTEGER NOT NULL,
    to_user_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (from_user_id, to_user_id)
  );
  CREATE INDEX friend_requests_to ON friend_requests(to_user_id);
  CREATE TABLE friendships (
    user_id INTEGER NOT NULL,
    friend_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, friend_id)
  ) WITHOUT ROWID;
  CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT,
    dm_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    last_message_id INTEGER
  );
  CREATE TABLE channel_members (
    channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    last_read_message_id INTEGER,
    PRIMARY KEY (channel_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX channel_members_user ON channel_members(user_id, channel_id);
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    client_msg_id TEXT
  );
  CREATE INDEX messages_channel ON messages(channel_id, id);
  CREATE TABLE client_msg_ids (
    sender_id INTEGER NOT NULL,
    client_msg_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (sender_id, client_msg_id)
  ) WITHOUT ROWID;
  CREATE TABLE user_log (
    user_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    channel_id INTEGER,
    message_id INTEGER,
    data TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE push_subscriptions (
    endpoint TEXT PRIMARY KEY,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    device_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);
  `,
  // client_msg_ids is written behind from here on (client-msg-ids.ts): it holds every key up to
  // this message id, and the keys of later messages are found in the messages rows.
  `
  CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO store_meta (key, value) VALUES ('client_msg_ids_through', COALESCE((SELECT MAX(id) FROM messages), 0));
  `,
  // The update log is written behind from here on (pending-log.ts): each append is one row of
  // one of the pending tables, its users and their seqs in `users` ([[userId, seq], ...]); a few
  // seconds later each user's entries become one row of user_log_chunks (entries: a JSON array of
  // [seq, type, channelId, messageId, data, createdAt]).
  `
  ${['user_log_pending_a', 'user_log_pending_b']
    .map(
      (table) => `CREATE TABLE ${table} (
    type TEXT NOT NULL,
    channel_id INTEGER,
    message_id INTEGER,
    data TEXT,
    created_at TEXT NOT NULL,
    users TEXT NOT NULL
  );`,
    )
    .join('\n  ')}
  CREATE TABLE user_log_chunks (
    user_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    newest_at TEXT NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (user_id, first_seq)
  ) WITHOUT ROWID;
  `,
  // Long texts live in the file beside the database from here on (long-texts.ts): such a row's
  // text is '' and text_at / text_bytes say where in the file its text is.
  `
  ALTER TABLE messages ADD COLUMN text_at INTEGER;
  ALTER TABLE messages ADD COLUMN text_bytes INTEGER;
  `,
  // Each long text's CRC-32, and the message up to which every long text is known to be on disk:
  // a machine crash can lose the texts of later rows, which were never acked (long-texts.ts).
  `
  ALTER TABLE messages ADD COLUMN text_crc INTEGER;
  INSERT INTO store_meta (key, value) VALUES ('long_texts_synced_through', COALESCE((SELECT MAX(id) FROM messages), 0));
  `,
  // When each device's token was last used: a token unused for the configured lifetime expires.
  `
  ALTER TABLE devices ADD COLUMN last_used_at TEXT;
  `,
  // Search and mentions: a contentless FTS5 index of each message's tokens (made by
  // domain/search-text.ts; rowid = message id, so no text is stored twice), and who each message
  // mentions: messages.mentions (a JSON array of user ids, NULL when none) for reading the message,
  // message_mentions for listing and counting a user's mentions.
  `
  CREATE VIRTUAL TABLE message_search USING fts5(
    tokens, content = '', contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M* S*'"
  );
  -- A deleted or edited message's entries leave the index's pages at once, not at a later merge
  -- (a word no message holds any more can stay as a bare term until its segment is merged).
  INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
  ALTER TABLE messages ADD COLUMN mentions TEXT;
  CREATE TABLE message_mentions (
    user_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX message_mentions_user ON message_mentions(user_id, message_id);
  `,
  // edits: edit, delete, reply, reactions. A deleted message keeps its row as a
  // tombstone (text '', deleted_at); a reply keeps the id and sender of what it answers; each
  // reaction is a row, by the order it was added (id).
  `
  ALTER TABLE messages ADD COLUMN edited_at TEXT;
  ALTER TABLE messages ADD COLUMN deleted_at TEXT;
  ALTER TABLE messages ADD COLUMN reply_to_id INTEGER;
  ALTER TABLE messages ADD COLUMN reply_to_sender_id INTEGER;
  CREATE TABLE message_reactions (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (message_id, user_id, emoji)
  );
  `,
  // Accounts: server-wide roles, deactivation and deletion, invite codes, blocks.
  `
  ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
  ALTER TABLE users ADD COLUMN deactivated_at TEXT;
  ALTER TABLE users ADD COLUMN deleted_at TEXT;
  CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at TEXT
  );
  CREATE INDEX invites_creator ON invites(created_by, id);
  CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL,
    blocked_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
  ) WITHOUT ROWID;
  CREATE INDEX blocks_blocked ON blocks(blocked_id, blocker_id);
  CREATE INDEX devices_user ON devices(user_id);
  `,
  // Push notifications: APNs/FCM registrations beside Web Push; the durable push
  // outbox (one row per recipient and message, leased by a notifier); the sent-marks that keep a
  // device from getting a message twice; per-channel mute; the per-user preview setting.
  `
  ALTER TABLE push_subscriptions ADD COLUMN provider TEXT NOT NULL DEFAULT 'webpush';
  CREATE INDEX push_subscriptions_device ON push_subscriptions(device_id);
  CREATE TABLE push_outbox (
    user_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    preview TEXT NOT NULL,
    mentioned INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER,
    PRIMARY KEY (user_id, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX push_outbox_group ON push_outbox(user_id, channel_id);
  CREATE INDEX push_outbox_due ON push_outbox(due_at);
  CREATE TABLE push_sent (
    endpoint TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (endpoint, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX push_sent_at ON push_sent(sent_at);
  ALTER TABLE channel_members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN push_previews INTEGER NOT NULL DEFAULT 1;
  `,
  // The search index merges its segments sixteen at a time (FTS5's default is four), and a
  // whole level at once only past 64 (default 16, which with sixteen would stall a commit for a
  // level's merge). Every group commit adds a segment of its own, and merging four at a time
  // rewrote each token's entries at many levels: 10,000-character texts in commits of 20 wrote
  // 27 KiB per text for 2.9 KiB of index; merging sixteen at a time, 20 KiB and a fifth less of
  // the writer's time (docs/benchmarks.md, finding 44). A query reads a few more segments.
  `
  INSERT INTO message_search (message_search, rank) VALUES ('automerge', 16);
  INSERT INTO message_search (message_search, rank) VALUES ('crisismerge', 64);
  `,
];
