/**
 * history: one DM channel holding 1M and 10M messages, generated straight into Parley's
 * SQLite file (with the rows the Store would write: message, idempotency key, one update-log
 * entry per member). Then latest-page, `before`, `around` and `/v1/sync` reads at a fixed
 * open-loop request rate: latency percentiles per read, and database size per message.
 * The comparison is Parley at 10M against Parley at 1M: the cost must not grow with history.
 */
import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { nowUs, sleep } from '../lib/clock.js';
import { pick, ratio, type BenchContext, type ScenarioResult, type SummaryRow } from '../lib/context.js';
import { settleDisk } from '../lib/disk.js';
import { newHistogram, summarize, type LatencySummary } from '../lib/hist.js';
import { cpuBetween } from '../lib/proc.js';
import { initParleyDataDir } from '../lib/systems.js';
import { startParley, type Target } from '../lib/target.js';
import { seedParleySqlite } from '../lib/world.js';

export type ReadKind = 'latest' | 'before' | 'around' | 'sync';
const kinds: ReadKind[] = ['latest', 'before', 'around', 'sync'];

export interface HistoryRun {
  messages: number;
  generateSeconds: number;
  dbBytes: number;
  bytesPerMessage: number;
  reads: Record<ReadKind, ReadResult & { serverCpu: number }>;
}

/** Message ids: Snowflake-shaped (ms since 2026-01-01 << 22), starting on 2026-01-02, 4 per ms. */
const BASE_ID = 86_400_000 * 2 ** 22;

