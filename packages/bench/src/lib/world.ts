/**
 * The accounts and channels a scenario needs: made over HTTP (the floor, or Parley when
 * asked), or seeded straight into Parley's SQLite file before it starts (Parley hashes
 * passwords with scrypt at ~50 ms each, so 10,000 signups would take minutes; seeding
 * writes the same rows the Store would: users, devices with sha256 token hashes, channels,
 * members).
 */
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

export interface WorldSpec {
  users: number;
  /** Users 2k and 2k+1 share a DM channel. */
  pairs?: boolean;
  /** Groups by user index; the first member is the owner. */
  groups?: number[][];
}

export interface WorldUser {
  id: string;
  token: string;
}

export interface World {
  users: WorldUser[];
  /** dms[k] is the channel of users 2k and 2k+1. */
  dms: string[];
  groups: string[];
}

const runTag = (): string => randomBytes(3).toString('hex');

async function post<T>(baseUrl: string, path: string, body: unknown, token?: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.ok) return (await res.json()) as T;
    if (res.status === 429 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    throw new Error(`POST ${path} -> ${res.status} ${await res.text()}`);
  }
}

async function parallel<T>(n: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

export async function setupHttp(baseUrl: string, spec: WorldSpec, concurrency = 16): Promise<World> {
  const tag = runTag();
  const users = await parallel(spec.users, concurrency, async (i) => {
    const r = await post<{ user: { id: string }; token: string }>(baseUrl, '/v1/auth/signup', {
      username: `b${tag}_${i}`,
      password: 'bench-password-1',
    });
    return { id: r.user.id, token: r.token };
  });
  const pairs = spec.pairs ? Math.floor(spec.users / 2) : 0;
  const dms = await parallel(pairs, concurrency, async (k) => {
    const r = await post<{ channel: { id: string } }>(
      baseUrl,
      '/v1/dms',
      { userId: users[2 * k + 1]!.id },
      users[2 * k]!.token,
    );
    return r.channel.id;
  });
  const groups: string[] = [];
  for (const [g, members] of (spec.groups ?? []).entries()) {
    const owner = users[members[0]!]!;
    const r = await post<{ channel: { id: string } }>(
      baseUrl,
      '/v1/groups',
      { name: `bench ${g}`, memberIds: members.slice(1).map((m) => users[m]!.id) },
      owner.token,
    );
    groups.push(r.channel.id);
  }
  return { users, dms, groups };
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

/**
 * Seeds Parley's SQLite file (the schema already migrated by a first start). Ids are small
 * integers, far below the Snowflakes the server generates, so they never collide.
 */
export function seedParleySqlite(dbPath: string, spec: WorldSpec): World {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const tag = runTag();
  const now = new Date().toISOString();
  const base = 1_000_000 + Math.floor(Math.random() * 1000) * 100_000;
  const users: WorldUser[] = [];
  const dms: string[] = [];
  const groups: string[] = [];
  const insUser = db.prepare(
    'INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insDevice = db.prepare(
    'INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insChannel = db.prepare('INSERT INTO channels (id, kind, name, dm_key, created_at) VALUES (?, ?, ?, ?, ?)');
  const insMember = db.prepare(
    'INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 0; i < spec.users; i++) {
      const id = base + i;
      const token = randomBytes(24).toString('base64url');
      // Seeded accounts cannot log in with a password (none is set); they use their token.
      insUser.run(id, `s${tag}_${i}`, `bench ${i}`, 'seeded$no-password', now);
      insDevice.run(id, id, 'bench', sha256(token), now);
      users.push({ id: String(id), token });
    }
    let channelId = base + spec.users;
    if (spec.pairs) {
      for (let k = 0; 2 * k + 1 < spec.users; k++) {
        const a = base + 2 * k;
        const b = a + 1;
        const id = channelId++;
        insChannel.run(id, 'dm', null, `${a}:${b}`, now);
        insMember.run(id, a, 'member', now);
        insMember.run(id, b, 'member', now);
        dms.push(String(id));
      }
    }
    for (const [g, members] of (spec.groups ?? []).entries()) {
      const id = channelId++;
      insChannel.run(id, 'group', `bench ${g}`, null, now);
      for (const [j, m] of members.entries()) insMember.run(id, base + m, j === 0 ? 'owner' : 'member', now);
      groups.push(String(id));
    }
  })();
  db.close();
  return { users, dms, groups };
}
