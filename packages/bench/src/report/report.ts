/**
 * Generates docs/benchmarks.md and its SVG charts (docs/bench/) from the latest
 * non-quick result of each scenario under packages/bench/results/. Hand-written findings
 * live in packages/bench/report-notes.md and are appended verbatim.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SummaryRow } from '../lib/context.js';
import { benchRoot, repoRoot } from '../lib/paths.js';
import { resultFile, type RunRecord } from '../lib/results.js';
import { SLOW_COMMIT_MS, type StepResult } from '../lib/steps.js';
import { targetLabel, type TargetKind } from '../lib/target.js';
import type { ConnectionsRun } from '../scenarios/connections.js';
import type { DmRun } from '../scenarios/dm.js';
import type { GroupRun } from '../scenarios/group.js';
import type { HistoryRun, ReadKind } from '../scenarios/history.js';
import type { ReconnectRun } from '../scenarios/reconnect.js';
import type { SearchKind, SearchRun } from '../scenarios/search.js';
import { barChart, lineChart, type Series } from './svg.js';

const order = ['connections', 'dm', 'group', 'history', 'search', 'reconnect', 'cluster'];
const colors: Record<TargetKind, string> = {
  parley: '#d62728',
  floor: '#1f77b4',
  'floor-sqlite': '#2ca02c',
  relay: '#9467bd',
  baseline: '#ff7f0e',
};

function latest(dir: string, name: string): RunRecord | undefined {
  const found = (['default', 'full'] as const)
    .map((m) => resultFile(dir, name, m))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunRecord);
  return found.sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

const num = (v: number | null | undefined): string =>
  v === null || v === undefined ? '–' : Number.isInteger(v) ? v.toLocaleString('en') : String(v);

/** Each round's figure and the target's place in that round's order, e.g. "2,920 (1st) · 809 (2nd)"; "–" for a single run. */
function byRound<T extends { place: number }>(rounds: readonly T[] | undefined, value: (r: T) => number): string {
  if (!rounds?.length) return '–';
  const ordinal = (n: number): string => `${n}${n === 1 ? 'st' : n === 2 ? 'nd' : n === 3 ? 'rd' : 'th'}`;
  return rounds.map((r) => `${num(value(r))} (${ordinal(r.place)})`).join(' · ');
}

function summaryTable(rows: { scenario: string; row: SummaryRow }[]): string[] {
  const out = [
    '| Scenario | Figure | Parley | Compared with | Ratio | Target |',
    '| --- | --- | ---: | ---: | ---: | --- |',
  ];
  for (const { scenario, row } of rows) {
    const others = Object.entries(row.others ?? {})
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `; ${k}: ${num(v)}`)
      .join('');
    const target = row.target
      ? `${row.target} ${row.met === null || row.met === undefined ? '(n/a)' : row.met ? '✅ met' : '❌ missed'}`
      : '';
    out.push(
      `| ${scenario} | ${row.metric} | ${num(row.parley)} ${row.unit} | ${row.baselineLabel}: ${num(row.baseline)}${others} | ${row.ratio === null ? '–' : `${row.ratio}x`} | ${target} |`,
    );
  }
  return out;
}

function header(r: RunRecord): string[] {
  return [
    `Command: \`${r.command}\` · run on ${r.startedAt.slice(0, 10)} · ${r.durationS} s · commit \`${r.git.commit.slice(0, 10)}\`${r.git.dirty ? ' (uncommitted changes)' : ''} · load average at start ${r.loadAvgAtStart.join(' ')} · ${r.generator.processes} generator processes`,
    '',
  ];
}

