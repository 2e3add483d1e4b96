/**
 * The account writes that both the writer (writer.ts) and the administration tool's access
 * (accounts-admin.ts) make, each to run inside its caller's transaction. They touch users,
 * devices, invites and push subscriptions only: rows the writer remembers nothing about
 * (writes.ts), which is why another process may make them while a server runs.
 */
import Database from 'better-sqlite3';
import { StoreError, type AccountChange, type CreateUserResult, type NewUser } from '../../ports/store.js';
import type { SqliteConnection } from './connection.js';

export function insertUser(c: SqliteConnection, user: NewUser): CreateUserResult {
  if (user.invite !== undefined) {
    const taken = c
      .sql(`UPDATE invites SET uses = uses + 1 WHERE id = ? AND uses = ? AND revoked_at IS NULL`)
      .run(user.invite.inviteId, user.invite.expectedUses);
    if (taken.changes === 0) return { status: 'stale' };
  }
  const first = c.sql(`SELECT 1 FROM users LIMIT 1`).get() === undefined;
  if (user.onlyIfFirst === true && !first) return { status: 'stale' };
  const role = first && user.adminIfFirst === true ? 'admin' : (user.role ?? 'member');
  try {
    c.sql(
      `INSERT INTO users (id, username, display_name, password_hash, created_at, role) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(user.id, user.username.toLowerCase(), user.displayName, user.passwordHash, user.createdAt, role);
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) {
      throw new StoreError('conflict', 'username is taken', { cause: error });
    }
    throw error;
  }
  return { status: 'created', role };
}

export function applyAccountChange(c: SqliteConnection, change: AccountChange): { revokedDeviceIds: string[] } {
  const found = c
    .sql(
      `UPDATE users SET password_hash = COALESCE(?, password_hash), role = COALESCE(?, role),
         deactivated_at = CASE WHEN ? THEN ? ELSE deactivated_at END
       WHERE id = ? RETURNING 1`,
    )
    .get(
      change.passwordHash ?? null,
      change.role ?? null,
      change.deactivatedAt === undefined ? 0 : 1,
      change.deactivatedAt ?? null,
      change.userId,
    );
  if (found === undefined) throw new StoreError('not_found', 'no such user');
  if (change.revokeDevices === undefined) return { revokedDeviceIds: [] };
  return { revokedDeviceIds: revokeDevicesOf(c, change.userId, change.at, change.revokeDevices.except) };
}

/** Revokes the user's live devices (but `except`) and forgets their push subscriptions. */
export function revokeDevicesOf(c: SqliteConnection, userId: string, at: string, except?: string): string[] {
  const rows = c
    .sql(
      `UPDATE devices SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id != ?
       RETURNING CAST(id AS TEXT) AS id`,
    )
    .all(at, userId, except ?? 0) as { id: string }[];
  const forget = c.sql(`DELETE FROM push_subscriptions WHERE device_id = ?`);
  for (const row of rows) forget.run(row.id);
  return rows.map((row) => row.id);
}
