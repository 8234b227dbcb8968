import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served by Tessera itself under a strict Content-Security-Policy (script-src 'self', style-src 'self'):
// the build must emit nothing inline, only files under assets/ whose names carry their content hash.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // No Babel: esbuild compiles the JSX for Preact.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Never data: URIs or inline code: everything is a file that the CSP's 'self' allows.
    assetsInlineLimit: 0,
    // The polyfill is only for browsers without <link rel=modulepreload>; keep the entry free of it.
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: { proxy: { '/graphql': 'http://127.0.0.1:4000' } },
});
