// npm run bench -- vs-tfjs [--json] [--browser] [--only matmul,conv,train] [--reps n] [--sizes 256,512]
//
// Node: slimgpu and TF.js's WebGPU backend on the same Dawn GPUDevice (bench/vs-tfjs/index.ts), both
// under slimgpu's Node polling (createGpu routes setImmediate through setTimeout(fn, 0); Dawn's
// mapAsync/onSubmittedWorkDone waits of both libraries go through it).
// --browser: the same code in headless Chromium (demo/vs-tfjs.html on a Vite dev server, Debian's
// chromium through puppeteer-core, SwiftShader adapter), small sizes; prints the page's table.
//
// What TF.js needed in Node (Node 20 has no `navigator`): installNodeShims() sets
// `navigator = { gpu, userAgent }` where `gpu` is a stand-in object: the WebGPUBackend constructor
// only checks that navigator.gpu is truthy (webgpu_util.isWebGPUSupported), and the device is
// passed in, so navigator.gpu.requestAdapter is never called (the stand-in throws if it is).
// GPUBufferUsage / GPUMapMode / GPUTextureUsage come from createGpu (Dawn's globals). No
// `document` or `OffscreenCanvas` shim is needed: TF.js only touches them for canvas/pixel I/O and
// the WEBGPU_USE_PROFILE_TOOL flag, which this benchmark does not use. TF.js's gradients are
// bundled on the fly (registerTfGradients, below).
import { createRequire } from 'node:module';
import { launchBenchBrowser } from '../browser.js';
import { createGpu, type Gpu } from '../../src/gpu/device.js';
import { BROWSER_PRESET, markdownTable, NODE_PRESET, optionsFrom, runVsTfjs, type VsOptions, type VsReport } from './index.js';
import { MismatchError } from '../util.js';

/**
 * Registers TF.js's gradients in Node. tfjs-core's Node bundle (its package "main") has no gradient
 * functions; they only ship as ES modules with extensionless imports (dist/register_all_gradients.js)
 * that Node cannot load, so esbuild bundles that entry once and it is imported from memory. The
 * bundle holds its own copy of the ops it uses; tfjs-core keeps the engine and the kernel and
 * gradient registries in globals, so both copies share them.
 */
export async function registerTfGradients(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  if (tf.getGradient('RealDiv')) return;
  const esbuild = await import('esbuild');
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const r = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'error' });
  await import('data:text/javascript;base64,' + Buffer.from(r.outputFiles[0]!.text).toString('base64'));
  if (!tf.getGradient('RealDiv')) throw new Error('vs-tfjs: registering TF.js gradients failed');
}

/** Gives TF.js the `navigator.gpu` it checks for. Idempotent; returns what was installed. */
export function installNodeShims(): string[] {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return [];
  const stand = {
    requestAdapter(): never {
      throw new Error("slimgpu vs-tfjs: TF.js runs on slimgpu's device; navigator.gpu.requestAdapter is a stand-in in Node");
    },
  };
  if (g.navigator) {
    Object.defineProperty(g.navigator, 'gpu', { value: stand, configurable: true });
    return ['navigator.gpu'];
  }
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu: stand, userAgent: `node/${process.versions.node}` },
    configurable: true,
    writable: true,
  });
  return ['navigator'];
}

interface Args {
  json: boolean;
  browser: boolean;
  only?: string[];
  reps?: number;
  sizes?: number[];
  help: boolean;
}

const USAGE = `usage: npm run bench -- vs-tfjs [options]
  --json             print the report as JSON
  --browser          run the comparison in headless Chromium (SwiftShader) instead of Node
  --only a,b         only these groups: matmul, conv, train, gpt (a whole gpt:4-128-4-128 AdamW step)
  --reps n           timed samples per side (default ${NODE_PRESET.reps}, browser ${BROWSER_PRESET.reps})
  --sizes a,b        matmul sizes (default ${NODE_PRESET.matmul.join(',')}, browser ${BROWSER_PRESET.matmul.join(',')})`;

function parse(argv: string[]): Args {
  const a: Args = { json: false, browser: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${x} needs a value\n${USAGE}`);
      return v;
    };
    if (x === '--json') a.json = true;
    else if (x === '--browser') a.browser = true;
    else if (x === '--only') a.only = value().split(',').filter(Boolean);
    else if (x === '--reps') a.reps = Number(value());
    else if (x === '--sizes') a.sizes = value().split(',').map(Number);
    else if (x === '--help' || x === '-h') a.help = true;
    else throw new Error(`unknown argument '${x}'\n${USAGE}`);
  }
  if (a.only?.some((g) => !['matmul', 'conv', 'train', 'gpt'].includes(g))) throw new Error(`--only takes matmul, conv, train, gpt\n${USAGE}`);
  if (a.reps !== undefined && !(Number.isInteger(a.reps) && a.reps > 0)) throw new Error(`--reps must be a positive integer\n${USAGE}`);
  if (a.sizes?.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error(`--sizes must be positive integers\n${USAGE}`);
  return a;
}

export async function runNode(opts: VsOptions, log: (s: string) => void): Promise<{ gpu: Gpu; report: VsReport }> {
  const gpu = await createGpu();
  const shims = installNodeShims();
  await registerTfGradients();
  const report = await runVsTfjs(
    gpu,
    { ...opts, log },
    {
      platform: `Node ${process.versions.node} (Dawn)${shims.length ? `; shimmed ${shims.join(', ')}` : ''}`,
      polling: 'setImmediate → setTimeout(0) (createGpu default), shared by both',
    },
  );
  return { gpu, report };
}

export { repoRoot } from '../browser.js';

/** Runs demo/vs-tfjs.html in headless Chromium and returns the page's report. */
export async function runBrowser(a: Pick<Args, 'only' | 'reps' | 'sizes'>, log: (s: string) => void, timeoutMs = 1_500_000): Promise<VsReport> {
  const bb = await launchBenchBrowser({
    // pre-bundle TF.js before the page loads (a mid-run dependency optimisation reloads the page)
    optimizeDeps: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'],
    timeoutMs,
    log,
  });
  try {
    const q = new URLSearchParams();
    if (a.only) q.set('only', a.only.join(','));
    if (a.reps) q.set('reps', String(a.reps));
    if (a.sizes) q.set('sizes', a.sizes.join(','));
    const page = await bb.open(`/vs-tfjs.html?${q}`);
    await page.waitForFunction('window.__vsTfjsDone === true', { timeout: timeoutMs, polling: 1000 });
    const res = await page.evaluate(() => (window as unknown as { __vsTfjs: { report?: VsReport; error?: string } }).__vsTfjs);
    if (res.error || !res.report) throw new Error(`vs-tfjs page failed: ${res.error ?? 'no report'}`);
    return res.report;
  } finally {
    await bb.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parse(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  const log = (s: string) => {
    if (!a.json) process.stderr.write(s);
  };
  try {
    let report: VsReport;
    if (a.browser) report = await runBrowser(a, log);
    else {
      const r = await runNode(optionsFrom(NODE_PRESET, a), log);
      report = r.report;
      r.gpu.destroy();
    }
    console.log(a.json ? JSON.stringify(report, null, 1) : markdownTable(report));
    return 0;
  } catch (e) {
    if (e instanceof MismatchError) console.error(`\nvs-tfjs: validation failed, nothing timed for this case: ${e.message}`);
    else console.error(`\nvs-tfjs: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
