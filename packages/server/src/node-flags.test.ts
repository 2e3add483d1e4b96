import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, NODE_FLAGS } from './node-flags.js';

const repoFile = (relative: string) =>
  readFileSync(fileURLToPath(new URL(`../../../${relative}`, import.meta.url)), 'utf8');

describe('the Node flags the server runs with', () => {
  it('are passed by every way of starting it the project ships', () => {
    const start = (JSON.parse(repoFile('package.json')) as { scripts: { start: string } }).scripts.start;
    expect(start).toContain(`node ${NODE_FLAGS.join(' ')} packages/server/dist/main.js`);
    expect(repoFile('deploy/systemd/parley@.service')).toContain(
      `ExecStart=/usr/bin/node ${NODE_FLAGS.join(' ')} packages/server/dist/main.js\n`,
    );
    const cmd = JSON.stringify(['node', ...NODE_FLAGS, 'packages/server/dist/main.js']).replaceAll(',', ', ');
    expect(repoFile('deploy/Dockerfile')).toContain(`CMD ${cmd}\n`);
  });

  it('are ones this Node accepts', () => {
    const run = spawnSync(process.execPath, [...NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('are found missing unless given on the command line or in NODE_OPTIONS', () => {
    expect(missingNodeFlags([], undefined)).toEqual([...NODE_FLAGS]);
    expect(missingNodeFlags(['--expose-gc'], '--trace-warnings')).toEqual([...NODE_FLAGS]);
    expect(missingNodeFlags([...NODE_FLAGS], undefined)).toEqual([]);
    expect(missingNodeFlags([], ` --trace-warnings  ${NODE_FLAGS.join(' ')}`)).toEqual([]);
  });
});
