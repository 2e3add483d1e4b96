/**
 * PostgreSQL schema, as numbered migrations (applied in order, each once, at start-up).
 *
 * Shaped for sharding (Citus or a wide-column store) without a redesign:
 * - messages are keyed (channel_id, id): distribute by channel_id;
 * - the update log is keyed (user_id, seq) with its head counter in user_log_head(user_id):
 *   distribute both by user_id, co-located, so a seq allocation never leaves one shard;
 * - idempotency keys are keyed (sender_id, client_msg_id): distribute by sender_id;
 * - no foreign keys and no row that every write touches (a channel's latest message is read
 *   from the messages index instead of being kept on the channel row).
 * Ids are bigint (64-bit Snowflakes; node-pg returns them as strings, so no precision is lost).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
    CREATE TABLE users (
      id bigint PRIMARY KEY,
      username text COLLATE "C" NOT NULL UNIQUE,
      display_name text NOT NULL,
      status_text text,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz
    );
    CREATE TABLE user_log_head (
      user_id bigint PRIMARY KEY,
      seq bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE devices (
      id bigint PRIMARY KEY,
      user_id bigint NOT NULL,
      name text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL,
      revoked_at timestamptz
    );
    CREATE INDEX devices_user ON devices (user_id);
    CREATE TABLE friend_requests (
      id bigint PRIMARY KEY,
      from_user_id bigint NOT NULL,
      to_user_id bigint NOT NULL,
      created_at timestamptz NOT NULL,
      UNIQUE (from_user_id, to_user_id)
    );
    CREATE INDEX friend_requests_to ON friend_requests (to_user_id);
    CREATE TABLE friendships (
      user_id bigint NOT NULL,
      friend_id bigint NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, friend_id)
    );
    CREATE TABLE channels (
      id bigint PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('dm', 'group')),
      name text,
      dm_key text UNIQUE,
      created_at timestamptz NOT NULL
    );
    CREATE TABLE channel_members (
      channel_id bigint NOT NULL,
      user_id bigint NOT NULL,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
      joined_at timestamptz NOT NULL,
      last_read_message_id bigint,
      PRIMARY KEY (channel_id, user_id)
    );
    CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);
    CREATE TABLE messages (
      channel_id bigint NOT NULL,
      id bigint NOT NULL,
      sender_id bigint NOT NULL,
      text text NOT NULL,
      created_at timestamptz NOT NULL,
      client_msg_id text,
      PRIMARY KEY (channel_id, id)
    );
    CREATE TABLE client_msg_ids (
      sender_id bigint NOT NULL,
      client_msg_id text NOT NULL,
      channel_id bigint NOT NULL,
      message_id bigint NOT NULL,
      PRIMARY KEY (sender_id, client_msg_id)
    );
    CREATE TABLE user_log (
      user_id bigint NOT NULL,
      seq bigint NOT NULL,
      type text NOT NULL,
      channel_id bigint,
      message_id bigint,
      data jsonb,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, seq)
    );
    CREATE INDEX user_log_created ON user_log (created_at);
    `,
  },
  {
    version: 2,
    name: 'push subscriptions',
    sql: `
    CREATE TABLE push_subscriptions (
      endpoint text PRIMARY KEY,
      p256dh text NOT NULL,
      auth text NOT NULL,
      user_id bigint NOT NULL,
      device_id bigint NOT NULL,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
    CREATE INDEX push_subscriptions_device ON push_subscriptions (device_id);
    `,
  },
  {
    version: 3,
    name: 'token renewal',
    // When each device's token was last used: a token unused for the configured lifetime expires.
    sql: `ALTER TABLE devices ADD COLUMN last_used_at timestamptz;`,
  },
  {
    version: 4,
    name: 'search and mentions',
    // Search and mentions: each message's tokens (domain/search-text.ts) as a tsvector
    // with a GIN index (search-index.ts says why it is built as a literal), who each message
    // mentions (messages.mentions, a JSON array of user ids), and message_mentions for listing and
    // counting a user's mentions.
    sql: `
    CREATE TABLE message_search (
      id bigint PRIMARY KEY,
      channel_id bigint NOT NULL,
      tokens tsvector NOT NULL
    );
    CREATE INDEX message_search_tokens ON message_search USING gin (tokens);
    ALTER TABLE messages ADD COLUMN mentions jsonb;
    CREATE TABLE message_mentions (
      user_id bigint NOT NULL,
      channel_id bigint NOT NULL,
      message_id bigint NOT NULL,
      PRIMARY KEY (user_id, channel_id, message_id)
    );
    CREATE INDEX message_mentions_user ON message_mentions (user_id, message_id);
    `,
  },
  {
    version: 5,
    name: 'edits: edit, delete, reply, reactions',
    // A deleted message keeps its row as a tombstone (text '', deleted_at); a reply keeps the id
    // and sender of what it answers; each reaction is a row, by the order it was added (id).
    sql: `
    ALTER TABLE messages ADD COLUMN edited_at timestamptz;
    ALTER TABLE messages ADD COLUMN deleted_at timestamptz;
    ALTER TABLE messages ADD COLUMN reply_to_id bigint;
    ALTER TABLE messages ADD COLUMN reply_to_sender_id bigint;
    CREATE TABLE message_reactions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL,
      message_id bigint NOT NULL,
      user_id bigint NOT NULL,
      emoji text NOT NULL,
      created_at timestamptz NOT NULL,
      UNIQUE (message_id, user_id, emoji)
    );
    `,
  },
  {
    version: 6,
    name: 'accounts: roles, deactivation, deletion, invites, blocks',
    // Accounts: server-wide roles, deactivation and deletion, invite codes, blocks.
    sql: `
    ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member';
    ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
    ALTER TABLE users ADD COLUMN deleted_at timestamptz;
    CREATE TABLE invites (
      id bigint PRIMARY KEY,
      code_hash text NOT NULL UNIQUE,
      created_by bigint NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      max_uses integer NOT NULL,
      uses integer NOT NULL DEFAULT 0,
      revoked_at timestamptz
    );
    CREATE INDEX invites_creator ON invites (created_by, id);
    CREATE TABLE blocks (
      blocker_id bigint NOT NULL,
      blocked_id bigint NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (blocker_id, blocked_id)
    );
    CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);
    `,
  },
  {
    version: 7,
    name: 'push notifications',
    // Push notifications: APNs/FCM registrations beside Web Push; the durable push
    // outbox (one row per recipient and message, leased by a notifier; distribute by user_id);
    // the sent-marks that keep a device from getting a message twice; per-channel mute; the
    // per-user preview setting. Times the notifier compares are ms since the epoch.
    sql: `
    ALTER TABLE push_subscriptions ADD COLUMN provider text NOT NULL DEFAULT 'webpush';
    CREATE TABLE push_outbox (
      user_id bigint NOT NULL,
      message_id bigint NOT NULL,
      channel_id bigint NOT NULL,
      sender_id bigint NOT NULL,
      preview text NOT NULL,
      mentioned boolean NOT NULL DEFAULT false,
      due_at bigint NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      lease_owner text,
      lease_until bigint,
      PRIMARY KEY (user_id, message_id)
    );
    CREATE INDEX push_outbox_group ON push_outbox (user_id, channel_id);
    CREATE INDEX push_outbox_due ON push_outbox (due_at);
    CREATE TABLE push_sent (
      endpoint text NOT NULL,
      message_id bigint NOT NULL,
      sent_at bigint NOT NULL,
      PRIMARY KEY (endpoint, message_id)
    );
    CREATE INDEX push_sent_at ON push_sent (sent_at);
    ALTER TABLE channel_members ADD COLUMN muted boolean NOT NULL DEFAULT false;
    ALTER TABLE users ADD COLUMN push_previews boolean NOT NULL DEFAULT true;
    `,
  },
];
