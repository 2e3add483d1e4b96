/**
 * search: GET /v1/search over a large history. Messages of mixed Korean, English and Japanese
 * words are generated straight into Parley's SQLite file, with the rows the Store writes for
 * search (the message, and its tokens in the FTS5 index, made by the server's own tokenizer),
 * across 40 groups of which the searcher is in 20. Then a selective term (a few hits per
 * million) and a common two-character Korean term (in 5% of messages) are searched at a fixed
 * open-loop rate: latency percentiles, database size and the index's bytes per message.
 * The comparison is the large size against the small one: a selective query's cost must not
 * grow with history (the target: p99 < 100 ms at 10M, and within 2x of 1M).
 *
 * Sizes: `--sizes 1000000,10000000` (default per mode); generating 10M takes a while on a
 * small machine, so the sizes are a parameter.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { indexTokens } from '@parley/server';
import { nowUs } from '../lib/clock.js';
import { pick, ratio, type BenchContext, type ScenarioResult, type SummaryRow } from '../lib/context.js';
import { settleDisk } from '../lib/disk.js';
import { cpuBetween } from '../lib/proc.js';
import { initParleyDataDir } from '../lib/systems.js';
import { startParley, type Target } from '../lib/target.js';
import { seedParleySqlite } from '../lib/world.js';
import { messageIdAt, openLoopGets, type ReadResult } from './history.js';

export type SearchKind = 'selective' | 'common' | 'selectiveLatin';
const kinds: SearchKind[] = ['selective', 'common', 'selectiveLatin'];
const queries: Record<SearchKind, string> = {
  selective: '해바라기',
  common: '회의',
  selectiveLatin: 'zephyrine',
};
/** Two messages in this many hold each selective term (one of them in the searcher's channels). */
const SELECTIVE_EVERY = 100_000;
/** One message in this many holds the common term (half of them in the searcher's channels). */
const COMMON_EVERY = 10;
const CHANNELS = 40;

export interface SearchRun {
  messages: number;
  generateSeconds: number;
  dbBytes: number;
  bytesPerMessage: number;
  /** The FTS5 index's own pages (its shadow tables), per message. */
  indexBytesPerMessage: number | null;
  reads: Record<SearchKind, ReadResult & { serverCpu: number; hitsPerPage: number }>;
}

/** A deterministic pseudo-random sequence (mulberry32), so every run searches the same history. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A vocabulary of Korean, English-like and Japanese words, none of which contains a query term
 * (the syllables of 해바라기 and 회의 are left out), each with its tokens.
 */
function vocabulary(size: number): { word: string; tokens: string }[] {
  const rnd = random(7);
  const hangul = [
    ...'가나다마사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후그느드르므브스으즈츠크트프흐',
  ];
  const kana = [...'アイウエオカキクケコサシスセソタチツテトナニヌネノマミムメモヤユヨラリルレロワン'];
  const consonants = [...'bcdfghjklmnprstvw'];
  const vowels = [...'aeiou'];
  const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const words = new Set<string>();
  while (words.size < size) {
    const kind = rnd();
    const length = 2 + Math.floor(rnd() * 3);
    let word = '';
    for (let i = 0; i < length; i++) {
      if (kind < 0.45) word += pickOf(hangul);
      else if (kind < 0.6) word += pickOf(kana);
      else word += pickOf(consonants) + pickOf(vowels);
    }
    if (!word.includes('zephyrine')) words.add(word);
  }
  return [...words].map((word) => ({ word, tokens: indexTokens(word) }));
}

/**
 * Messages 0..n-1 into `channels` round robin, sent by `senderId`, each 6-11 words of the
 * vocabulary (skewed: a few words are frequent, most rare), plus the query terms at their rates.
 */
