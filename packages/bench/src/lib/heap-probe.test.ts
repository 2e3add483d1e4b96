import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { HeapProbeReading } from './heap-probe.js';

// The probe is loaded with --import, so it is the built one (npm test builds first).
const probe = fileURLToPath(new URL('../../dist/lib/heap-probe.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'heap-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A process with the probe that, on each line from the test, holds 50,000 more small objects (or
 * lets them all go) and says "ok"; the test then signals it and reads the probe's file.
 */
const holder = `
const held = [];
process.stdin.setEncoding('utf8');
process.stdin.on('data', (line) => {
  if (line.trim() === 'hold') for (let i = 0; i < 50000; i++) held.push({ a: i, b: 'x' + i });
  else held.length = 0;
  process.stdout.write('ok\\n');
});
process.stdout.write('ready\\n');
`;

it('reads the heap in use after a full collection: what the process holds, not what it made and dropped', async () => {
  const file = path.join(dir, 'heap.json');
  const child = spawn(process.execPath, ['--expose-gc', '--import', probe, '-e', holder], {
    env: { ...process.env, BENCH_HEAP_PROBE_FILE: file },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const poll = setInterval(() => {
        const line = lines.shift();
        if (line !== undefined) {
          clearInterval(poll);
          resolve(line);
        }
      }, 5);
    });
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  const read = async (count: number): Promise<number> => {
    child.kill('SIGUSR2');
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        const reading = JSON.parse(readFileSync(file, 'utf8')) as HeapProbeReading;
        if (reading.count === count) return reading.heapUsedBytes;
      } catch {
        // not written yet
      }
    }
  };
  try {
    expect(await nextLine()).toBe('ready');
    const empty = await read(1);
    child.stdin.write('hold\n');
    expect(await nextLine()).toBe('ok');
    const holding = await read(2);
    child.stdin.write('drop\n');
    expect(await nextLine()).toBe('ok');
    const dropped = await read(3);
    // 50,000 objects of two fields and a string each: at least 2 MB held, all of it let go.
    expect(holding - empty).toBeGreaterThan(2_000_000);
    expect(dropped - empty).toBeLessThan(500_000);
  } finally {
    child.kill();
  }
}, 20_000);
