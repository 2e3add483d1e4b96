import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const src = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

// The SDK and wire types are bundled from their TypeScript sources, so the web build needs no prebuild.
export default defineConfig({
  plugins: [react()],
  // Component names survive minification, so an error boundary's component stack names them.
  esbuild: { keepNames: true },
  resolve: {
    alias: [
      { find: /^@parley\/protocol$/, replacement: src('protocol/src/index.ts') },
      { find: /^@parley\/client$/, replacement: src('client/src/index.ts') },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev -w @parley/web` against a server on :8080.
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8080', ws: true },
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
});