function stepTable(rows: { label: string; steps: StepResult[] }[], fanoutLabel: string): string[] {
  const out = [
    `| System | Offered msgs/s | Acked/s | ${fanoutLabel}/s | Delivery p50 | p90 | p99 | p99.9 | max (ms) | Ack p99 (ms) | Lost | Skipped/refused | Server CPU | Generator CPU (busiest process) | Parley commits: msgs/batch, mean ms, over ${SLOW_COMMIT_MS} ms | Disk sync p99, max (ms) | Sustained |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const { label, steps } of rows) {
    for (const s of steps) {
      out.push(
        `| ${label} | ${num(s.offered)} | ${num(s.ackedPerS)} | ${num(s.deliveredPerS)} | ${s.delivery.p50} | ${s.delivery.p90} | ${s.delivery.p99} | ${s.delivery.p999} | ${s.delivery.max} | ${s.ack.count ? s.ack.p99 : '–'} | ${num(s.lost + s.unacked)} | ${num(s.skipped + s.errors)} | ${s.serverCpu} | ${s.generatorCpu} (${s.generatorCpuMax ?? '–'}) | ${s.commits ? `${s.commits.meanBatch}, ${s.commits.meanCommitMs}, ${s.commits.slow ?? '–'}` : '–'} | ${s.disk ? `${s.disk.p99Ms}, ${s.disk.maxMs}` : '–'} | ${s.sustained ? 'yes' : 'no'} |`,
      );
    }
  }
  return out;
}

function stepCharts(
  docsDir: string,
  file: string,
  title: string,
  rows: { kind: TargetKind; steps: StepResult[] }[],
  perMessage: number,
): string[] {
  const lat: Series[] = [];
  const thr: Series[] = [];
  for (const { kind, steps } of rows) {
    lat.push({
      name: `${targetLabel[kind]} p99`,
      color: colors[kind],
      points: steps.map((s) => [s.offered * perMessage, s.delivery.p99]),
    });
    lat.push({
      name: `${targetLabel[kind]} p50`,
      color: colors[kind],
      dashed: true,
      points: steps.map((s) => [s.offered * perMessage, s.delivery.p50]),
    });
    thr.push({
      name: targetLabel[kind],
      color: colors[kind],
      points: steps.map((s) => [s.offered * perMessage, Math.max(1, s.deliveredPerS)]),
    });
  }
  const unit = perMessage === 1 ? 'msgs/s' : 'deliveries/s';
  writeFileSync(
    path.join(docsDir, 'bench', `${file}-latency.svg`),
    lineChart({
      title: `${title}: delivery latency vs offered load`,
      xLabel: `offered ${unit}`,
      yLabel: 'latency (ms, log)',
      series: lat,
      logX: true,
      logY: true,
      hLine: { y: 100, label: '100 ms bound' },
    }),
  );
  writeFileSync(
    path.join(docsDir, 'bench', `${file}-throughput.svg`),
    lineChart({
      title: `${title}: delivered vs offered`,
      xLabel: `offered ${unit}`,
      yLabel: `delivered ${unit}`,
      series: thr,
      logX: true,
      logY: true,
      diagonal: true,
    }),
  );
  return [
    `![${title} latency](bench/${file}-latency.svg)`,
    '',
    `![${title} throughput](bench/${file}-throughput.svg)`,
    '',
  ];
}

function section(name: string, r: RunRecord, docsDir: string): string[] {
  const out: string[] = [`## ${name}`, '', ...header(r)];
  const kinds = Object.keys(r.targets) as TargetKind[];
  if (name === 'dm') {
    const t = r.targets as Partial<Record<TargetKind, DmRun[]>>;
    const lens = [...new Set(kinds.flatMap((k) => (t[k] ?? []).map((x) => x.textLen)))];
    for (const len of lens) {
      const rows = kinds.map((k) => ({ kind: k, steps: t[k]?.find((x) => x.textLen === len)?.steps ?? [] }));
      const title = `dm, ${len.toLocaleString('en')}-char texts`;
      out.push(
        `### ${title}`,
        '',
        ...stepCharts(docsDir, `dm-${len}`, title, rows, 1),
        ...stepTable(
          rows.map((x) => ({ label: targetLabel[x.kind], steps: x.steps })),
          'Delivered',
        ),
        '',
      );
      // The one-frame relay sends no seq: there is nothing to check.
      const gaps = kinds
        .filter((k) => k !== 'relay')
        .map((k) => `${targetLabel[k]}: ${t[k]?.find((x) => x.textLen === len)?.seqGaps ?? 0} seq gaps`);
      out.push(`Per-device seq check: ${gaps.join(', ')}.`, '');
    }
  } else if (name === 'group') {
    const t = r.targets as Partial<Record<TargetKind, GroupRun>>;
    const rows = kinds.map((k) => ({ kind: k, steps: t[k]?.steps ?? [] }));
    out.push(
      ...stepCharts(docsDir, 'group', 'group (100 members)', rows, 99),
      ...stepTable(
        rows.map((x) => ({ label: targetLabel[x.kind], steps: x.steps })),
        'Deliveries',
      ),
      '',
    );
  } else if (name === 'connections') {
    const t = r.targets as Partial<Record<TargetKind, ConnectionsRun>>;
    out.push(
      '| System | Connected | Failed | Connect rate (conn/s), median | By round (place in its order) | Handshake p50 / p99 (ms) | RSS half → all connected (MiB) | Per connection (KiB) | Idle server CPU (cores) | Idle generator CPU |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const k of kinds) {
      const c = t[k];
      if (!c) continue;
      out.push(
        `| ${targetLabel[k]} | ${num(c.connected)} | ${num(c.failed)} | ${num(c.connectsPerS)} | ${byRound(c.rounds, (x) => x.connectsPerS)} | ${c.handshake.p50} / ${c.handshake.p99} | ${c.rssBeforeMiB} → ${c.rssAfterMiB} | ${Math.round(c.bytesPerConnection / 102.4) / 10} | ${c.idleServerCpu} | ${c.idleGeneratorCpu} |`,
      );
    }
    writeFileSync(
      path.join(docsDir, 'bench', 'connections.svg'),
      barChart({
        title: 'Idle connections: memory and connect rate',
        yLabel: 'KiB per connection / (conn/s ÷ 100)',
        groups: [
          {
            label: 'KiB per connection',
            bars: kinds.map((k) => ({
              name: targetLabel[k],
              color: colors[k],
              value: t[k] ? t[k].bytesPerConnection / 1024 : null,
            })),
          },
          {
            label: 'connect rate ÷ 100',
            bars: kinds.map((k) => ({
              name: targetLabel[k],
              color: colors[k],
              value: t[k] ? t[k].connectsPerS / 100 : null,
            })),
          },
        ],
      }),
    );
    out.push('', '![connections](bench/connections.svg)', '');
  } else if (name === 'history') {
    const runs = (r.targets as { parley?: HistoryRun[] }).parley ?? [];
    const readKinds: ReadKind[] = ['latest', 'before', 'around', 'sync'];
    out.push(
      '| Messages | Generated in (s) | DB bytes/message | Read | p50 | p90 | p99 | p99.9 | max (ms) | Requests | Errors | Timed out | Server CPU |',
      '| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const h of runs) {
      for (const k of readKinds) {
        const x = h.reads[k];
        out.push(
          `| ${num(h.messages)} | ${h.generateSeconds} | ${num(h.bytesPerMessage)} | ${k} | ${x.latency.p50} | ${x.latency.p90} | ${x.latency.p99} | ${x.latency.p999} | ${x.latency.max} | ${num(x.requests)} | ${num(x.errors)} | ${num(x.timedOut ?? 0)} | ${x.serverCpu} |`,
        );
      }
    }
    const palette = ['#9ecae1', '#d62728', '#6baed6', '#2171b5'];
    writeFileSync(
      path.join(docsDir, 'bench', 'history.svg'),
      barChart({
        title: 'History reads: p99 latency by stored messages',
        yLabel: 'p99 (ms)',
        groups: readKinds.map((k) => ({
          label: k,
          bars: runs.map((h, i) => ({
            name: `${h.messages.toLocaleString('en')} messages`,
            color: palette[i % palette.length]!,
            value: h.reads[k].latency.p99,
          })),
        })),
      }),
    );
    out.push('', '![history](bench/history.svg)', '');
  } else if (name === 'search') {
    const runs = (r.targets as { parley?: SearchRun[] }).parley ?? [];
    const searchKinds: SearchKind[] = ['selective', 'common', 'selectiveLatin'];
    const queries = (r.config as { queries?: Record<SearchKind, string> }).queries;
    out.push(
      '| Messages | Generated in (s) | DB bytes/message | Index bytes/message | Query | Hits/page | p50 | p90 | p99 | p99.9 | max (ms) | Requests | Errors | Timed out | Server CPU |',
      '| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const h of runs) {
      for (const k of searchKinds) {
        const x = h.reads[k];
        out.push(
          `| ${num(h.messages)} | ${h.generateSeconds} | ${num(h.bytesPerMessage)} | ${num(h.indexBytesPerMessage)} | ${k} \`${queries?.[k] ?? ''}\` | ${x.hitsPerPage} | ${x.latency.p50} | ${x.latency.p90} | ${x.latency.p99} | ${x.latency.p999} | ${x.latency.max} | ${num(x.requests)} | ${num(x.errors)} | ${num(x.timedOut ?? 0)} | ${x.serverCpu} |`,
        );
      }
    }
  } else if (name === 'reconnect') {
    const t = r.targets as Partial<Record<TargetKind, ReconnectRun>>;
    out.push(
      '| System | Devices | Back (fewest) | Caught up (fewest) | Time to all caught up (ms), median | By round (place in its order) | Server CPU per device (µs), by round | Generator CPU per device (µs), median | Handshake p50 / p99 (ms) | Replayed | Sent | Acked | Skipped while down | Seq gaps | Dups | Lost |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const k of kinds) {
      const c = t[k];
      if (!c) continue;
      out.push(
        `| ${targetLabel[k]} | ${num(c.devices)} | ${num(c.reconnected)} | ${num(c.resumed)} | ${num(c.resumeMs)} | ${byRound(c.rounds, (x) => x.resumeMs)} | ${byRound(c.rounds, (x) => x.serverCpuUsPerDevice)} | ${num(c.generatorCpuUsPerDevice)} | ${c.handshake.p50} / ${c.handshake.p99} | ${num(c.replayed)} | ${num(c.sent)} | ${num(c.acked)} | ${num(c.skippedWhileDown)} | ${num(c.seqGaps)} | ${num(c.seqDups)} | ${num(c.lost)} |`,
      );
    }
    out.push('');
  } else if (name === 'cluster') {
    const t = (r.targets as { parley?: Record<string, DmRun[]> }).parley ?? {};
    const rows = Object.entries(t).map(([n, runs]) => ({ n, steps: runs[0]?.steps ?? [] }));
    if (rows.length) {
      out.push(
        ...stepTable(
          rows.map((x) => ({ label: `Parley, ${x.n} node${x.n === '1' ? '' : 's'}`, steps: x.steps })),
          'Delivered',
        ),
        '',
      );
    }
  }
  if (r.summary.length) out.push(...summaryTable(r.summary.map((row) => ({ scenario: name, row }))), '');
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.notes.length) out.push('');
  return out;
}

