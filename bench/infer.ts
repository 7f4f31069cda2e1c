// npm run bench -- infer FILE.slim.safetensors|gpt:L-D-H-T... [--reps n] [--batch 64] [--no-tfjs] [--json]
//
// Inference from a compressed file: batch-1 latency and batch-B throughput of
//   dense     the library's dense path (loadCompressed → Network, the training forward kernels)
//   csr       CompressedModel, every weight as CSR + b-bit codes + codebook (spmm)
//   bitmask   CompressedModel, every weight as per-row mask words + rowptr + b-bit codes + codebook
//   csr-im2col  (conv models) csr with convs lowered to im2col + spmm instead of the direct kernel
//   dcb       CompressedModel, dense-with-codebook (every position's b-bit code)
//   tfjs      TF.js's WebGPU backend on the same device, running the dense weights
// each call end to end (upload the batch, run, read the outputs back). The variants run
// interleaved (one call of each per repetition), so contention on a shared machine hits all of
// them alike; report the ratios. Outputs are checked against the dense path before timing.
// Files: scripts/make-infer-models.sh writes the ones the docs use (docs/inference.md).
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { launchBenchBrowser, repoRoot } from './browser.js';
import { readFile } from 'node:fs/promises';
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { CompressedModel } from '../src/io/compressed-model.js';
import { decodeCompressed } from '../src/io/export.js';
import { tfDenseRunner } from './infer-tfjs.js';
import { compareRunners, denseRunner, type Runner } from './infer-core.js';
import { benchDecode, randomGptFile } from './infer-gpt.js';

interface Args {
  files: string[];
  reps: number;
  batch: number;
  tfjs: boolean;
  json: boolean;
  browser: boolean;
}

const USAGE =
  'usage: npm run bench -- infer FILE.slim.safetensors... [--reps n (default 30)] [--batch n (default 64)] [--no-tfjs] [--browser (headless Chromium, demo/infer.html; + ONNX Runtime Web where DIR/model.onnx exists: python/export_onnx.py)] [--json]';

function parse(argv: string[]): Args {
  const a: Args = { files: [], reps: 30, batch: 64, tfjs: true, json: false, browser: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--reps') a.reps = Number(argv[++i]);
    else if (x === '--batch') a.batch = Number(argv[++i]);
    else if (x === '--no-tfjs') a.tfjs = false;
    else if (x === '--json') a.json = true;
    else if (x === '--browser') a.browser = true;
    else if (x.startsWith('-')) throw new Error(`unknown option ${x}\n${USAGE}`);
    else a.files.push(x);
  }
  if (!a.files.length)
    throw new Error(`no model file given\n${USAGE}\n(scripts/make-infer-models.sh writes LeNet-300-100, LeNet-5 and mlp:784-4096-4096-10 files)`);
  if (!Number.isInteger(a.reps) || a.reps < 1 || !Number.isInteger(a.batch) || a.batch < 1)
    throw new Error(`--reps and --batch must be positive integers\n${USAGE}`);
  return a;
}

