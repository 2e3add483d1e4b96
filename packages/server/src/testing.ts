/**
 * Test harnesses: the real server in this process on an ephemeral port, or as a child process
 * that a test can SIGKILL and restart on the same port and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ParleyServer, type ServerOverrides } from './app.js';
import { loadConfig, type ServerConfig } from './config/config.js';
import { NODE_FLAGS } from './node-flags.js';

const defaultWebDir = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface StartOptions extends Partial<ServerConfig>, ServerOverrides {
  /** PARLEY_* variables, applied before the other overrides. */
  env?: Record<string, string>;
  /** Keep the data directory after close (default: removed if this call created it). */
  keepData?: boolean;
}

export interface RunningServer extends ParleyServer {
  dataDir: string;
}

/** The real server on 127.0.0.1 and an ephemeral port, with a fresh data directory. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { env = {}, keepData = false, pushProviders, pushRandom, rateLimiter, clock, ...overrides } = options;
  const ownDir = overrides.dataDir === undefined && env.PARLEY_DATA_DIR === undefined;
  const dataDir = overrides.dataDir ?? env.PARLEY_DATA_DIR ?? (await mkdtemp(path.join(tmpdir(), 'parley-test-')));
  const base = loadConfig(
    {
      PARLEY_PORT: '0',
      PARLEY_LOG_LEVEL: 'silent',
      PARLEY_SEND_RATE: '1000',
      PARLEY_SEND_BURST: '1000',
      PARLEY_PASSWORD_HASH_COST: '10',
      // Tests sign up freely; the other sign-up modes are tested by asking for them.
      PARLEY_SIGNUP: 'open',
      // Tests sign many users up and in from one address.
      PARLEY_SIGNUP_LIMIT: '1000000',
      PARLEY_LOGIN_LIMIT: '1000000',
      ...env,
      PARLEY_DATA_DIR: dataDir,
    },
    defaultWebDir,
  );
  const config: ServerConfig = { ...base, ...overrides, dataDir };
  const server = await createServer(config, undefined, {
    ...(pushProviders ? { pushProviders } : {}),
    ...(pushRandom ? { pushRandom } : {}),
    ...(rateLimiter ? { rateLimiter } : {}),
    ...(clock ? { clock } : {}),
  });
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.close();
      if (ownDir && !keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  baseUrl: string;
  wsUrl: string;
  dataDir: string;
  port: number;
  readonly child: ChildProcess;
  /** Sends the signal (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and data directory. */
  restart(): Promise<void>;
  /** Kills the process if running and removes the data directory it created. */
  cleanup(): Promise<void>;
}

const mainScript = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The built server (packages/server/dist/main.js) as a child process; build first. */
export async function spawnServerProcess(
  options: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'parley-proc-')));
  const port = Number(options.env?.PARLEY_PORT ?? (await freePort()));
  const env = {
    ...process.env,
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_SEND_RATE: '1000',
    PARLEY_SEND_BURST: '1000',
    PARLEY_PASSWORD_HASH_COST: '10',
    // Tests sign up freely; the other sign-up modes are tested by asking for them.
    PARLEY_SIGNUP: 'open',
    // Tests sign many users up and in from one address.
    PARLEY_SIGNUP_LIMIT: '1000000',
    PARLEY_LOGIN_LIMIT: '1000000',
    ...options.env,
    PARLEY_HOST: '127.0.0.1',
    PARLEY_PORT: String(port),
    PARLEY_DATA_DIR: dataDir,
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  let child!: ChildProcess;
  let exited!: Promise<void>;

  const start = async () => {
    child = spawn(process.execPath, [...NODE_FLAGS, mainScript], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server did not become healthy: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await start();

  const handle: ServerProcess = {
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    dataDir,
    port,
    get child() {
      return child;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    restart: start,
    async cleanup() {
      await handle.kill('SIGKILL');
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}
