import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The pages in demo/ import the library from src/ directly; shaders come from the generated
// src/gen/shaders.ts (scripts/gen-shaders.mjs), the same source as the Node build.
export default defineConfig({
  root: resolve(__dirname, 'demo'),
  base: './',
  server: { host: '127.0.0.1', fs: { allow: [resolve(__dirname)] } },
  build: {
    outDir: resolve(__dirname, 'dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        smoke: resolve(__dirname, 'demo/smoke.html'),
      },
    },
  },
});
