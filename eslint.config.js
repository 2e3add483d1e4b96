import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layering = (group, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group, message }] }],
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'packages/bench/results/**', 'packages/web/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests read arbitrary JSON off the wire; typing every response would add noise, not safety.
    files: ['**/test/**/*.ts', '**/*.test.ts', '**/*.test.tsx'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['packages/server/src/domain/**/*.ts'],
    rules: layering(
      ['**/adapters/**', '**/gateway/**', '**/api/**', 'better-sqlite3', 'pg', 'ioredis', 'fastify', 'ws'],
      'Domain code depends on ports only: backends and transports are chosen in app.ts.',
    ),
  },
  {
    files: ['packages/server/src/adapters/**/*.ts'],
    rules: layering(
      ['**/domain/**', '**/gateway/**', '**/api/**'],
      'Adapters implement ports and never import the domain.',
    ),
  },
  {
    files: ['packages/client/src/**/*.ts', 'packages/web/src/**/*.ts', 'packages/web/src/**/*.tsx'],
    rules: layering(
      ['@parley/server', '@parley/server/*', 'better-sqlite3', 'pg', 'ioredis', 'fastify'],
      'Clients speak the public protocol only.',
    ),
  },
);
