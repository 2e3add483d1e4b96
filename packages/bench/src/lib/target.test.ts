import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_FLAGS } from '@parley/server';
import { afterAll, expect, it } from 'vitest';
import { nodeFlagsOf, startFloor } from './target.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs a build of Parley with the Node flags that build declares, and none for a build that declares none', async () => {
  expect(await nodeFlagsOf(undefined)).toEqual(NODE_FLAGS);
  const declaring = path.join(dir, 'declaring/dist');
  mkdirSync(declaring, { recursive: true });
  writeFileSync(path.join(declaring, 'node-flags.js'), "export const NODE_FLAGS = ['--stack-size=900'];\n");
  expect(await nodeFlagsOf(path.join(declaring, 'main.js'))).toEqual(['--stack-size=900']);
  expect(await nodeFlagsOf(path.join(dir, 'older/dist/main.js'))).toEqual([]);
});

it("runs the floor on Parley's Node flags", async () => {
  const floor = await startFloor({ logDir: dir });
  try {
    const argv = readFileSync(`/proc/${floor.pids[0]}/cmdline`, 'utf8').split('\0');
    for (const flag of NODE_FLAGS) expect(argv).toContain(flag);
  } finally {
    await floor.stop();
  }
});
