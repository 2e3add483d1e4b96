/**
 * `npm run soak`: steady chat traffic with connection churn and hostile clients against a real
 * server (packages/server/dist/main.js, started here on loopback), for a configurable time,
 * reporting the server's memory and the clients' latencies over time. Not part of CI.
 *
 *   npm run soak -- --minutes 10 --users 60 --rate 100 --sample-s 10
 *
 * Steady side: `users` people, each with one socket, in DMs with a neighbour and one big group;
 * together they send `rate` messages per second and ping every 5 s. Churn: every second a few
 * sockets close and reconnect with `since` (replaying what they missed).
 * Hostile side, all at once: a flood of garbage frames; a socket that never reads while maximal
 * messages arrive (the server must close it as a slow consumer at 16 MiB); maximal messages (100,000 code points)
 * followed by the victim's full sync; logins guessing passwords across usernames from one
 * address (rate-limited); malformed HTTP bodies.
 * The report: per sample, the server's RSS, ack and delivery latency (p50/p99), messages, and
 * what the hostile clients got; every 5xx is counted (there should be none).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { sleep } from './lib/clock.js';
import { newHistogram, summarize, type Histogram } from './lib/hist.js';
import { benchRoot } from './lib/paths.js';
import { startParley } from './lib/target.js';

interface Options {
  minutes: number;
  users: number;
  rate: number;
  sampleS: number;
  churnPerSecond: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { minutes: 5, users: 40, rate: 50, sampleS: 10, churnPerSecond: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`bad value for ${argv[i]}: ${argv[i + 1]}`);
    if (key === 'minutes') options.minutes = value;
    else if (key === 'users') options.users = Math.max(2, Math.floor(value));
    else if (key === 'rate') options.rate = value;
    else if (key === 'sample-s') options.sampleS = Math.max(1, value);
    else if (key === 'churn') options.churnPerSecond = value;
    else throw new Error(`unknown option ${argv[i]} (use --minutes, --users, --rate, --sample-s, --churn)`);
  }
  return options;
}

/** What happened in one sample interval. */
class Interval {
  ack: Histogram = newHistogram();
  delivery: Histogram = newHistogram();
  sent = 0;
  acked = 0;
  refused = new Map<string, number>();
  reconnects = 0;
  /** How the server ended sockets that stopped reading, by close code. */
  slowConsumerEnds = new Map<number, number>();
  garbageAnswered = 0;
  loginRateLimited = 0;
  maximalSyncPages = 0;
  maximalSyncBytesMax = 0;
  http5xx = 0;
  unexpectedCloses = new Map<number, number>();

