// Dev helper: `npx vite-node -c vitest.config.ts packages/web/test/serve.ts` runs a throwaway server.
import { startServer } from '@parley/server';

const server = await startServer({ env: { PARLEY_LOG_LEVEL: 'warn' } });
console.log(`serving ${server.baseUrl}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
