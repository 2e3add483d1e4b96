/**
 * Builds the web app (tsc + vite) only when one of its inputs is newer than the last build, so
 * `npm start` restarts in seconds when nothing changed. Inputs: the app's sources and config,
 * the SDK and protocol sources it bundles, and the lockfile.
 */
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(web, '../..');
const output = path.join(web, 'dist/index.html');
const inputs = [
  path.join(web, 'src'),
  path.join(web, 'public'),
  path.join(web, 'index.html'),
  path.join(web, 'vite.config.ts'),
  path.join(web, 'tsconfig.json'),
  path.join(web, 'package.json'),
  path.join(root, 'packages/protocol/src'),
  path.join(root, 'packages/client/src'),
  path.join(root, 'package-lock.json'),
];

/** The newest modification time under `p` (a file or a directory tree). */
function newest(p) {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(p)) max = Math.max(max, newest(path.join(p, entry)));
  return max;
}

const built = existsSync(output) ? statSync(output).mtimeMs : 0;
const changed = Math.max(...inputs.map(newest));
if (built > 0 && changed <= built && !process.argv.includes('--force')) {
  console.log('web app: up to date (packages/web/dist)');
} else {
  const result = spawnSync('npm', ['run', 'build', '--workspace', '@parley/web'], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