  count(map: Map<string | number, number>, key: string | number): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

let now = new Interval();

interface User {
  id: string;
  username: string;
  token: string;
  address: string;
  ws?: WebSocket;
  seq: number;
  /** Sends in flight by clientMsgId: when sent (µs). */
  pending: Map<string, number>;
}

/** A JSON answer or frame, read without a schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a load generator reads what it counts
type Loose = any;

const µs = () => Number(process.hrtime.bigint() / 1000n);

async function api(
  baseUrl: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown; address?: string; raw?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.address) headers['x-forwarded-for'] = options.address;
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers,
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  if (response.status >= 500) now.http5xx++;
  const text = await response.text();
  return {
    status: response.status,
    // Answers are read loosely: the soak only counts what came back.
    body: text ? (JSON.parse(text) as Loose) : undefined,
    bytes: Buffer.byteLength(text),
  };
}

/** Opens the user's socket, says hello with `since`, and routes its frames. */
function connect(wsUrl: string, user: User, sentAt: Map<string, number>): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl);
    user.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token: user.token, since: user.seq })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Loose;
      if (frame.op === 'ready') resolve();
      else if (frame.op === 'ack') {
        const started = user.pending.get(frame.clientMsgId);
        user.pending.delete(frame.clientMsgId);
        if (started !== undefined) now.ack.recordValue(Math.max(1, µs() - started));
        now.acked++;
      } else if (frame.op === 'error') {
        if (frame.clientMsgId !== undefined) user.pending.delete(frame.clientMsgId);
        now.count(now.refused, frame.code);
      } else if (frame.op === 'event') {
        if (frame.seq > user.seq) user.seq = frame.seq;
        const started = frame.type === 'message.created' ? sentAt.get(frame.message.clientMsgId) : undefined;
        if (started !== undefined) now.delivery.recordValue(Math.max(1, µs() - started));
      }
    });
    ws.on('close', (code) => {
      if (code !== 1000 && code !== 1005) now.count(now.unexpectedCloses, code);
      resolve();
    });
    ws.on('error', () => undefined);
  });
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-soak-'));
  const logDir = path.join(benchRoot, 'results', 'tmp');
  // Default limits, but each simulated person comes from their own address (X-Forwarded-For).
  const target = await startParley({
    dataDir,
    logDir,
    name: 'soak',
    env: {
      PARLEY_TRUST_PROXY: 'true',
      PARLEY_SIGNUP_LIMIT: '10',
      PARLEY_LOGIN_LIMIT: '60',
      PARLEY_SEND_RATE: '100',
      PARLEY_SEND_BURST: '1000',
    },
  });
  const { baseUrl, wsUrl } = target;
  console.log(`soak: ${options.minutes} min, ${options.users} users, ${options.rate} msg/s, against ${baseUrl}`);

  // ---- people, DMs with a neighbour, one group of up to 100
  const users: User[] = [];
  for (let i = 0; i < options.users; i++) {
    const address = `10.${Math.floor(i / 250)}.${i % 250}.1`;
    const username = `soak${i}_${process.pid % 1000}`;
    const res = await api(baseUrl, 'POST', '/v1/auth/signup', {
      body: { username, password: 'correct horse battery' },
      address,
    });
    if (res.status !== 201) throw new Error(`signup: ${res.status} ${JSON.stringify(res.body)}`);
    users.push({ id: res.body.user.id, username, token: res.body.token, address, seq: 0, pending: new Map() });
  }
  const dms: string[] = [];
  for (let i = 0; i < users.length; i++) {
    const res = await api(baseUrl, 'POST', '/v1/dms', {
      token: users[i]!.token,
      body: { userId: users[(i + 1) % users.length]!.id },
    });
    dms.push(res.body.channel.id);
  }
  const group = (
    await api(baseUrl, 'POST', '/v1/groups', {
      token: users[0]!.token,
      body: { name: 'soak', memberIds: users.slice(1, 100).map((u) => u.id) },
    })
  ).body.channel.id as string;
  const sentAt = new Map<string, number>();
  for (const user of users) await connect(wsUrl, user, sentAt);

  const deadline = Date.now() + options.minutes * 60_000;
  const running = () => Date.now() < deadline;
  const loops: Promise<void>[] = [];
  let n = 0;

  // ---- steady traffic: round-robin senders, mostly DMs, every tenth message to the group
  loops.push(
    (async () => {
      const gapMs = 1000 / options.rate;
      let next = Date.now();
      while (running()) {
        const user = users[n % users.length]!;
        const channelId = n % 10 === 0 ? group : dms[n % users.length]!;
        const clientMsgId = `s${n++}`;
        if (user.ws?.readyState === WebSocket.OPEN) {
          const at = µs();
          user.pending.set(clientMsgId, at);
          sentAt.set(clientMsgId, at);
          if (sentAt.size > 100_000) sentAt.delete(sentAt.keys().next().value!);
          user.ws.send(JSON.stringify({ op: 'send', channelId, text: `hello ${clientMsgId}`, clientMsgId }));
          now.sent++;
        }
        next += gapMs;
        await sleep(Math.max(0, next - Date.now()));
      }
    })(),
  );
  // ---- heartbeats
  loops.push(
    (async () => {
      while (running()) {
        for (const user of users) if (user.ws?.readyState === WebSocket.OPEN) user.ws.send('{"op":"ping"}');
        await sleep(5_000);
      }
    })(),
  );
  // ---- churn: close a few sockets a second; they come back with `since`
  loops.push(
    (async () => {
      while (running()) {
        for (let i = 0; i < options.churnPerSecond; i++) {
          const user = users[Math.floor(Math.random() * users.length)]!;
          // Only a settled socket: closing one still connecting would count as an abnormal close.
          if (user.ws?.readyState !== WebSocket.OPEN) continue;
          user.ws.close(1000);
          user.pending.clear();
          void connect(wsUrl, user, sentAt).then(() => now.reconnects++);
        }
        await sleep(1_000);
      }
    })(),
  );
  // ---- hostile: garbage frames on an authenticated socket
  loops.push(
    (async () => {
      const attacker: User = { ...users[0]!, ws: undefined, seq: 0, pending: new Map() };
      const garbage = [
        '{',
        'null',
        '[]',
        '{"op":"send"}',
        '{"op":"send","channelId":"1","text":"","clientMsgId":"x"}',
        '{"op":"nope"}',
        '\u0000',
      ];
      while (running()) {
        const ws = new WebSocket(wsUrl);
        await new Promise<void>((resolve) => {
          ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token: attacker.token })));
          ws.on('message', (data) => {
            const frame = JSON.parse(data.toString()) as { op: string };
            if (frame.op === 'error') now.garbageAnswered++;
            if (frame.op === 'ready') for (let i = 0; i < 200; i++) ws.send(garbage[i % garbage.length]!);
          });
          ws.on('close', () => resolve());
          ws.on('error', () => resolve());
          setTimeout(() => ws.close(1000), 2_000);
        });
      }
    })(),
  );
  // ---- hostile: a socket that never reads (a slow consumer), live in a busy DM
  loops.push(
    (async () => {
      while (running()) {
        // The victim of the maximal messages below: its buffer fills fastest.
        const member = users[1]!;
        const ws = new WebSocket(wsUrl);
        await new Promise<void>((resolve) => {
          const socket = () => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
          ws.on('open', () => {
            ws.send(JSON.stringify({ op: 'hello', token: member.token, since: 0 }));
            // Stop reading: the server's send buffer for this socket can only grow. A minute
            // later, read again to learn how the server ended it (4008 once it passed 16 MiB).
            socket().pause();
            setTimeout(() => socket().resume(), 60_000);
          });
          // It keeps pinging (writing needs no reading), so only its queue can get it closed.
          const pinger = setInterval(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send('{"op":"ping"}');
          }, 5_000);
          ws.once('close', () => clearInterval(pinger));
          let ours = false;
          ws.on('close', (code) => {
            // 4008 if the close frame got through; 1006 if the server had to drop the connection
            // (the client still did not read its close frame within the close timeout).
            if (!ours) now.count(now.slowConsumerEnds, code);
            resolve();
          });
          ws.on('error', () => resolve());
          setTimeout(() => {
            ours = true;
            ws.terminate();
            resolve();
          }, 120_000);
        });
      }
    })(),
  );
  // ---- hostile: maximal messages, then the victim syncs everything from the start
  loops.push(
    (async () => {
      const [sender, victim] = [users[0]!, users[1]!];
      const text = '😀'.repeat(100_000);
      while (running()) {
        for (let i = 0; i < 5; i++) {
          await api(baseUrl, 'POST', `/v1/channels/${dms[0]}/messages`, {
            token: sender.token,
            body: { text, clientMsgId: `max${n++}` },
          });
        }
        let since = 0;
        for (let pages = 0; pages < 50; pages++) {
          const page = await api(baseUrl, 'GET', `/v1/sync?since=${since}&limit=1000`, { token: victim.token });
          if (page.status !== 200) break;
          now.maximalSyncPages++;
          now.maximalSyncBytesMax = Math.max(now.maximalSyncBytesMax, page.bytes);
          since = page.body.seq;
          if (!page.body.hasMore) break;
        }
        await sleep(2_000);
      }
    })(),
  );
  // ---- hostile: password guessing across usernames from one address, and malformed bodies
  loops.push(
    (async () => {
      while (running()) {
        const guess = await api(baseUrl, 'POST', '/v1/auth/login', {
          body: { username: users[n % users.length]!.username, password: `guess ${n++}` },
          address: '192.0.2.66',
        });
        if (guess.status === 429) now.loginRateLimited++;
        await api(baseUrl, 'POST', '/v1/groups', {
          token: users[2]!.token,
          raw: '{"name": "\u202e", "memberIds": [1,',
        });
        await api(baseUrl, 'PATCH', '/v1/me', { token: users[2]!.token, body: { displayName: '\u200b' } });
        await sleep(100);
      }
    })(),
  );

  // ---- sampling
  const rows: object[] = [];
  const started = Date.now();
  const header =
    't(s)  rss(MiB)  sent/s  acked/s  ack p50/p99 (ms)  delivery p50/p99 (ms)  reconnects  slow-closed  garbage-answered  login-429  max-sync max(KiB)  5xx';
  console.log(header);
  while (running()) {
    await sleep(options.sampleS * 1000);
    const interval = now;
    now = new Interval();
    const sample = target.sample();
    const ack = summarize(interval.ack);
    const delivery = summarize(interval.delivery);
    interval.ack.destroy();
    interval.delivery.destroy();
    const row = {
      tS: Math.round((Date.now() - started) / 1000),
      rssMiB: sample ? Math.round(sample.rssBytes / 1048576) : undefined,
      sentPerS: Math.round(interval.sent / options.sampleS),
      ackedPerS: Math.round(interval.acked / options.sampleS),
      ackP50: ack.p50,
      ackP99: ack.p99,
      deliveryP50: delivery.p50,
      deliveryP99: delivery.p99,
      reconnects: interval.reconnects,
      slowConsumerEnds: Object.fromEntries(interval.slowConsumerEnds),
      garbageAnswered: interval.garbageAnswered,
      loginRateLimited: interval.loginRateLimited,
      maximalSyncPages: interval.maximalSyncPages,
      maximalSyncBytesMax: interval.maximalSyncBytesMax,
      http5xx: interval.http5xx,
      refused: Object.fromEntries(interval.refused),
      unexpectedCloses: Object.fromEntries(interval.unexpectedCloses),
    };
    rows.push(row);
    console.log(
      [
        String(row.tS).padStart(4),
        String(row.rssMiB).padStart(8),
        String(row.sentPerS).padStart(7),
        String(row.ackedPerS).padStart(8),
        `${row.ackP50}/${row.ackP99}`.padStart(17),
        `${row.deliveryP50}/${row.deliveryP99}`.padStart(22),
        String(row.reconnects).padStart(11),
        String([...interval.slowConsumerEnds.values()].reduce((a, b) => a + b, 0)).padStart(12),
        String(row.garbageAnswered).padStart(17),
        String(row.loginRateLimited).padStart(10),
        String(Math.round(row.maximalSyncBytesMax / 1024)).padStart(18),
        String(row.http5xx).padStart(4),
      ].join(' '),
    );
  }
  for (const user of users) user.ws?.close(1000);
  await Promise.race([Promise.all(loops), sleep(35_000)]);
  await target.stop();
  rmSync(dataDir, { recursive: true, force: true });

  const outDir = path.join(benchRoot, 'results', 'soak');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ options, rows }, null, 2));
  console.log(`written ${path.relative(process.cwd(), file)}`);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
