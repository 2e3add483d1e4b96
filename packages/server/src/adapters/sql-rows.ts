import type { PushOutboxJob } from '../ports/push.js';
/**
 * Row shapes and row-to-port mappers shared by the SQL stores (SQLite and PostgreSQL read ids
 * back as decimal strings and times as ISO-8601 strings, so the rows look the same).
 */
import type { Message, User, UserRole } from '@parley/protocol';
import type {
  ChannelRecord,
  ContactSources,
  FriendPair,
  InviteRecord,
  LogAppend,
  LogEntry,
  MemberRecord,
  NewMessage,
  UserRecord,
} from '../ports/store.js';

/** Unread counts stop at this many; the UI shows "999+". */
export const UNREAD_CAP = 1000;

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  status_text: string | null;
  password_hash: string;
  created_at: string;
  last_seen_at: string | null;
  role: UserRole;
  deactivated_at: string | null;
  deleted_at: string | null;
}

export interface InviteRow {
  id: string;
  code_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  /** PostgreSQL returns integers as numbers here (int columns). */
  max_uses: number;
  uses: number;
  revoked_at: string | null;
}

export function toInviteRecord(row: InviteRow): InviteRecord {
  const record: InviteRecord = {
    id: row.id,
    codeHash: row.code_hash,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxUses: Number(row.max_uses),
    uses: Number(row.uses),
  };
  if (row.revoked_at !== null) record.revokedAt = row.revoked_at;
  return record;
}

export interface MessageRow {
  id: string;
  channel_id: string;
  sender_id: string;
  text: string;
  created_at: string;
  client_msg_id: string | null;
  /** The mentioned user ids: a JSON array (SQLite) or an array (PostgreSQL); null when none. */
  mentions?: string | string[] | null;
  edited_at?: string | null;
  deleted_at?: string | null;
  reply_to_id?: string | null;
  reply_to_sender_id?: string | null;
}

export interface ChannelRow {
  id: string;
  kind: 'dm' | 'group';
  name: string | null;
  created_at: string;
}

export interface LogRow {
  /** PostgreSQL returns bigint as a string. */
  seq: number | string;
  type: LogEntry['type'];
  channel_id: string | null;
  message_id: string | null;
  /** JSON text (SQLite) or an already parsed jsonb object (PostgreSQL). */
  data: string | Record<string, string> | null;
  created_at: string;
}

export function toUser(row: UserRow): User {
  const user: User = { id: row.id, username: row.username, displayName: row.display_name };
  if (row.status_text) user.statusText = row.status_text;
  return user;
}

export function toUserRecord(row: UserRow): UserRecord {
  const record: UserRecord = {
    ...toUser(row),
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    role: row.role,
  };
  if (row.last_seen_at !== null) record.lastSeenAt = row.last_seen_at;
  if (row.deactivated_at !== null) record.deactivatedAt = row.deactivated_at;
  if (row.deleted_at !== null) record.deletedAt = row.deleted_at;
  return record;
}

export function toMessage(row: MessageRow): Message {
  const message: Message = {
    id: row.id,
    channelId: row.channel_id,
    senderId: row.sender_id,
    text: row.text,
    createdAt: row.created_at,
  };
  if (row.client_msg_id !== null) message.clientMsgId = row.client_msg_id;
  // A tombstone is {id, channelId, senderId, text: '', createdAt, clientMsgId?, deletedAt}.
  if (row.deleted_at) {
    message.deletedAt = row.deleted_at;
    return message;
  }
  if (row.edited_at) message.editedAt = row.edited_at;
  if (row.reply_to_id) message.replyTo = { id: row.reply_to_id, senderId: row.reply_to_sender_id ?? '0' };
  if (row.mentions !== null && row.mentions !== undefined) {
    const mentions = typeof row.mentions === 'string' ? (JSON.parse(row.mentions) as string[]) : row.mentions;
    if (mentions.length > 0) message.mentions = mentions;
  }
  return message;
}

/** The message as stored from a NewMessage and the users it turned out to mention (no read back needed). */
export function storedMessage(input: NewMessage, mentions: readonly string[] = []): Message {
  const message: Message = {
    id: input.id,
    channelId: input.channelId,
    senderId: input.senderId,
    text: input.text,
    createdAt: input.createdAt,
    clientMsgId: input.clientMsgId,
  };
  if (mentions.length > 0) message.mentions = [...mentions];
  if (input.replyTo !== undefined) message.replyTo = input.replyTo;
  return message;
}

/** The entry an append gives one user, as both SQL stores and the SQLite writer thread's replies build it. */
export function newLogEntry(userId: string, seq: number, append: Omit<LogAppend, 'userIds'>, at: string): LogEntry {
  const entry: LogEntry = { userId, seq, type: append.type, createdAt: at };
  if (append.channelId !== undefined) entry.channelId = append.channelId;
  if (append.messageId !== undefined) entry.messageId = append.messageId;
  if (append.data !== undefined) entry.data = append.data;
  return entry;
}

export function toLogEntry(userId: string, row: LogRow): LogEntry {
  const entry: LogEntry = { userId, seq: Number(row.seq), type: row.type, createdAt: row.created_at };
  if (row.channel_id !== null) entry.channelId = row.channel_id;
  if (row.message_id !== null) entry.messageId = row.message_id;
  if (row.data !== null) {
    entry.data = typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, string>) : row.data;
  }
  return entry;
}

export function toChannelRecord(row: ChannelRow, members: MemberRecord[]): ChannelRecord {
  const channel: ChannelRecord = { id: row.id, kind: row.kind, createdAt: row.created_at, members };
  if (row.name !== null) channel.name = row.name;
  return channel;
}

/**
 * Whether a channel's members (user and role) are exactly the ones a change was decided on
 * (ports/store.ts, ChannelChange). A comparison, not a rule: both SQL stores use it.
 */
export function sameMembers(
  expected: readonly { userId: string; role: string }[],
  actual: readonly { userId: string; role: string }[],
): boolean {
  if (expected.length !== actual.length) return false;
  const roles = new Map(actual.map((m) => [m.userId, m.role]));
  return expected.every((m) => roles.get(m.userId) === m.role);
}

/** Whether a pair of users is exactly as a change expected (ports/store.ts, FriendPairChange). */
export function samePair(expected: FriendPair, actual: FriendPair): boolean {
  if (expected.friends !== actual.friends || expected.requests.length !== actual.requests.length) return false;
  const ids = new Set(actual.requests.map((r) => r.id));
  return expected.requests.every((r) => ids.has(r.id));
}

/** Claimed jobs grouped: by user, then channel, then message (ids compared as numbers). */
export function sortJobs(jobs: PushOutboxJob[]): PushOutboxJob[] {
  const cmp = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return jobs.sort((a, b) => cmp(a.userId, b.userId) || cmp(a.channelId, b.channelId) || cmp(a.messageId, b.messageId));
}

/** ContactSources from rows tagged by source: f(riend), d(m partner), g(roup peer), b(locked). */
export function contactSourcesOf(rows: readonly { source: string; id: string }[]): ContactSources {
  const sources: ContactSources = { friends: [], dmPartners: [], groupPeers: [], blocked: [] };
  const blocked = new Set<string>();
  for (const { source, id } of rows) {
    if (source === 'f') sources.friends.push(id);
    else if (source === 'd') sources.dmPartners.push(id);
    else if (source === 'g') sources.groupPeers.push(id);
    else blocked.add(id);
  }
  sources.blocked = [...blocked];
  return sources;
}
