/**
 * The floor: the least a WebSocket chat relay on Parley's stack (Node + ws) can do while
 * speaking Parley's frames and routing the same way. No auth beyond a token lookup, no
 * validation beyond membership, no persistence (unless FLOOR_SQLITE names a file: then
 * every message, its idempotency key and its per-recipient log rows are appended in batched
 * transactions before the ack, the cost of durability alone).
 *
 * Routing as Parley: each member of the channel (the sender included) gets a per-user
 * seq and an event frame on every live device, the sending device included; the sender
 * gets an ack. A small in-memory ring per user (FLOOR_RING entries) lets `hello.since`
 * replay recent events, so the reconnect scenario can drive the floor too.
 *
 * The idempotency key: a durable DM commits the message, its (sender, clientMsgId) key and a
 * log entry per member before anyone hears of it, so that a resend after a lost ack is not
 * stored twice. The durable floor keeps the key the plainest way, a UNIQUE index on the
 * messages table that every insert checks and writes; without it the floor would be spared
 * work Parley must do and the ratio to it would flatter the floor. A repeated key is acked
 * with the original message id and not delivered again. The generator never repeats one.
 *
 * FLOOR_ONE_FRAME=1 makes it the one-frame relay instead: for each send it writes one frame
 * to each device of the channel's other members and nothing else: no ack, no per-user seq, no
 * frame to the sender's devices, no check beyond finding the channel. Beside the floor it shows
 * what the protocol costs; the generator counts its messages as acked once delivered.
 *
 * Run: node dist/floor/relay.js with FLOOR_HOST, FLOOR_PORT, [FLOOR_SQLITE], [FLOOR_RING],
 * [FLOOR_ONE_FRAME].
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';

interface Device {
  id: string;
  userId: string;
  ws?: WebSocket;
}

interface FloorUser {
  id: string;
  username: string;
  seq: number;
  devices: Set<Device>;
  ring: { seq: number; frame: string }[];
}

interface FloorChannel {
  id: string;
  kind: 'dm' | 'group';
  name?: string;
  members: string[];
  memberSet: Set<string>;
  createdAt: string;
}

interface Pending {
  sender: Device;
  channel: FloorChannel;
  id: string;
  senderId: string;
  text: string;
  createdAt: string;
  clientMsgId: string;
  body: string;
  /** Its key was already stored: acked with the original id, delivered to no one. */
  repeat?: boolean;
}

const host = process.env.FLOOR_HOST ?? '127.0.0.1';
const port = Number(process.env.FLOOR_PORT ?? 0);
const ringSize = Number(process.env.FLOOR_RING ?? 0);
const oneFrame = process.env.FLOOR_ONE_FRAME === '1';
const heartbeatMs = 5000;
const nodeId = 'floor';

const users = new Map<string, FloorUser>();
const usernames = new Set<string>();
const tokens = new Map<string, Device>();
const channels = new Map<string, FloorChannel>();
const dms = new Map<string, FloorChannel>();
let nextId = 1;
const newId = (): string => String(nextId++);

// ---------------------------------------------------------------- optional SQLite appends

