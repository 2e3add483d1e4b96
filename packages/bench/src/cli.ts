/**
 * npm run bench -- <scenario|all|report> [--quick|--full] [options]
 *
 *   scenarios: connections, dm, group, history, search, reconnect, cluster
 *   --quick            seconds-long versions (the test suite runs these)
 *   --full             the largest sizes (e.g. 18,000 connections, 15 s steps)
 *   --workers N        generator processes (default 2)
 *   --targets a,b      systems to drive: parley, floor, floor-sqlite, relay (the one-frame relay), baseline
 *   --baseline DIR     another checkout of Parley, built: its server runs as the `baseline` target beside the
 *                      others (connections, dm, group, reconnect), so that two builds are compared in one run
 *   --out DIR          where the JSON goes (default packages/bench/results; quick runs: results/tmp)
 *   --profile          write a V8 CPU profile of the Parley server and list its hot spots
 *   --no-report        do not regenerate docs/benchmarks.md
 *   --keep             keep the scratch directory (data dirs, server logs)
 *   --size N           connections / reconnecting devices / dm users
 *   --sizes A,B        history sizes of the search scenario (e.g. 1000000,10000000)
 *   --rates a,b,c      offered msgs/s steps (dm, group, cluster); --step-ms N step length; --texts 100,10000 (dm)
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTmp, type BenchContext, type Mode, type ScenarioResult } from './lib/context.js';
import { hotSpots } from './lib/profile.js';
import { defaultResultsDir, environment, writeResult, type RunRecord } from './lib/results.js';
import type { TargetKind } from './lib/target.js';
import { writeReport } from './report/report.js';
import { cluster } from './scenarios/cluster.js';
import { connections } from './scenarios/connections.js';
import { dm } from './scenarios/dm.js';
import { group } from './scenarios/group.js';
import { history } from './scenarios/history.js';
import { reconnect } from './scenarios/reconnect.js';
import { search } from './scenarios/search.js';

type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

export const scenarios: Record<string, { run: Scenario; targets: TargetKind[] }> = {
  connections: { run: connections, targets: ['floor', 'parley'] },
  dm: { run: dm, targets: ['relay', 'floor', 'floor-sqlite', 'parley'] },
  group: { run: group, targets: ['floor', 'floor-sqlite', 'parley'] },
  history: { run: history, targets: ['parley'] },
  search: { run: search, targets: ['parley'] },
  reconnect: { run: reconnect, targets: ['floor', 'parley'] },
  cluster: { run: cluster, targets: ['parley'] },
};

interface Args {
  names: string[];
  mode: Mode;
  workers: number;
  targets?: TargetKind[];
  out?: string;
  profile: boolean;
  report: boolean;
  keep: boolean;
  rates?: number[];
  stepMs?: number;
  textLens?: number[];
  size?: number;
  sizes?: number[];
  baseline?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { names: [], mode: 'default', workers: 2, profile: false, report: true, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.mode = 'quick';
    else if (arg === '--full') a.mode = 'full';
    else if (arg === '--workers') a.workers = Math.max(1, Number(value()));
    else if (arg === '--targets') a.targets = value().split(',') as TargetKind[];
    else if (arg === '--out') a.out = value();
    else if (arg === '--profile') a.profile = true;
    else if (arg === '--no-report') a.report = false;
    else if (arg === '--keep') a.keep = true;
    else if (arg === '--rates') a.rates = value().split(',').map(Number);
    else if (arg === '--step-ms') a.stepMs = Number(value());
    else if (arg === '--size') a.size = Number(value());
    else if (arg === '--texts') a.textLens = value().split(',').map(Number);
    else if (arg === '--sizes') a.sizes = value().split(',').map(Number);
    else if (arg === '--baseline') a.baseline = value();
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else a.names.push(arg);
  }
  return a;
}

const a2 = (v: number[] | undefined): number[] | undefined => (v && v.length ? v : undefined);

/** With --baseline, the baseline build runs beside whatever else the scenario drives. */
function withBaseline(targets: TargetKind[], baselineMain: string | undefined): TargetKind[] {
  return baselineMain === undefined || targets.includes('baseline') ? targets : [...targets, 'baseline'];
}

