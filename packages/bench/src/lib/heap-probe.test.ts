import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { heapProbe } from './target.js';

// The probe is loaded with --import, so it is the built one (npm test builds first).
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
  const probe = heapProbe(dir, 'holder');
  const child = spawn(process.execPath, [...probe.execArgv, '-e', holder], {
    env: { ...process.env, ...probe.env },
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
  try {
    expect(await nextLine()).toBe('ready');
    const empty = await probe.read(child);
    child.stdin.write('hold\n');
    expect(await nextLine()).toBe('ok');
    const holding = await probe.read(child);
    child.stdin.write('drop\n');
    expect(await nextLine()).toBe('ok');
    const dropped = await probe.read(child);
    // 50,000 objects of two fields and a string each: at least 2 MB held, all of it let go.
    expect(holding - empty).toBeGreaterThan(2_000_000);
    expect(dropped - empty).toBeLessThan(500_000);
  } finally {
    child.kill();
  }
}, 20_000);