export function writeReport(resultsDir: string): string {
  const docsDir = path.join(repoRoot, 'docs');
  mkdirSync(path.join(docsDir, 'bench'), { recursive: true });
  const records = order
    .map((name) => ({ name, r: latest(resultsDir, name) }))
    .filter((x): x is { name: string; r: RunRecord } => x.r !== undefined);
  const any = records[0]?.r;
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench -- report` from packages/bench/results/*.json (and packages/bench/report-notes.md). Do not edit by hand. -->',
    '',
    'Every figure below comes from `npm run bench` (packages/bench) and can be reproduced with the command printed beside it.',
    'Each Parley figure is measured in the same run as the **floor**: a minimal relay on the same stack (Node + `ws`, no auth,',
    'no persistence) that speaks the same frames and routes the same way (per-user seq, every device of every member, the',
    "sender's own devices included), driven by the same generator. **floor + SQLite** (the durable floor) adds batched SQLite",
    'appends (WAL, `synchronous=FULL`: an fsync, as Parley does) before the ack: each message, its idempotency key (a',
    'UNIQUE index on sender and `clientMsgId` that every insert checks and writes) and a log row per member, the work a',
    'durable DM commits; the cost of durability alone. In `dm`, the **one-frame relay** (the same relay with',
    "`FLOOR_ONE_FRAME=1`) writes one frame to each of the recipient's devices per message and nothing else: no ack, no",
    "seq, no frame to the sender's devices, no check beyond finding the channel; the generator counts each of its",
    'messages as acked once delivered. Against it the floor shows what the protocol costs; against the durable floor,',
    'Parley shows what it costs beyond the protocol and durability.',
    '',
    '**Method.** Generator: several processes (2 by default), pre-built frames, only `op`, `seq` and `clientMsgId` read from',
    'incoming frames. Load is open-loop: every message has an intended send time fixed in advance and latency is measured',
    'from that time to receipt on the shared monotonic clock, so a slow server cannot slow the generator down and hide its',
    'latency (no coordinated omission). Latencies go into HDR histograms (p50/p90/p99/p99.9/max). Server CPU and RSS come',
    'from `/proc/<pid>/stat`; generator CPU is printed beside it. A step is **sustained** when nothing was skipped, refused or',
    'lost and delivery p99 < 100 ms; stepping stops at the first step that is not. In `dm`, `group` and `cluster` each',
    'target first gets a 3 s warm-up at the lowest rate that is not counted: right after connecting, every target pays',
    'for JIT compilation and cold caches, which belongs to no offered rate. **Server CPU per message** (`dm`) is the',
    "server's CPU over a step's send window (fraction of a core) × 10⁶ / the messages it acked per second in that window,",
    'in µs, read for every target at the highest step that both Parley and the durable floor sustained (per-message CPU',
    'falls as batches grow with the rate, so the two are compared at one rate).',
    '',
  ];
  if (any) {
    const m = any.machine;
    lines.push(
      `**Machine.** ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, ${m.os}, Linux ${m.kernel}, Node ${any.versions.node}, ws ${any.versions.ws}, better-sqlite3 ${any.versions['better-sqlite3']}. Open files: ${m.openFileLimit}. Loopback only; the generator, the server and the floor share the same ${m.cpus} cores, so a figure is a property of this whole box, and ratios to the floor are what carries over.`,
      '',
    );
  }
  lines.push(
    '**How to reproduce.** After `npm ci`, `npm run bench -- <scenario>` builds everything and runs one scenario',
    '(`connections`, `dm`, `group`, `history`, `search`, `reconnect` or `cluster`; `all` runs every one). Each run writes',
    '`packages/bench/results/<scenario>.json` and regenerates this page; `npm run bench -- report` regenerates it from',
    'those files without running anything. `--quick` is a short smoke run that writes under `results/tmp/` and leaves',
    'this page alone; `--full` uses the largest sizes (18,000 connections, 15 s steps) and writes `<scenario>-full.json`.',
    '`cluster` needs PostgreSQL and Redis',
    '(`PARLEY_BENCH_PG_URL`, an admin `postgres://` URL, and `PARLEY_BENCH_REDIS_URL`; by default the local ones) and',
    'reports itself skipped without them. packages/bench/README.md lists the options.',
    '',
    '## Summary',
    '',
    'Each row is the last run of its scenario. A ✅ says that run met the target, not that every run does: "Reading these figures" below says how far the figures move between runs on this machine.',
    '',
  );
  const rows = records.flatMap(({ name, r }) => r.summary.map((row) => ({ scenario: name, row })));
  lines.push(...(rows.length ? summaryTable(rows) : ['No results yet: run `npm run bench -- all`.']), '');
  for (const { name, r } of records) lines.push(...section(name, r, docsDir));
  const notes = path.join(benchRoot, 'report-notes.md');
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8').trim(), '');
  const file = path.join(docsDir, 'benchmarks.md');
  writeFileSync(file, lines.join('\n'));
  return file;
}
