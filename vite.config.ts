import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

// The pages in demo/ import the library from src/ directly; shaders come from the generated
// src/gen/shaders.ts (scripts/gen-shaders.mjs), the same source as the Node build.
//   demo/index.html  live training demo        demo/bench.html  kernel benchmarks
//   demo/smoke.html  WebGPU check                demo/text.html   a GPT learns a text, live
//   demo/codec.html  the prequential GPT compressor (.slimz) against CompressionStream('gzip')
//   demo/digit.html  draw a digit, the compressed LeNet classifies it (CompressedModel)
//   demo/infer.html  inference bench in the browser (npm run bench -- infer --browser)
//   demo/recommend.html  a recommender trained on the GPU, its tables compressed by a slider
// HTML shared by the pages lives in demo/partials/: a line `<!-- include NAME.html key="value" -->`
// becomes that file with every {{key}} replaced (like the WGSL includes of scripts/gen-shaders.mjs).
function htmlPartials(): Plugin {
  const INCLUDE = /^[ \t]*<!-- include ([a-z0-9-]+\.html)((?: [a-z]+="[^"]*")*) -->[ \t]*$/gm;
  const fill = (name: string, argText: string) => {
    const args = Object.fromEntries([...argText.matchAll(/([a-z]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    return readFileSync(resolve(__dirname, 'demo/partials', name), 'utf8').trimEnd().replace(/\{\{([a-z]+)\}\}/g, (_m, key: string) => {
      if (!(key in args)) throw new Error(`demo/partials/${name} needs ${key}="..." on its include line`);
      return args[key]!;
    });
  };
  return { name: 'slimgpu-html-partials', transformIndexHtml: { order: 'pre', handler: (html) => html.replace(INCLUDE, (_m, name: string, argText: string) => fill(name, argText)) } };
}

export default defineConfig({
  plugins: [htmlPartials()],
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
        digit: resolve(__dirname, 'demo/digit.html'),
        infer: resolve(__dirname, 'demo/infer.html'),
        image: resolve(__dirname, 'demo/image.html'),
        recommend: resolve(__dirname, 'demo/recommend.html'),
      },
    },
  },
});
