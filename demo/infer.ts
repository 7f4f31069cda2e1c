// The Chromium side of `npm run bench -- infer --browser`: window.__infer(base64 file, reps, batch,
// tfjs, onnxUrl) runs bench/infer-core.ts's comparison: the library's dense path vs CompressedModel
// (csr, bitmask), TF.js's WebGPU backend on the dense weights and, given an ONNX export of the same
// model (python/export_onnx.py), ONNX Runtime Web with its WebGPU execution provider and its wasm
// one. A peer that fails to start is reported with its error text instead of a time. A language model
// (GPT) file: decode tokens/s, dense decoder vs compressed (bench/infer-gpt.ts).
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // useSharedTfBackend checks for them
import { CompressedModel, createGpu, decodeCompressed, type Gpu } from '../src/index.js';
import { compareRunners, denseRunner, type Runner } from '../bench/infer-core.js';

let gpuP: Promise<Gpu> | undefined;
const out = document.getElementById('out')!;

type Peer = { run: Runner; dispose(): void };

async function ortRunner(url: string, ep: 'webgpu' | 'wasm', D: number): Promise<Peer> {
  // ?ort=DIR/: where the dev server serves onnxruntime-web/dist (bench/infer.ts passes /@fs/…). ORT is
  // loaded from there at run time, not bundled: the built pages would ship its 29 MB wasm.
  const base = new URLSearchParams(location.search).get('ort');
  if (!base) throw new Error('ONNX Runtime Web: no ?ort=DIR/ (its dist folder) in the page URL');
  const ort = (await import(/* @vite-ignore */ `${base}ort.webgpu.min.mjs`)) as typeof import('onnxruntime-web');
  ort.env.wasm.wasmPaths = base;
  ort.env.wasm.numThreads = 1; // no cross-origin isolation here: one thread
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  return {
    async run(x, B) {
      const r = await session.run({ x: new ort.Tensor('float32', x, [B, D]) });
      return (await r.y!.getData()) as Float32Array;
    },
    dispose() {
      void session.release();
    },
  };
}

async function bench(bytes: Uint8Array, reps: number, batch: number, tfjs = false, onnxUrl = ''): Promise<Record<string, unknown>> {
  const gpu = await (gpuP ??= createGpu());
  if (decodeCompressed(bytes).spec.task === 'language') {
    // GPT: tokens/s of the dense decoder vs the compressed one (bench/infer-gpt.ts)
    const { benchDecode } = await import('../bench/infer-gpt.js');
    return { device: gpu.info.description, ...(await benchDecode(gpu, 'model', bytes, Math.max(3, Math.round(reps / 5)), (m) => console.log(m))) };
  }
  const dense = await denseRunner(gpu, bytes);
  const csr = await CompressedModel.load(gpu, bytes, { format: 'csr' });
  const bm = await CompressedModel.load(gpu, bytes, { format: 'bitmask' });
  const D = csr.inputShape.reduce((a, b) => a * b, 1);
  const peers: Record<string, Peer> = {};
  const failed: Record<string, string> = {};
  const start = async (name: string, f: () => Promise<Peer>) => {
    try {
      peers[name] = await f();
      await peers[name]!.run(new Float32Array(D), 1); // a first call: some EPs fail only here
    } catch (e) {
      failed[name] = String((e as Error)?.message ?? e);
      delete peers[name];
      console.error(`${name}: ${failed[name]}`);
    }
  };
  if (tfjs)
    await start('tfjs', async () => {
      const { tfDenseRunner } = await import('../bench/infer-tfjs.js');
      const d = decodeCompressed(bytes);
      return tfDenseRunner(gpu, d.spec, d.values);
    });
  if (onnxUrl) {
    await start('ort-webgpu', () => ortRunner(onnxUrl, 'webgpu', D));
    await start('ort-wasm', () => ortRunner(onnxUrl, 'wasm', D));
  }
  try {
    const runners: Record<string, Runner> = { dense: dense.run, csr: (x) => csr.predict(x), bitmask: (x) => bm.predict(x) };
    for (const [k, p] of Object.entries(peers)) runners[k] = p.run;
    const res = await compareRunners(runners, D, [1, batch], reps, (m) => console.log(m));
    return {
      model: csr.spec.name,
      fileBytes: bytes.length,
      denseWeightBytes: csr.denseBytes,
      weightBytes: { csr: csr.weightBytes, bitmask: bm.weightBytes },
      device: gpu.info.description,
      peersFailed: failed,
      ...res,
    };
  } finally {
    csr.dispose();
    bm.dispose();
    dense.dispose();
    for (const p of Object.values(peers)) p.dispose();
  }
}

(window as unknown as { __infer: unknown }).__infer = async (b64: string, reps: number, batch: number, tfjs: boolean, onnxUrl: string) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const r = await bench(bytes, reps, batch, tfjs, onnxUrl);
  out.textContent = JSON.stringify(r, null, 1);
  return r;
};
document.getElementById('file')!.addEventListener('change', async (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (!f) return;
  out.textContent = 'running…';
  try {
    out.textContent = JSON.stringify(await bench(new Uint8Array(await f.arrayBuffer()), 20, 64), null, 1);
  } catch (err) {
    out.textContent = String(err);
  }
});
