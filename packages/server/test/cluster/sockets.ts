/**
 * Memory and CPU per idle WebSocket on one server process, for docs/scaling.md. Not a test; run
 *   npx vite-node packages/server/test/cluster/sockets.ts [sockets] [seconds] [redis]
 * Starts the built server (embedded mode) as a child process, opens `sockets` authenticated
 * sockets that ping every heartbeat, and reads the server's RSS and CPU time from /proc.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { deleteRedisKeys, redisTestUrl, uniqueRedisPrefix } from '../../src/adapters/redis/testing.js';
import { spawnServerProcess } from '../../src/testing.js';
import { api, ensureBuilt, signup, sleep } from './harness.js';

const SOCKETS = Number(process.argv[2] ?? 5_000);
const SECONDS = Number(process.argv[3] ?? 15);
const HEARTBEAT_MS = 5_000;
/** With "redis": presence leases (one touch per ping), bus and registry on Redis. */
const REDIS = process.argv[4] === 'redis';

function usage(pid: number): { rss: number; cpuMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100/s)
  const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
  return { rss: rssPages * 4096, cpuMs: ticks * 10 };
}

ensureBuilt();
const prefix = uniqueRedisPrefix('sockets');
const server = await spawnServerProcess({
  env: {
    PARLEY_HEARTBEAT_MS: String(HEARTBEAT_MS),
    PARLEY_GATEWAY_CAPACITY: String(SOCKETS * 2),
    PARLEY_LOG_LEVEL: 'error',
    ...(REDIS ? { PARLEY_REDIS_URL: redisTestUrl, PARLEY_REDIS_PREFIX: prefix } : {}),
  },
});
const sockets: WebSocket[] = [];
try {
  const session = await signup(server.baseUrl, `sock${Date.now().toString(36)}`);
  const { url } = await api<{ url: string }>(server.baseUrl, 'GET', '/v1/gateway', session.token);
  await sleep(1_000);
  const pid = server.child.pid!;
  const before = usage(pid);
  for (let i = 0; i < SOCKETS; i++) {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ op: 'hello', token: session.token })));
      ws.on('message', (data) => {
        if (data.toString().startsWith('{"op":"ready"')) resolve();
      });
    });
    ws.on('error', () => {});
    sockets.push(ws);
  }
  // Pings spread over the interval, as real clients' are.
  const timers = sockets.map((ws, i) =>
    setTimeout(
      () => {
        ws.send('{"op":"ping"}');
        timers[i] = setInterval(() => ws.send('{"op":"ping"}'), HEARTBEAT_MS) as unknown as NodeJS.Timeout;
      },
      (i * HEARTBEAT_MS) / SOCKETS,
    ),
  );
  await sleep(HEARTBEAT_MS);
  const settled = usage(pid);
  await sleep(SECONDS * 1000);
  const after = usage(pid);
  for (const t of timers) clearInterval(t);
  const perSocketKiB = (settled.rss - before.rss) / SOCKETS / 1024;
  const cpuShare = (after.cpuMs - settled.cpuMs) / (SECONDS * 1000);
  console.log(
    `${REDIS ? 'redis' : 'embedded'}: ${SOCKETS} sockets, ping every ${HEARTBEAT_MS} ms: RSS ${Math.round(before.rss / 2 ** 20)} -> ${Math.round(settled.rss / 2 ** 20)} MiB ` +
      `(${perSocketKiB.toFixed(1)} KiB per socket); server CPU ${(cpuShare * 100).toFixed(1)}% of one core ` +
      `for ${Math.round(SOCKETS / (HEARTBEAT_MS / 1000))} pings/s`,
  );
} finally {
  for (const ws of sockets) ws.terminate();
  await server.cleanup();
  if (REDIS) await deleteRedisKeys(prefix);
}
