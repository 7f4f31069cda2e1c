// Times topkMask over n weights (default 10M) against an SGD-like pass over the same n (reads 4 f32
// arrays, writes 2: the traffic of the fused update), and prints JSON. Validates the mask first.
//   npx esbuild bench/topk-mask.ts --bundle --platform=node --format=esm --external:webgpu --outfile=node_modules/.cache/topk_bench.mjs && node node_modules/.cache/topk_bench.mjs [n] [reps] [rounds]
import { createGpu } from '../src/gpu/device.js';
import { encodeDispatches, type Dispatch } from '../src/gpu/dispatch.js';
import { compileModule } from '../src/gpu/pipeline.js';
import { createTensor } from '../src/gpu/tensor.js';
import { kFor, topkMask } from '../src/kernels/topk-mask.js';

const SGD_LIKE = `
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * 64u + gid.x;
  if (i >= arrayLength(&w)) { return; }
  let wi = w[i];
  let vi = 0.9 * v[i] + g[i] + 1e-4 * wi;
  v[i] = vi;
  w[i] = (wi - 0.01 * vi) * m[i];
}`;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000_000);
  const reps = Number(process.argv[3] ?? 4);
  const rounds = Number(process.argv[4] ?? 5);
  const gpu = await createGpu();
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  const w = createTensor(gpu, [n], data, { label: 'bench.w' });
  const mask = createTensor(gpu, [n], undefined, { label: 'bench.mask' });
  const k = kFor(n, 0.9);
  const kt = createTensor(gpu, [1], [k], { dtype: 'u32', label: 'bench.k' });
  const plan = await topkMask(gpu, { weights: w, mask, k: kt });

  const module = await compileModule(gpu, 'sgd_like.wgsl', SGD_LIKE);
  const pipeline = await gpu.device.createComputePipelineAsync({ label: 'sgd_like', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const ts = [0, 1, 2, 3].map((i) => createTensor(gpu, [n], i === 3 ? new Float32Array(n).fill(1) : data, { label: `sgd.${i}` }));
  const groups = Math.ceil(n / 64);
  const y = Math.ceil(groups / 65535);
  const sgd: Dispatch = {
    label: 'sgd_like',
    pipeline,
    bindGroup: gpu.device.createBindGroup({
      label: 'sgd_like',
      layout: pipeline.getBindGroupLayout(0),
      entries: ts.map((t, i) => ({ binding: i, resource: t.binding() })),
    }),
    workgroups: [Math.ceil(groups / y), y, 1],
  };

  // ms per repetition of one submission of `reps` repetitions
  const time = async (ds: Dispatch[], r: number): Promise<number> => {
    const enc = gpu.device.createCommandEncoder({ label: 'bench' });
    for (let i = 0; i < r; i++) encodeDispatches(enc, ds);
    const t0 = performance.now();
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / r;
  };
  await time(plan.dispatches, 1); // warm-up, then validate
  await time([sgd], 1);
  const got = await mask.read();
  let kept = 0;
  for (let i = 0; i < n; i++) kept += got[i]!;
  if (kept !== k) throw new Error(`topkMask kept ${kept}, expected ${k}`);
  // the CPU may be shared: interleave the two and keep the best round of each
  let topkMs = Infinity,
    sgdMs = Infinity;
  const stages: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    topkMs = Math.min(topkMs, await time(plan.dispatches, reps));
    sgdMs = Math.min(sgdMs, await time([sgd], reps));
    for (const d of plan.dispatches) {
      const key = d.label.replace(/^topkMask n=\d+ /, '');
      stages[key] = Math.min(stages[key] ?? Infinity, +(await time([d], reps)).toFixed(2));
    }
  }
  console.log(
    JSON.stringify({ n, k, reps, topkMs: +topkMs.toFixed(2), sgdLikeMs: +sgdMs.toFixed(2), ratio: +(topkMs / sgdMs).toFixed(2), stages }, null, 1),
  );
  for (const t of [w, mask, kt, ...ts, ...plan.scratch]) t.dispose();
  gpu.destroy();
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
