// npm run bench -- infer FILE.slim.safetensors... [--reps n] [--batch 64] [--no-tfjs] [--json]
//
// Inference from a compressed file: batch-1 latency and batch-B throughput of
//   dense     the library's dense path (loadCompressed → Network, the training forward kernels)
//   csr       CompressedModel, every weight as CSR + b-bit codes + codebook (spmm)
//   dcb       CompressedModel, dense-with-codebook (every position's b-bit code)
//   tfjs      TF.js's WebGPU backend on the same device, running the dense weights
// each call end to end (upload the batch, run, read the outputs back). The variants run
// interleaved (one call of each per repetition), so contention on a shared machine hits all of
// them alike; report the ratios. Outputs are checked against the dense path before timing.
// Files: scripts/make-infer-models.sh writes the ones the docs use (docs/inference.md).
import { basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { encodeDispatches } from '../src/gpu/dispatch.js';
import { createTensor } from '../src/gpu/tensor.js';
import { CompressedModel } from '../src/io/compressed-model.js';
import { decodeCompressed, loadCompressed } from '../src/io/export.js';
import { StepPlan } from '../src/nn/plan.js';
import { tfDenseRunner } from './infer-tfjs.js';
import { sampleText } from '../src/cli/sample.js';

interface Args { files: string[]; reps: number; batch: number; tfjs: boolean; json: boolean }

const USAGE = 'usage: npm run bench -- infer FILE.slim.safetensors... [--reps n (default 30)] [--batch n (default 64)] [--no-tfjs] [--json]';

function parse(argv: string[]): Args {
  const a: Args = { files: [], reps: 30, batch: 64, tfjs: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--reps') a.reps = Number(argv[++i]);
    else if (x === '--batch') a.batch = Number(argv[++i]);
    else if (x === '--no-tfjs') a.tfjs = false;
    else if (x === '--json') a.json = true;
    else if (x.startsWith('-')) throw new Error(`unknown option ${x}\n${USAGE}`);
    else a.files.push(x);
  }
  if (!a.files.length) throw new Error(`no model file given\n${USAGE}\n(scripts/make-infer-models.sh writes LeNet-300-100, LeNet-5 and mlp:784-4096-4096-10 files)`);
  if (!Number.isInteger(a.reps) || a.reps < 1 || !Number.isInteger(a.batch) || a.batch < 1) throw new Error(`--reps and --batch must be positive integers\n${USAGE}`);
  return a;
}

/** One way of running the model: B inputs in, B outputs out. */
type Runner = (x: Float32Array, B: number) => Promise<Float32Array>;

/** The library's dense path: a Network's eval forward (StepPlan) per batch size, inputs written as f32. */
async function denseRunner(gpu: Gpu, bytes: Uint8Array): Promise<{ run: Runner; dispose(): void }> {
  const net = await loadCompressed(gpu, bytes);
  const D = net.spec.input.reduce((a, b) => a * b, 1);
  const plans = new Map<number, { plan: StepPlan; inputs: ReturnType<typeof createTensor>; labels: ReturnType<typeof createTensor> }>();
  const run: Runner = async (x, B) => {
    let p = plans.get(B);
    if (!p) {
      const inputs = createTensor(gpu, [B * D]);
      const labels = createTensor(gpu, [B], undefined, { dtype: 'u32' });
      const plan = await StepPlan.build(gpu, net.spec, net.layers, net.arena, { inputs, bytes: false, n: B, D, labels, scale: 1, shift: 0 }, B, { train: false });
      p = { plan, inputs, labels };
      plans.set(B, p);
    }
    p.inputs.write(x);
    p.plan.setStep(0, 0);
    const enc = gpu.device.createCommandEncoder({ label: 'bench.infer.dense' });
    encodeDispatches(enc, p.plan.evalStep, 'eval');
    gpu.device.queue.submit([enc.finish()]);
    return (await p.plan.output.read()) as Float32Array;
  };
  return { run, dispose() { for (const p of plans.values()) { p.plan.destroy(); p.inputs.dispose(); p.labels.dispose(); } net.dispose(); } };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A language model: tokens/s of greedy decoding, dense decoder vs compressed matrices, interleaved. */
async function benchDecode(gpu: Gpu, file: string, bytes: Uint8Array, a: Args, log: (s: string) => void): Promise<Record<string, unknown>> {
  const net = await loadCompressed(gpu, bytes);
  const memBefore = gpu.memory.liveBytes;
  const m = await CompressedModel.load(gpu, bytes);
  const mGpu = gpu.memory.liveBytes - memBefore;
  const tokens = 64;
  const runners: Record<string, () => Promise<Uint8Array>> = {
    dense: () => sampleText(net, { prompt: 'The ', tokens, temperature: 0, seed: 1 }),
    compressed: () => m.generate('The ', { tokens, temperature: 0 }),
  };
  const same = Buffer.from(await runners.dense!()).equals(Buffer.from(await runners.compressed!()));
  const times: Record<string, number[]> = { dense: [], compressed: [] };
  for (let rep = 0; rep < Math.max(3, Math.round(a.reps / 5)); rep++) {
    for (const [k, r] of Object.entries(runners)) { const t0 = performance.now(); await r(); times[k]!.push(performance.now() - t0); }
  }
  const tps = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, +((tokens + 4) / (median(t) / 1000)).toFixed(1)]));
  log(`${basename(file)} decode: ${JSON.stringify(tps)} tokens/s, same greedy text: ${same}\n`);
  const out = {
    file: basename(file), model: m.spec.name, fileBytes: bytes.length, denseWeightBytes: m.denseBytes,
    weightBytes: { compressedMatrices: m.weightBytes, gpuMemoryOfCompressedModel: mGpu, note: 'the compressed model also keeps a dense Network for embeddings and norms (its gpuMemory includes dense copies of every weight)' },
    decode: { tokensPerSec: tps, speedup: +(tps.compressed! / tps.dense!).toFixed(2), sameGreedyText: same, tokensPerRun: tokens + 4, note: 'prompt of 4 bytes + 64 greedy bytes per run, decoder built per run on both sides' },
  };
  m.dispose(); net.dispose();
  return out;
}