async function benchFile(gpu: Gpu, file: string, a: Args, log: (s: string) => void): Promise<Record<string, unknown>> {
  const bytes = file.startsWith('gpt:') ? randomGptFile(file) : new Uint8Array(await readFile(file));
  if (decodeCompressed(bytes).spec.task === 'language') return benchDecode(gpu, file, bytes, Math.max(3, Math.round(a.reps / 5)), log);
  const dense = await denseRunner(gpu, bytes);
  const memBefore = gpu.memory.liveBytes;
  const csr = await CompressedModel.load(gpu, bytes, { format: 'csr' });
  const csrGpu = gpu.memory.liveBytes - memBefore;
  const dcb = await CompressedModel.load(gpu, bytes, { format: 'dense' });
  const bm = await CompressedModel.load(gpu, bytes, { format: 'bitmask' });
  const runners: Record<string, Runner> = { dense: dense.run, csr: (x) => csr.predict(x), bitmask: (x) => bm.predict(x), dcb: (x) => dcb.predict(x) };
  // convs: the direct kernel (csr, bitmask above) against the im2col lowering
  const i2c = csr.info.some((l) => l.kind === 'conv2d') ? await CompressedModel.load(gpu, bytes, { format: 'csr', conv: 'im2col' }) : undefined;
  if (i2c) runners['csr-im2col'] = (x) => i2c.predict(x);
  let tf: Awaited<ReturnType<typeof tfDenseRunner>> | undefined;
  if (a.tfjs) {
    const d = decodeCompressed(bytes);
    const { installNodeShims, registerTfGradients } = await import('./vs-tfjs/node.js');
    installNodeShims();
    await registerTfGradients(); // useSharedTfBackend checks for them
    tf = await tfDenseRunner(gpu, d.spec, d.values);
    runners.tfjs = tf.run;
  }
  const D = csr.inputShape.reduce((s, v) => s * v, 1);
  const out: Record<string, unknown> = {
    file: basename(file),
    model: csr.spec.name,
    fileBytes: bytes.length,
    denseWeightBytes: csr.denseBytes,
    weightBytes: { csr: csr.weightBytes, bitmask: bm.weightBytes, dcb: dcb.weightBytes, csrGpuMemory: csrGpu },
    layers: csr.info.map((l) => ({
      name: l.name,
      rows: l.rows,
      inDim: l.inDim,
      kept: l.entries,
      bits: l.bits,
      csrBytes: l.bytes,
      bitmaskBytes: bm.info.find((x) => x.name === l.name)!.bytes,
      dcbBytes: dcb.info.find((x) => x.name === l.name)!.bytes,
    })),
  };
  Object.assign(out, await compareRunners(runners, D, [1, a.batch], a.reps, (m) => log(`${basename(file)} ${m}\n`)));
  csr.dispose();
  bm.dispose();
  dcb.dispose();
  i2c?.dispose();
  dense.dispose();
  tf?.dispose();
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parse(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const log = (s: string) => {
    if (!a.json) process.stderr.write(s);
  };
  if (a.browser) return browserMain(a, log);
  const gpu = await createGpu();
  try {
    const results = [];
    for (const f of a.files) results.push(await benchFile(gpu, f, a, log));
    const report = {
      bench: 'infer',
      device: gpu.info.description,
      node: process.versions.node,
      reps: a.reps,
      batch: a.batch,
      interleaved: true,
      note: 'median ms per call, end to end (upload, run, read back); variants interleaved per repetition',
      results,
    };
    console.log(JSON.stringify(report, null, 1));
    return 0;
  } catch (e) {
    console.error(`bench infer: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    gpu.destroy();
  }
}

/** The ONNX export of FILE (python/export_onnx.py writes it): DIR/model.onnx next to DIR/model.slim.safetensors, if there. */
function onnxOf(file: string): string | undefined {
  if (file.startsWith('gpt:')) return undefined;
  const f = resolve(dirname(file), basename(file).replace(/\.slim\.safetensors$/, '') + '.onnx');
  return existsSync(f) ? f : undefined;
}

/** The same comparison in headless Chromium (demo/infer.html; SwiftShader): + TF.js WebGPU and, where an ONNX export sits next to the file, ONNX Runtime Web (WebGPU and wasm EPs). */
async function browserMain(a: Args, log: (s: string) => void): Promise<number> {
  const bb = await launchBenchBrowser({
    optimizeDeps: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'],
    log,
  });
  try {
    const page = await bb.open(`/infer.html?ort=${encodeURIComponent(`/@fs${resolve(repoRoot(), 'node_modules/onnxruntime-web/dist')}/`)}`);
    await page.waitForFunction('typeof window.__infer === "function"', { timeout: 120_000 });
    const results = [];
    for (const f of a.files) {
      const b64 = Buffer.from(f.startsWith('gpt:') ? randomGptFile(f) : await readFile(f)).toString('base64');
      const onnx = onnxOf(f);
      const onnxUrl = onnx ? `/@fs${onnx}` : '';
      const r = await page.evaluate(
        (s, reps, batch, tfjs, url) =>
          (window as unknown as { __infer: (s: string, r: number, b: number, t: boolean, u: string) => Promise<Record<string, unknown>> }).__infer(
            s,
            reps,
            batch,
            tfjs,
            url,
          ),
        b64,
        a.reps,
        a.batch,
        a.tfjs,
        onnxUrl,
      );
      results.push({ file: basename(f), onnx: onnx ? basename(onnx) : null, ...r });
    }
    console.log(
      JSON.stringify({ bench: 'infer', browser: await bb.browser.version(), reps: a.reps, batch: a.batch, interleaved: true, results }, null, 1),
    );
    return 0;
  } catch (e) {
    console.error(`bench infer --browser: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    await bb.close();
  }
}