export function generateSearchHistory(dbPath: string, channels: readonly string[], senderId: string, n: number): void {
  const db = new Database(dbPath);
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const words = vocabulary(20_000);
  const terms = {
    selective: { word: queries.selective, tokens: indexTokens(queries.selective) },
    common: { word: queries.common, tokens: indexTokens(queries.common) },
    latin: { word: queries.selectiveLatin, tokens: indexTokens(queries.selectiveLatin) },
  };
  const rnd = random(42);
  const insertMessage = db.prepare(
    `INSERT INTO messages (id, channel_id, sender_id, text, created_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const insertTokens = db.prepare(`INSERT INTO message_search (rowid, tokens) VALUES (CAST(? AS INTEGER), ?)`);
  const chunk = 100_000;
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    db.transaction(() => {
      for (let i = from; i < to; i++) {
        const count = 6 + Math.floor(rnd() * 6);
        const text: string[] = [];
        const tokens: string[] = [];
        for (let k = 0; k < count; k++) {
          const w = words[Math.floor(words.length * rnd() ** 3)]!;
          text.push(w.word);
          tokens.push(w.tokens);
        }
        // Each term lands in channels of both parities: the searcher is in every other one.
        const r = i % (SELECTIVE_EVERY / 2);
        const extra =
          r === 7 || r === 8
            ? terms.selective
            : r === 12 || r === 13
              ? terms.latin
              : i % (COMMON_EVERY / 2) === 3
                ? terms.common
                : undefined;
        if (extra !== undefined) {
          const at = Math.floor(rnd() * count);
          text.splice(at, 0, extra.word);
          tokens.splice(at, 0, extra.tokens);
        }
        const id = messageIdAt(i);
        insertMessage.run(
          id,
          channels[i % channels.length],
          senderId,
          text.join(' '),
          new Date(1767312000000 + Math.floor(i / 4)).toISOString(),
        );
        insertTokens.run(id, tokens.join(' '));
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  const lastId = messageIdAt(n - 1);
  db.prepare(
    `UPDATE store_meta SET value = ? WHERE key IN ('client_msg_ids_through', 'long_texts_synced_through')`,
  ).run(lastId);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The FTS5 index's pages in bytes (its shadow tables), or null where dbstat is not compiled in. */
function indexBytes(dbPath: string): number | null {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db.prepare(`SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name LIKE 'message_search%'`).get() as {
      bytes: number | null;
    };
    return row.bytes;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

function fileSize(p: string): number {
  return existsSync(p) ? statSync(p).size : 0;
}

export async function search(ctx: BenchContext): Promise<ScenarioResult> {
  const cfg = {
    sizes: ctx.sizes ?? pick(ctx.mode, [5_000, 20_000], [100_000, 1_000_000], [1_000_000, 10_000_000]),
    ratePerQuery: pick(ctx.mode, 10, 20, 20),
    durationMs: pick(ctx.mode, 500, 10_000, 20_000),
    limit: 20,
    graceMs: pick(ctx.mode, 2000, 10_000, 15_000),
  };
  const runs: SearchRun[] = [];
  for (const n of cfg.sizes) {
    const dataDir = path.join(ctx.tmpDir, `search-${n}`);
    const dbPath = await initParleyDataDir(ctx, dataDir);
    // The searcher (user 0) is in every other group; user 1 is in all of them and sends everything.
    const world = seedParleySqlite(dbPath, {
      users: 2,
      groups: Array.from({ length: CHANNELS }, (_, g) => (g % 2 === 0 ? [1, 0] : [1])),
    });
    const [searcher, sender] = world.users;
    const t0 = nowUs();
    generateSearchHistory(dbPath, world.groups, sender!.id, n);
    const generateSeconds = Math.round((nowUs() - t0) / 1e4) / 100;
    const dbBytes = fileSize(dbPath) + fileSize(`${dbPath}-wal`) + fileSize(`${dbPath}-texts`);
    const index = indexBytes(dbPath);
    const disk = await settleDisk(ctx.tmpDir);
    ctx.log(
      ` generated ${n.toLocaleString('en')} messages in ${generateSeconds} s, ${Math.round(dbBytes / n)} B/message,` +
        ` index ${index === null ? '?' : Math.round(index / n)} B/message (disk ${disk.quiet ? 'quiet' : 'still busy'})`,
    );
    const start = (): Promise<Target> =>
      startParley({ dataDir, logDir: path.join(ctx.tmpDir, 'logs'), cpuProfDir: ctx.cpuProfDir });
    let target = await start();
    try {
      const pathOf = (kind: SearchKind) => `/v1/search?q=${encodeURIComponent(queries[kind])}&limit=${cfg.limit}`;
      const reads = {} as SearchRun['reads'];
      for (const kind of kinds) {
        // One answer first: how many hits a page has (and a warm statement cache).
        const first = await fetch(target.baseUrl + pathOf(kind), {
          headers: { authorization: `Bearer ${searcher!.token}` },
        });
        const hitsPerPage = ((await first.json()) as { results?: unknown[] }).results?.length ?? 0;
        const s0 = target.sample();
        const r = await openLoopGets(
          target.baseUrl,
          searcher!.token,
          cfg.ratePerQuery,
          cfg.durationMs,
          cfg.graceMs,
          () => pathOf(kind),
        );
        reads[kind] = { ...r, serverCpu: cpuBetween(s0, target.sample()), hitsPerPage };
        if (r.timedOut > 0) {
          await target.stop();
          target = await start();
        }
        ctx.log(
          `  ${n.toLocaleString('en')} ${kind} (${queries[kind]}, ${hitsPerPage} hits/page): p50 ${r.latency.p50} p99 ${r.latency.p99} max ${r.latency.max} ms, ${r.errors} errors, ${r.timedOut} timed out`,
        );
      }
      runs.push({
        messages: n,
        generateSeconds,
        dbBytes,
        bytesPerMessage: Math.round(dbBytes / n),
        indexBytesPerMessage: index === null ? null : Math.round((index / n) * 10) / 10,
        reads,
      });
    } finally {
      await target.stop();
    }
  }
  const small = runs[0];
  const large = runs[runs.length - 1];
  const label = (n: number | undefined): string => (n === undefined ? '?' : n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  const summary: SummaryRow[] = kinds.map((kind) => {
    const p = large?.reads[kind].latency.p99 ?? null;
    const base = small?.reads[kind].latency.p99 ?? null;
    const r = ratio(p, base);
    const targeted = kind === 'selective';
    return {
      metric: `search ${kind} p99 at ${label(large?.messages)} vs ${label(small?.messages)} messages`,
      unit: 'ms',
      parley: p,
      baseline: base,
      baselineLabel: `Parley at ${label(small?.messages)}`,
      ratio: r,
      ...(targeted ? { target: '<= 2', met: r === null ? null : r <= 2 && (p ?? Infinity) < 100 } : {}),
    };
  });
  summary.push(
    {
      metric: `database size per message at ${label(large?.messages)}`,
      unit: 'bytes',
      parley: large?.bytesPerMessage ?? null,
      baseline: small?.bytesPerMessage ?? null,
      baselineLabel: `at ${label(small?.messages)}`,
      ratio: ratio(large?.bytesPerMessage, small?.bytesPerMessage),
    },
    {
      metric: `search index size per message at ${label(large?.messages)}`,
      unit: 'bytes',
      parley: large?.indexBytesPerMessage ?? null,
      baseline: small?.indexBytesPerMessage ?? null,
      baselineLabel: `at ${label(small?.messages)}`,
      ratio: ratio(large?.indexBytesPerMessage, small?.indexBytesPerMessage),
    },
  );
  return {
    config: { ...cfg, queries, selectiveEvery: SELECTIVE_EVERY, commonEvery: COMMON_EVERY, channels: CHANNELS },
    targets: { parley: runs },
    summary,
    notes: [
      `The searcher is a member of ${CHANNELS / 2} of the ${CHANNELS} groups the messages are spread over, so half of the hits are filtered out by membership.`,
      `Each selective term is in 2 messages in ${(SELECTIVE_EVERY / 2).toLocaleString('en')} (one of them in a channel of the searcher's); the common term (a two-character Korean word) in 1 in ${COMMON_EVERY / 2}.`,
      'Each query is issued open-loop at a fixed rate over a keep-alive pool; a page is at most 20 results.',
    ],
  };
}
