#!/usr/bin/env node
/** `npm start`: reads the environment once, starts the configured role, stops cleanly on SIGTERM. */
import { fileURLToPath } from 'node:url';
import { createServer } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { missingNodeFlags } from './node-flags.js';

const defaultWebDir = fileURLToPath(new URL('../../web/dist', import.meta.url));

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, defaultWebDir);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const server = await createServer(config);
  const missing = missingNodeFlags(process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length > 0) {
    server.log.warn({ missing }, 'started without the Node flags Parley runs with (docs/operations.md, "Node flags")');
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'shutting down');
    // close() keeps within this budget itself; this is the backstop if something hangs.
    const force = setTimeout(() => process.exit(1), server.config.shutdownTimeoutMs);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
