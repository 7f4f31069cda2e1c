import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The pages in demo/ import the library from src/ directly; shaders come from the generated
// src/gen/shaders.ts (scripts/gen-shaders.mjs), the same source as the Node build.
//   demo/index.html  live training demo        demo/bench.html  kernel benchmarks
//   demo/smoke.html  WebGPU check                demo/text.html   a GPT learns a text, live
//   demo/codec.html  the prequential GPT compressor (.slimz) against CompressionStream('gzip')
export default defineConfig({
  root: resolve(__dirname, 'demo'),
  base: './',
  server: { host: '127.0.0.1', fs: { allow: [resolve(__dirname)] } },
  // pre-bundled at start-up, so the dev server never reloads a page to add it
  optimizeDeps: { include: ['uplot'] },
  build: {
    outDir: resolve(__dirname, 'dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    // the ten MNIST digit files (2 MB each) are served as assets
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // src/ imports node: modules dynamically, inside Node-only functions that pages never call
      onwarn(warning, warn) {
        if (/externalized for browser compatibility/.test(warning.message)) return;
        warn(warning);
      },
      input: {
        index: resolve(__dirname, 'demo/index.html'),
        bench: resolve(__dirname, 'demo/bench.html'),
        smoke: resolve(__dirname, 'demo/smoke.html'),
        'vs-tfjs': resolve(__dirname, 'demo/vs-tfjs.html'),
        text: resolve(__dirname, 'demo/text.html'),
        codec: resolve(__dirname, 'demo/codec.html'),
      },
    },
  },
});