const usage = `usage: npm run bench -- <${Object.keys(scenarios).join('|')}|all|report> [--quick|--full] [--workers N] [--targets parley,floor,floor-sqlite,relay,baseline] [--baseline CHECKOUT] [--out DIR] [--profile] [--no-report] [--keep]`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.names.length === 0) {
    console.error(usage);
    process.exit(2);
  }
  const outDir = path.resolve(
    args.out ?? (args.mode === 'quick' ? path.join(defaultResultsDir, 'tmp') : defaultResultsDir),
  );
  const names = args.names.includes('all') ? Object.keys(scenarios) : args.names;
  // Another checkout of Parley, built: driven as the `baseline` target beside this build.
  const baselineMain = args.baseline && path.resolve(args.baseline, 'packages/server/dist/main.js');
  if (baselineMain !== undefined && !existsSync(baselineMain)) {
    console.error(`--baseline: ${baselineMain} does not exist; run npm ci and npm run build in that checkout`);
    process.exit(2);
  }
  let failed = false;
  for (const name of names) {
    if (name === 'report') continue;
    const scenario = scenarios[name];
    if (!scenario) {
      console.error(`unknown scenario ${name}\n${usage}`);
      process.exit(2);
    }
    const tmp = makeTmp();
    const cpuProfDir = args.profile ? path.join(outDir, 'profiles', `${name}-${Date.now()}`) : undefined;
    if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
    const ctx: BenchContext = {
      mode: args.mode,
      workers: args.workers,
      targets: withBaseline(args.targets ?? scenario.targets, baselineMain),
      baselineMain,
      tmpDir: tmp.dir,
      cpuProfDir,
      log: (line) => console.log(line),
      rates: a2(args.rates),
      stepMs: args.stepMs,
      textLens: a2(args.textLens),
      sizes: a2(args.sizes),
      size: args.size,
    };
    const startedAt = new Date();
    const loadAvgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
    console.log(
      `# ${name} (${args.mode}), generator processes: ${args.workers}, load average ${loadAvgAtStart.join(' ')}`,
    );
    try {
      const result = await scenario.run(ctx);
      const flags = [
        args.mode === 'default' ? '' : `--${args.mode}`,
        args.workers !== 2 ? `--workers ${args.workers}` : '',
      ]
        .concat(args.targets ? [`--targets ${args.targets.join(',')}`] : [])
        .concat(args.rates ? [`--rates ${args.rates.join(',')}`] : [])
        .concat(args.stepMs ? [`--step-ms ${args.stepMs}`] : [])
        .concat(args.textLens ? [`--texts ${args.textLens.join(',')}`] : [])
        .concat(args.size ? [`--size ${args.size}`] : [])
        .concat(args.sizes ? [`--sizes ${args.sizes.join(',')}`] : [])
        .filter(Boolean)
        .join(' ');
      const record: RunRecord = {
        scenario: name,
        mode: args.mode,
        command: `npm run bench -- ${name}${flags ? ` ${flags}` : ''}`,
        startedAt: startedAt.toISOString(),
        durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
        loadAvgAtStart,
        ...environment(),
        generator: { processes: args.workers },
        ...result,
      };
      if (cpuProfDir) record.profile = hotSpots(cpuProfDir);
      const file = writeResult(outDir, record);
      for (const row of result.summary) {
        const others = Object.entries(row.others ?? {})
          .map(([k, v]) => `, ${k} ${v ?? '-'}`)
          .join('');
        console.log(
          `  ${row.metric}: Parley ${row.parley ?? '-'} ${row.unit}, ${row.baselineLabel} ${row.baseline ?? '-'}${others}` +
            `${row.ratio === null ? '' : `, ratio ${row.ratio}`}${row.target ? ` (target ${row.target}: ${row.met === null || row.met === undefined ? 'n/a' : row.met ? 'met' : 'MISSED'})` : ''}`,
        );
      }
      for (const n of result.notes) console.log(`  note: ${n}`);
      if (record.profile) {
        for (const p of record.profile as ReturnType<typeof hotSpots>) {
          console.log(`  profile ${p.file}`);
          for (const h of p.hotSpots.slice(0, 12)) console.log(`    ${h.selfPercent}%\t${h.function}\t${h.location}`);
        }
      }
      console.log(`  -> ${file}`);
    } catch (err) {
      failed = true;
      console.error(`  ${name} failed: ${(err as Error).stack ?? String(err)}`);
      console.error(`  scratch directory kept: ${tmp.dir}`);
      continue;
    }
    if (!args.keep) tmp.cleanup();
    else console.log(`  scratch directory: ${tmp.dir}`);
  }
  const wantsReport = args.names.includes('report') || (args.report && args.mode !== 'quick' && !args.out);
  if (wantsReport) console.log(`report -> ${writeReport(defaultResultsDir)}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