async function benchFile(gpu: Gpu, file: string, a: Args, log: (s: string) => void): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await readFile(file));
  if (decodeCompressed(bytes).spec.task === 'language') return benchDecode(gpu, file, bytes, a, log);
  const dense = await denseRunner(gpu, bytes);
  const memBefore = gpu.memory.liveBytes;
  const csr = await CompressedModel.load(gpu, bytes, { format: 'csr' });
  const csrGpu = gpu.memory.liveBytes - memBefore;
  const dcb = await CompressedModel.load(gpu, bytes, { format: 'dense' });
  const runners: Record<string, Runner> = { dense: dense.run, csr: (x) => csr.predict(x), dcb: (x) => dcb.predict(x) };
  let tf: Awaited<ReturnType<typeof tfDenseRunner>> | undefined;
  if (a.tfjs) {
    const d = decodeCompressed(bytes);
    tf = await tfDenseRunner(gpu, d.spec, d.values);
    runners.tfjs = tf.run;
  }
  const D = csr.inputShape.reduce((s, v) => s * v, 1);
  const out: Record<string, unknown> = {
    file: basename(file), model: csr.spec.name, fileBytes: bytes.length, denseWeightBytes: csr.denseBytes,
    weightBytes: { csr: csr.weightBytes, dcb: dcb.weightBytes, csrGpuMemory: csrGpu },
    layers: csr.info.map((l) => ({ name: l.name, rows: l.rows, inDim: l.inDim, kept: l.entries, bits: l.bits, csrBytes: l.bytes, dcbBytes: dcb.info.find((x) => x.name === l.name)!.bytes })),
  };
  for (const B of [1, a.batch]) {
    const x = Float32Array.from({ length: B * D }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const ref = await runners.dense!(x, B);
    const check: Record<string, number> = {};
    for (const [k, r] of Object.entries(runners)) check[k] = maxAbsDiff(await r(x, B), ref); // also warms up every plan
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
    for (let rep = 0; rep < a.reps; rep++) {
      for (const [k, r] of Object.entries(runners)) {
        const t0 = performance.now();
        await r(x, B);
        times[k]!.push(performance.now() - t0);
      }
    }
    const ms = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, +median(t).toFixed(3)]));
    const ratio = Object.fromEntries(Object.keys(ms).filter((k) => k !== 'dense').map((k) => [`dense/${k}`, +(ms.dense! / ms[k]!).toFixed(2)]));
    if (ms.tfjs) for (const k of ['csr', 'dcb']) ratio[`tfjs/${k}`] = +(ms.tfjs / ms[k]!).toFixed(2);
    out[`batch${B}`] = { ms, samplesPerSec: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round((B * 1000) / v)])), speedup: ratio, maxAbsDiffVsDense: check };
    log(`${basename(file)} B=${B}: ${Object.entries(ms).map(([k, v]) => `${k} ${v} ms`).join(', ')}; ${JSON.stringify(ratio)}\n`);
  }
  csr.dispose(); dcb.dispose(); dense.dispose(); tf?.dispose();
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
  const log = (s: string) => { if (!a.json) process.stderr.write(s); };
  const gpu = await createGpu();
  try {
    const results = [];
    for (const f of a.files) results.push(await benchFile(gpu, f, a, log));
    const report = { bench: 'infer', device: gpu.info.description, node: process.versions.node, reps: a.reps, batch: a.batch, interleaved: true, note: 'median ms per call, end to end (upload, run, read back); variants interleaved per repetition', results };
    console.log(JSON.stringify(report, null, 1));
    return 0;
  } catch (e) {
    console.error(`bench infer: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    gpu.destroy();
  }
}
