#!/usr/bin/env node
// slimgpu command line: the compiled CLI lives in dist/ (built by `npm run build`, which `npm ci` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('slimgpu: the CLI is not built yet; run `npm run build` (or `npm ci`) in the package folder first.');
  process.exit(1);
}
const { runCli } = await import(main);
process.exitCode = await runCli(process.argv);
