// The browser-safe part of `npm run bench -- infer` (bench/infer.ts in Node, demo/infer.html in
// Chromium): the library's dense path as a runner, and the interleaved timing of several runners.
import type { Gpu } from '../src/gpu/device.js';
import { encodeDispatches } from '../src/gpu/dispatch.js';
import { createTensor } from '../src/gpu/tensor.js';
import { loadCompressed } from '../src/io/export.js';
import { StepPlan } from '../src/nn/plan.js';

/** One way of running the model: B inputs in, B outputs out. */
export type Runner = (x: Float32Array, B: number) => Promise<Float32Array>;

/** The library's dense path: a Network's eval forward (StepPlan) per batch size, inputs written as f32. */
export async function denseRunner(gpu: Gpu, bytes: Uint8Array): Promise<{ run: Runner; dispose(): void }> {
  const net = await loadCompressed(gpu, bytes);
  const D = net.spec.input.reduce((a, b) => a * b, 1);
  const plans = new Map<number, { plan: StepPlan; inputs: ReturnType<typeof createTensor>; labels: ReturnType<typeof createTensor> }>();
  const run: Runner = async (x, B) => {
    let p = plans.get(B);
    if (!p) {
      const inputs = createTensor(gpu, [B * D]);
      const labels = createTensor(gpu, [B], undefined, { dtype: 'u32' });
      const plan = await StepPlan.build(gpu, net.spec, net.layers, net.arena, { inputs, bytes: false, n: B, D, labels, scale: 1, shift: 0 }, B, {
        train: false,
      });
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
  return {
    run,
    dispose() {
      for (const p of plans.values()) {
        p.plan.destroy();
        p.inputs.dispose();
        p.labels.dispose();
      }
      net.dispose();
    },
  };
}

export const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * For each batch size: outputs of every runner against the first one's (max |Δ|, also the warm-up),
 * then `reps` repetitions with one call of each runner per repetition (interleaved), median ms.
 */
export async function compareRunners(
  runners: Record<string, Runner>,
  D: number,
  batches: number[],
  reps: number,
  log: (s: string) => void = () => undefined,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const names = Object.keys(runners);
  for (const B of batches) {
    const x = Float32Array.from({ length: B * D }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const ref = await runners[names[0]!]!(x, B);
    const check: Record<string, number> = {};
    for (const [k, r] of Object.entries(runners)) check[k] = maxAbsDiff(await r(x, B), ref);
    const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const [k, r] of Object.entries(runners)) {
        const t0 = performance.now();
        await r(x, B);
        times[k]!.push(performance.now() - t0);
      }
    }
    const ms = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, +median(t).toFixed(3)]));
    const base = names[0]!;
    const ratio: Record<string, number> = Object.fromEntries(names.slice(1).map((k) => [`${base}/${k}`, +(ms[base]! / ms[k]!).toFixed(2)]));
    for (const peer of ['tfjs', 'ort-webgpu', 'ort-wasm'])
      for (const k of ['csr', 'bitmask', 'dcb']) if (ms[peer] && ms[k]) ratio[`${peer}/${k}`] = +(ms[peer] / ms[k]!).toFixed(2);
    out[`batch${B}`] = {
      ms,
      samplesPerSec: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round((B * 1000) / v)])),
      speedup: ratio,
      maxAbsDiffVsDense: check,
    };
    log(
      `B=${B}: ${Object.entries(ms)
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ')}; ${JSON.stringify(ratio)}`,
    );
  }
  return out;
}
