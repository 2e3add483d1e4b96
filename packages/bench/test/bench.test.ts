/**
 * Runs the quick version of every scenario (against the floor and Parley) and checks only
 * that each completes and writes a well-formed result. No timing assertions: the figures
 * belong in docs/benchmarks.md, not in pass/fail.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = path.join(root, 'packages/bench/dist/cli.js');
const serverMain = path.join(root, 'packages/server/dist/main.js');
const out = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-test-'));

/**
 * Two lanes, so the whole suite takes about a minute on a 2-core machine (49-54 s on an idle one;
 * alone, dm takes 21 s, reconnect 19, cluster 15, connections 12 and the others 11 each).
 */
const lanes = [
  ['dm', 'group', 'cluster'],
  ['connections', 'reconnect', 'history'],
];

const runs = new Map<string, { code: number | null; output: string }>();

function run(scenario: string): Promise<void> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, scenario, '--quick', '--out', out, '--no-report'],
      { cwd: root, timeout: 50_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        runs.set(scenario, { code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
        resolve();
      },
    );
  });
}

beforeAll(async () => {
  if (!existsSync(cli) || !existsSync(serverMain)) throw new Error('build first: npm run build (or npx tsc -b)');
  await Promise.all(
    lanes.map(async (lane) => {
      for (const s of lane) await run(s);
    }),
  );
}, 240_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Row {
  metric: string;
  unit: string;
  parley: number | null;
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
}

describe.each(lanes.flat())('bench %s --quick', (scenario) => {
  it('completes and writes a well-formed result', () => {
    const r = runs.get(scenario);
    expect(r, 'scenario did not run').toBeDefined();
    expect(r!.code, r!.output).toBe(0);
    const file = path.join(out, `${scenario}-quick.json`);
    expect(existsSync(file), r!.output).toBe(true);
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(rec).toMatchObject({ scenario, mode: 'quick' });
    expect(rec.command).toBe(`npm run bench -- ${scenario} --quick`);
    for (const key of ['machine', 'versions', 'git', 'config', 'targets']) expect(typeof rec[key]).toBe('object');
    expect(Array.isArray(rec.notes)).toBe(true);
    const summary = rec.summary as Row[];
    expect(Array.isArray(summary)).toBe(true);
    for (const row of summary) {
      expect(typeof row.metric).toBe('string');
      expect(typeof row.unit).toBe('string');
      expect(typeof row.baselineLabel).toBe('string');
      for (const v of [row.parley, row.baseline, row.ratio]) expect(v === null || Number.isFinite(v)).toBe(true);
    }
    if (scenario === 'cluster' && summary.length === 0) {
      expect((rec.notes as string[]).join(' ')).toMatch(/skipped/);
    } else {
      expect(summary.length).toBeGreaterThan(0);
      // Every system of the scenario was driven and reported (figures may be null under overload).
      const targets = rec.targets as Record<string, unknown>;
      expect(Object.keys(targets), r!.output).toContain('parley');
      if (scenario !== 'history' && scenario !== 'cluster') expect(Object.keys(targets), r!.output).toContain('floor');
      // dm drives both floors and the one-frame relay beside Parley.
      if (scenario === 'dm') {
        expect(Object.keys(targets), r!.output).toEqual(expect.arrayContaining(['floor-sqlite', 'relay']));
      }
      // The heap a connection holds is read from inside each process (lib/heap-probe.ts).
      if (scenario === 'connections') {
        const heap = summary.find((row) => row.metric.startsWith('heap per idle authenticated connection'));
        expect(heap?.parley, r!.output).toBeGreaterThan(0);
        expect(heap?.baseline, r!.output).toBeGreaterThan(0);
      }
    }
  });
});