const db = process.env.FLOOR_SQLITE ? new Database(process.env.FLOOR_SQLITE) : undefined;
let flushBatch: ((batch: Pending[]) => void) | undefined;
if (db) {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${process.env.FLOOR_SQLITE_SYNC ?? 'FULL'}`);
  db.exec(`CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, channel_id TEXT NOT NULL,
      sender_id TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL, client_msg_id TEXT NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS messages_key ON messages (sender_id, client_msg_id);
    CREATE TABLE IF NOT EXISTS log (user_id TEXT NOT NULL, seq INTEGER NOT NULL, message_id INTEGER NOT NULL,
      PRIMARY KEY (user_id, seq)) WITHOUT ROWID;`);
  const insMsg = db.prepare(
    `INSERT INTO messages (id, channel_id, sender_id, text, created_at, client_msg_id) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING`,
  );
  const original = db.prepare('SELECT id FROM messages WHERE sender_id = ? AND client_msg_id = ?').pluck();
  const insLog = db.prepare('INSERT INTO log (user_id, seq, message_id) VALUES (?, ?, ?)');
  const tx = db.transaction((batch: Pending[]) => {
    for (const m of batch) {
      if (insMsg.run(m.id, m.channel.id, m.senderId, m.text, m.createdAt, m.clientMsgId).changes === 0) {
        m.repeat = true;
        m.id = String(original.get(m.senderId, m.clientMsgId));
        continue;
      }
      // The seq each recipient will get; assigned here, delivered after commit.
      for (const uid of m.channel.members) {
        const u = users.get(uid);
        if (u) insLog.run(uid, u.seq + pendingSeq(uid), m.id);
      }
    }
  });
  flushBatch = (batch) => {
    seqOffsets.clear();
    tx(batch);
  };
}
const seqOffsets = new Map<string, number>();
function pendingSeq(uid: string): number {
  const n = (seqOffsets.get(uid) ?? 0) + 1;
  seqOffsets.set(uid, n);
  return n;
}

let pending: Pending[] = [];
let flushScheduled = false;
function flush(): void {
  flushScheduled = false;
  const batch = pending;
  pending = [];
  flushBatch?.(batch);
  for (const m of batch) deliver(m);
}

// ---------------------------------------------------------------- routing

function deliver(m: Pending): void {
  m.sender.ws?.send(
    `{"op":"ack","clientMsgId":${JSON.stringify(m.clientMsgId)},"messageId":"${m.id}","createdAt":"${m.createdAt}"}`,
  );
  if (m.repeat) return;
  const tail = `,"type":"message.created","message":${m.body}}`;
  for (const uid of m.channel.members) {
    const u = users.get(uid);
    if (!u) continue;
    const seq = ++u.seq;
    const frame = `{"op":"event","seq":${seq}${tail}`;
    if (ringSize > 0) {
      u.ring.push({ seq, frame });
      if (u.ring.length > ringSize) u.ring.shift();
    }
    for (const d of u.devices) d.ws?.send(frame);
  }
}

type SendFrame = { channelId?: unknown; text?: unknown; clientMsgId?: unknown };

/** The one-frame relay: one frame to each device of every other member, nothing else. */
function relayOneFrame(dev: Device, f: SendFrame): void {
  const channel = typeof f.channelId === 'string' ? channels.get(f.channelId) : undefined;
  if (!channel) return;
  const frame = JSON.stringify({
    op: 'event',
    type: 'message.created',
    message: { channelId: channel.id, senderId: dev.userId, text: f.text, clientMsgId: f.clientMsgId },
  });
  for (const uid of channel.members) {
    if (uid === dev.userId) continue;
    const u = users.get(uid);
    if (u) for (const d of u.devices) d.ws?.send(frame);
  }
}

function onSend(dev: Device, f: SendFrame): void {
  const channel = typeof f.channelId === 'string' ? channels.get(f.channelId) : undefined;
  const clientMsgId = typeof f.clientMsgId === 'string' ? f.clientMsgId : '';
  if (!channel || !channel.memberSet.has(dev.userId) || typeof f.text !== 'string') {
    dev.ws?.send(JSON.stringify({ op: 'error', code: 'forbidden', message: 'not a member', clientMsgId }));
    return;
  }
  const id = newId();
  const createdAt = new Date().toISOString();
  const msg = { id, channelId: channel.id, senderId: dev.userId, text: f.text, createdAt, clientMsgId };
  const p: Pending = { sender: dev, channel, ...msg, body: JSON.stringify(msg) };
  if (!db) {
    deliver(p);
    return;
  }
  pending.push(p);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

// ---------------------------------------------------------------- HTTP (the setup subset of /v1)

function json(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function channelInfo(c: FloorChannel): unknown {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    createdAt: c.createdAt,
    members: c.members.map((id) => ({ id, username: users.get(id)?.username, displayName: id, role: 'member' })),
  };
}

function newDevice(u: FloorUser): { token: string; deviceId: string } {
  const dev: Device = { id: newId(), userId: u.id };
  const token = `floor-${dev.id}-${Math.random().toString(36).slice(2)}`;
  tokens.set(token, dev);
  u.devices.add(dev);
  return { token, deviceId: dev.id };
}

function makeChannel(kind: 'dm' | 'group', members: string[], name?: string): FloorChannel {
  const c: FloorChannel = {
    id: newId(),
    kind,
    name,
    members,
    memberSet: new Set(members),
    createdAt: new Date().toISOString(),
  };
  channels.set(c.id, c);
  return c;
}

function route(req: IncomingMessage, body: Record<string, unknown>, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/healthz') return json(res, 200, { ok: true });
  if (req.method === 'POST' && (url === '/v1/auth/signup' || url === '/v1/auth/login')) {
    const username = String(body.username ?? '');
    let u: FloorUser | undefined;
    if (url === '/v1/auth/login') u = [...users.values()].find((x) => x.username === username);
    else if (!usernames.has(username)) {
      u = { id: newId(), username, seq: 0, devices: new Set(), ring: [] };
      users.set(u.id, u);
      usernames.add(username);
    }
    if (!u) return json(res, 409, { error: { code: 'conflict', message: 'username taken' } });
    const { token, deviceId } = newDevice(u);
    return json(res, url.endsWith('signup') ? 201 : 200, {
      user: { id: u.id, username, displayName: username },
      token,
      deviceId,
    });
  }
  const auth = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const dev = tokens.get(auth);
  if (!dev) return json(res, 401, { error: { code: 'unauthorized', message: 'bad token' } });
  if (req.method === 'POST' && url === '/v1/dms') {
    const other = String(body.userId ?? '');
    if (!users.has(other)) return json(res, 404, { error: { code: 'not_found', message: 'no such user' } });
    const key = [dev.userId, other].sort().join(':');
    let c = dms.get(key);
    if (!c) {
      c = makeChannel('dm', dev.userId === other ? [dev.userId] : [dev.userId, other]);
      dms.set(key, c);
    }
    return json(res, 200, { channel: channelInfo(c) });
  }
  if (req.method === 'POST' && url === '/v1/groups') {
    const ids = Array.isArray(body.memberIds) ? body.memberIds.map(String) : [];
    const members = [...new Set([dev.userId, ...ids])].filter((id) => users.has(id));
    return json(res, 201, { channel: channelInfo(makeChannel('group', members, String(body.name ?? ''))) });
  }
  const m = /^\/v1\/channels\/([^/]+)\/members$/.exec(url);
  if (req.method === 'POST' && m) {
    const c = channels.get(m[1] ?? '');
    const uid = String(body.userId ?? '');
    if (!c || !users.has(uid)) return json(res, 404, { error: { code: 'not_found', message: 'not found' } });
    if (!c.memberSet.has(uid)) {
      c.members.push(uid);
      c.memberSet.add(uid);
    }
    return json(res, 200, { channel: channelInfo(c) });
  }
  return json(res, 404, { error: { code: 'not_found', message: 'no route' } });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: Record<string, unknown> = {};
    try {
      if (chunks.length) body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
    } catch {
      return json(res, 400, { error: { code: 'invalid_request', message: 'bad json' } });
    }
    route(req, body, res);
  });
});

// ---------------------------------------------------------------- WebSocket

const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
server.on('upgrade', (req, socket, head) => {
  if (!req.url?.startsWith('/v1/ws')) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
});

function onConnection(ws: WebSocket): void {
  let dev: Device | undefined;
  ws.on('message', (data: Buffer) => {
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(data.toString()) as Record<string, unknown>;
    } catch {
      ws.close(4400, 'bad frame');
      return;
    }
    if (dev) {
      if (f.op === 'send') (oneFrame ? relayOneFrame : onSend)(dev, f);
      else if (f.op === 'ping') ws.send('{"op":"pong"}');
      return;
    }
    if (f.op !== 'hello') return void ws.close(4401, 'hello first');
    dev = typeof f.token === 'string' ? tokens.get(f.token) : undefined;
    const u = dev ? users.get(dev.userId) : undefined;
    if (!dev || !u) {
      ws.send('{"op":"error","code":"unauthorized","message":"bad token"}');
      ws.close(4001, 'unauthorized');
      return;
    }
    dev.ws?.terminate();
    dev.ws = ws;
    ws.send(JSON.stringify({ op: 'ready', userId: u.id, deviceId: dev.id, seq: u.seq, heartbeatMs, nodeId }));
    const since = typeof f.since === 'number' ? f.since : undefined;
    if (since !== undefined) for (const e of u.ring) if (e.seq > since) ws.send(e.frame);
  });
  ws.on('close', () => {
    if (dev && dev.ws === ws) dev.ws = undefined;
  });
  ws.on('error', () => undefined);
}

server.listen(port, host, () => {
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  process.send?.({ listening: actual });
});

const stop = (): void => {
  db?.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
