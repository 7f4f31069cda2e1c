// The side-by-side benchmark in a page (bench/vs-tfjs/index.ts, the code Node runs), small sizes
// (BROWSER_PRESET: SwiftShader in headless Chromium is slow). Sets window.__vsTfjs = { report } or
// { error } and window.__vsTfjsDone = true (read by `npm run bench -- vs-tfjs --browser`).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createGpu } from '../src/gpu/device.js';
import { BROWSER_PRESET, markdownTable, optionsFrom, runVsTfjs, type VsReport } from '../bench/vs-tfjs/index.js';

interface PageResult {
  report?: VsReport;
  error?: string;
}
const w = window as unknown as { __vsTfjs?: PageResult; __vsTfjsDone?: boolean };

async function main(): Promise<PageResult> {
  const q = new URLSearchParams(location.search);
  const list = (k: string) => q.get(k)?.split(',').filter(Boolean);
  const opts = optionsFrom(BROWSER_PRESET, {
    only: list('only'),
    reps: q.get('reps') ? Number(q.get('reps')) : undefined,
    sizes: list('sizes')?.map(Number),
  });
  const logEl = document.getElementById('log')!;
  let line = '';
  const log = (s: string) => {
    logEl.textContent += s;
    line += s;
    if (line.endsWith('\n')) {
      console.log(line.trimEnd());
      line = '';
    }
  };
  const gpu = await createGpu();
  const report = await runVsTfjs(
    gpu,
    { ...opts, log },
    {
      platform: `Chromium ${/Chrom(e|ium)\/([\d.]+)/.exec(navigator.userAgent)?.[2] ?? '?'}`,
      polling: 'browser event loop (no Node polling)',
    },
  );
  document.getElementById('out')!.textContent = markdownTable(report);
  return { report };
}

main()
  .then(
    (r) => {
      w.__vsTfjs = r;
    },
    (e: Error) => {
      document.getElementById('out')!.textContent = 'error: ' + (e.stack ?? e.message);
      w.__vsTfjs = { error: e.stack ?? e.message };
    },
  )
  .finally(() => {
    w.__vsTfjsDone = true;
  });