export function generateHistory(dbPath: string, channelId: string, a: string, b: string, n: number): void {
  const db = new Database(dbPath);
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const chunk = 250_000;
  const stmts = [
    `INSERT INTO messages (id, channel_id, sender_id, text, created_at, client_msg_id)
       WITH RECURSIVE seq(i) AS (SELECT @from UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < @to)
       SELECT @base + (i / 4) * 4194304 + (i % 4), @channel, CASE i % 2 WHEN 0 THEN @a ELSE @b END,
         'history message ' || i || ' lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor',
         strftime('%Y-%m-%dT%H:%M:%fZ', 1767312000 + (i / 4) / 1000.0, 'unixepoch'), 'h' || i FROM seq`,
    `INSERT INTO client_msg_ids (sender_id, client_msg_id, message_id)
       WITH RECURSIVE seq(i) AS (SELECT @from UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < @to)
       SELECT CASE i % 2 WHEN 0 THEN @a ELSE @b END, 'h' || i, @base + (i / 4) * 4194304 + (i % 4) FROM seq`,
    `INSERT INTO user_log (user_id, seq, type, channel_id, message_id, data, created_at)
       WITH RECURSIVE seq(i) AS (SELECT @from UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < @to)
       SELECT u, i + 1, 'message.created', @channel, @base + (i / 4) * 4194304 + (i % 4), NULL,
         strftime('%Y-%m-%dT%H:%M:%fZ', 1767312000 + (i / 4) / 1000.0, 'unixepoch')
       FROM seq, (SELECT @a AS u UNION ALL SELECT @b)`,
  ].map((s) => db.prepare(s));
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    db.transaction(() => {
      for (const s of stmts) s.run({ from, to, base: BASE_ID, channel: channelId, a, b });
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  const lastId = BASE_ID + Math.floor((n - 1) / 4) * 4194304 + ((n - 1) % 4);
  db.prepare('UPDATE users SET log_seq = ? WHERE id IN (?, ?)').run(n, a, b);
  db.prepare('UPDATE channels SET last_message_id = ? WHERE id = ?').run(lastId, channelId);
  // Every key generated is in client_msg_ids: the server need not index them again on start.
  db.prepare(`UPDATE store_meta SET value = ? WHERE key = 'client_msg_ids_through'`).run(lastId);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

export const messageIdAt = (i: number): string => String(BASE_ID + Math.floor(i / 4) * 4194304 + (i % 4));

function fileSize(p: string): number {
  return existsSync(p) ? statSync(p).size : 0;
}

/**
 * Fires requests at a fixed rate (open loop); latency from each request's intended start.
 * Requests still outstanding `graceMs` after the last one was due are abandoned and counted
 * as timed out, with their latency so far recorded (a lower bound), so a pathological
 * server cannot make the scenario unbounded.
 */
export async function openLoopGets(
  baseUrl: string,
  token: string,
  rate: number,
  durationMs: number,
  graceMs: number,
  makePath: () => string,
): Promise<ReadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const hist = newHistogram();
  const url = new URL(baseUrl);
  let errors = 0;
  let requests = 0;
  let timedOut = 0;
  const inflight = new Set<{ req: http.ClientRequest; t: number; done: () => void }>();
  const all: Promise<void>[] = [];
  const start = nowUs() + 50_000;
  const n = Math.max(1, Math.floor((rate * durationMs) / 1000));
  for (let i = 0; i < n; i++) {
    const t = start + Math.floor((i * 1e6) / rate);
    const wait = t - nowUs();
    if (wait > 1000) await sleep(Math.floor(wait / 1000));
    requests++;
    all.push(
      new Promise<void>((resolve) => {
        const req = http.get(
          {
            host: url.hostname,
            port: url.port,
            path: makePath(),
            agent,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            res.on('data', () => undefined);
            res.on('end', () => {
              if (res.statusCode !== 200) errors++;
              entry.done();
            });
          },
        );
        const entry = {
          req,
          t,
          done: () => {
            if (!inflight.delete(entry)) return;
            hist.recordValue(Math.max(1, nowUs() - t));
            resolve();
          },
        };
        inflight.add(entry);
        req.on('error', () => {
          if (inflight.has(entry)) errors++;
          entry.done();
        });
      }),
    );
  }
  const deadline = setTimeout(() => {
    for (const e of [...inflight]) {
      timedOut++;
      e.done();
      e.req.destroy();
    }
  }, graceMs);
  await Promise.all(all);
  clearTimeout(deadline);
  agent.destroy();
  const latency = summarize(hist);
  hist.destroy();
  return { latency, requests, errors, timedOut };
}

export interface ReadResult {
  latency: LatencySummary;
  requests: number;
  errors: number;
  timedOut: number;
}

export async function history(ctx: BenchContext): Promise<ScenarioResult> {
  const cfg = {
    sizes: pick(ctx.mode, [5_000, 20_000], [1_000_000, 10_000_000], [1_000_000, 10_000_000]),
    ratePerRead: pick(ctx.mode, 20, 100, 200),
    durationMs: pick(ctx.mode, 500, 10_000, 20_000),
    pageLimit: 50,
    syncLimit: 200,
    /** Requests still outstanding this long after the last was due are abandoned (timed out). */
    graceMs: pick(ctx.mode, 2000, 10_000, 15_000),
  };
  const runs: HistoryRun[] = [];
  for (const n of cfg.sizes) {
    const dataDir = path.join(ctx.tmpDir, `history-${n}`);
    const dbPath = await initParleyDataDir(ctx, dataDir);
    const world = seedParleySqlite(dbPath, { users: 2, pairs: true });
    const [a, b] = world.users;
    const channelId = world.dms[0]!;
    const t0 = nowUs();
    generateHistory(dbPath, channelId, a!.id, b!.id, n);
    const generateSeconds = Math.round((nowUs() - t0) / 1e4) / 100;
    const dbBytes = fileSize(dbPath) + fileSize(`${dbPath}-wal`) + fileSize(`${dbPath}-texts`);
    // The generator writes with synchronous=OFF: its gigabytes are still on their way to the disk
    // when it returns, and the first reads timed paid for that (latest at 10M: p99 318 ms against
    // a 1.8 ms median; report notes, finding 25). Reads are what is measured here, so let the
    // writes land first.
    const disk = await settleDisk(ctx.tmpDir);
    ctx.log(
      ` generated ${n.toLocaleString('en')} messages in ${generateSeconds} s, ${Math.round(dbBytes / n)} B/message` +
        ` (disk ${disk.quiet ? 'quiet' : 'still busy'} ${disk.waitedMs} ms later)`,
    );
    const start = (): Promise<Target> =>
      startParley({ dataDir, logDir: path.join(ctx.tmpDir, 'logs'), cpuProfDir: ctx.cpuProfDir });
    let target = await start();
    try {
      const rnd = (): number => Math.floor(Math.random() * n);
      const paths: Record<ReadKind, () => string> = {
        latest: () => `/v1/channels/${channelId}/messages?limit=${cfg.pageLimit}`,
        before: () => `/v1/channels/${channelId}/messages?before=${messageIdAt(rnd())}&limit=${cfg.pageLimit}`,
        around: () => `/v1/channels/${channelId}/messages?around=${messageIdAt(rnd())}&limit=${cfg.pageLimit}`,
        sync: () => `/v1/sync?since=${Math.max(0, rnd() - cfg.syncLimit)}&limit=${cfg.syncLimit}`,
      };
      // Warm up the connection pool and the server's statement cache.
      await openLoopGets(target.baseUrl, a!.token, 20, 250, cfg.graceMs, paths.sync);
      const reads = {} as HistoryRun['reads'];
      for (const kind of kinds) {
        const s0 = target.sample();
        const r = await openLoopGets(
          target.baseUrl,
          a!.token,
          cfg.ratePerRead,
          cfg.durationMs,
          cfg.graceMs,
          paths[kind],
        );
        reads[kind] = { ...r, serverCpu: cpuBetween(s0, target.sample()) };
        // Abandoned requests may still be queued in the server: restart it so the next kind
        // is measured on an idle server.
        if (r.timedOut > 0) {
          await target.stop();
          target = await start();
        }
        ctx.log(
          `  ${n.toLocaleString('en')} ${kind}: p50 ${r.latency.p50} p99 ${r.latency.p99} max ${r.latency.max} ms, ${r.errors} errors, ${r.timedOut} timed out`,
        );
      }
      runs.push({ messages: n, generateSeconds, dbBytes, bytesPerMessage: Math.round(dbBytes / n), reads });
    } finally {
      await target.stop();
    }
  }
  const notes: string[] = [];
  const small = runs[0];
  const large = runs[runs.length - 1];
  const label = (n: number | undefined): string => (n === undefined ? '?' : n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  const summary: SummaryRow[] = kinds.map((kind) => {
    const p = large?.reads[kind].latency.p99 ?? null;
    const base = small?.reads[kind].latency.p99 ?? null;
    const r = ratio(p, base);
    const targeted = kind === 'latest' || kind === 'around';
    const saturated = (large?.reads[kind].timedOut ?? 0) > 0 || (small?.reads[kind].timedOut ?? 0) > 0;
    return {
      metric: `history ${kind} p99 at ${label(large?.messages)} vs ${label(small?.messages)} messages`,
      unit: 'ms',
      parley: p,
      baseline: base,
      baselineLabel: `Parley at ${label(small?.messages)}`,
      ratio: r,
      ...(targeted ? { target: '<= 2', met: r === null ? null : r <= 2 && !saturated } : {}),
    };
  });
  for (const h of runs) {
    for (const kind of kinds) {
      const x = h.reads[kind];
      if (x.timedOut > 0) {
        notes.push(
          `${kind} at ${label(h.messages)}: saturated, ${x.timedOut} of ${x.requests} requests timed out (abandoned ${cfg.graceMs / 1000} s after the last was due), so its percentiles are lower bounds.`,
        );
      }
    }
  }
  summary.push({
    metric: `database size per message at ${label(large?.messages)}`,
    unit: 'bytes',
    parley: large?.bytesPerMessage ?? null,
    baseline: small?.bytesPerMessage ?? null,
    baselineLabel: `at ${label(small?.messages)}`,
    ratio: ratio(large?.bytesPerMessage, small?.bytesPerMessage),
  });
  return {
    config: cfg,
    targets: { parley: runs },
    summary,
    notes: [
      ...notes,
      'No floor here: the question is whether read cost grows with history, so Parley at the large size is compared with Parley at the small size.',
      'Each read kind is issued open-loop at a fixed rate over a keep-alive pool of up to 64 sockets; `before`/`around` ids and `since` are uniform over the whole history.',
      "Size per message includes the message row, its idempotency key, both members' update-log entries and the indexes.",
    ],
  };
}
