import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources of sibling packages, not their build output.
    alias: {
      '@parley/protocol/schemas': fileURLToPath(new URL('./packages/protocol/src/schemas.ts', import.meta.url)),
      '@parley/protocol': src('protocol'),
      '@parley/client/node': fileURLToPath(new URL('./packages/client/src/node.ts', import.meta.url)),
      '@parley/client': src('client'),
      '@parley/server': src('server'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'packages/*/src/**/*.test.tsx'],
    // The cluster suite starts a fleet of processes (with a Redis of its own), so it runs on its
    // own after the rest (see the root "test" script) rather than competing with it for CPU.
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      ...(process.env.PARLEY_TEST_CLUSTER ? [] : ['packages/server/test/cluster/**']),
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
