// npm run bench -- profile-step [--model lenet-5|lenet-300-100|gpt:L-D-H-T] [--batch n] [--steps n] [--json]
//
// Where the time of one training step goes: every dispatch of StepPlan.train is recorded in its
// own compute pass with timestamp writes (begin/end), `steps` steps in one submission, repeated
// `rounds` times; the median per dispatch is reported with its label and share of the sum. The
// whole step in one pass (as the trainer records it) is timed the same way for comparison: the
// sum of per-dispatch passes is a little larger (a pass boundary per dispatch).
// Needs the 'timestamp-query' feature (lavapipe and Chromium have it).
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { encodeDispatches, type Dispatch } from '../src/gpu/dispatch.js';
import { modelFromName } from '../src/nn/model.js';
import { StepPlan, TABLE_CAP } from '../src/nn/plan.js';
import { Network, uploadDataset, uploadText } from '../src/nn/trainer.js';
import { parseGptName } from '../src/nn/presets.js';
import { hyperRow } from '../src/nn/optimizer.js';
import { median } from './timing.js';
import { syntheticBatch, type TrainModel } from './vs-tfjs/index.js';

export interface KernelProfile {
  index: number;
  label: string;
  ms: number;
  share: number;
  workgroups: string;
}
export interface StepProfile {
  model: string;
  batch: number;
  adapter: string;
  kernels: KernelProfile[];
  /** Sum of the per-dispatch medians. */
  sumMs: number;
  /** Median of the whole step recorded in one pass. */
  stepMs: number;
  /** Per kernel family (label up to the first space). */
  families: { family: string; ms: number; share: number; count: number }[];
}

/** Per-dispatch GPU times of `dispatches` (median over steps × rounds). */
export async function profileDispatches(
  gpu: Gpu,
  dispatches: readonly Dispatch[],
  steps: number,
  rounds: number,
): Promise<{ perDispatch: number[]; whole: number }> {
  if (!gpu.hasTimestamps) throw new Error('profile-step needs the timestamp-query feature');
  const n = dispatches.length;
  const count = 2 * (n + 1) * steps;
  if (count > 4096) throw new Error(`profile-step: ${count} timestamps exceed a query set (4096); use fewer --steps`);
  const dev = gpu.device;
  const qs = dev.createQuerySet({ label: 'profile.timestamps', type: 'timestamp', count });
  const resolveBuf = dev.createBuffer({ label: 'profile.resolve', size: 8 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readBuf = dev.createBuffer({ label: 'profile.read', size: 8 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const per: number[][] = Array.from({ length: n }, () => []);
  const whole: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const enc = dev.createCommandEncoder({ label: 'profile' });
      let q = 0;
      for (let s = 0; s < steps; s++) {
        const stamps = () => ({ querySet: qs, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 });
        for (const d of dispatches) {
          encodeDispatches(enc, [d], d.label, stamps());
          q += 2;
        }
        // the same step as one pass
        encodeDispatches(enc, dispatches, 'whole step', stamps());
        q += 2;
      }
      enc.resolveQuerySet(qs, 0, q, resolveBuf, 0);
      enc.copyBufferToBuffer(resolveBuf, 0, readBuf, 0, 8 * q);
      dev.queue.submit([enc.finish()]);
      await readBuf.mapAsync(GPUMapMode.READ, 0, 8 * q);
      const ts = new BigUint64Array(readBuf.getMappedRange(0, 8 * q).slice(0));
      readBuf.unmap();
      gpu.check();
      let i = 0;
      for (let s = 0; s < steps; s++) {
        for (let d = 0; d < n; d++, i += 2) per[d]!.push(Number(ts[i + 1]! - ts[i]!) / 1e6);
        whole.push(Number(ts[i + 1]! - ts[i]!) / 1e6);
        i += 2;
      }
    }
  } finally {
    qs.destroy();
    resolveBuf.destroy();
    readBuf.destroy();
  }
  return { perDispatch: per.map(median), whole: median(whole) };
}

/** Pseudo-text of n bytes (letters, spaces, newlines) for GPT steps. */
export function pseudoText(n: number, seed = 7): Uint8Array {
  let x = seed >>> 0;
  return Uint8Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = x >>> 24;
    return r < 40 ? 32 : r < 44 ? 10 : 97 + (r % 26);
  });
}

export async function profileStep(gpu: Gpu, model: TrainModel | string, B: number, steps = 4, rounds = 3): Promise<StepProfile> {
  const gpt = parseGptName(model);
  const imageShape = model === 'lenet-5' ? [1, 28, 28] : [784];
  const spec = gpt ? modelFromName(model, { input: [gpt.T], numClasses: 256 }) : modelFromName(model, { input: imageShape, numClasses: 10 });
  const net = Network.create(gpu, spec, 42);
  const data = gpt
    ? uploadText(gpu, { kind: 'text', name: 'pseudo', bytes: pseudoText(Math.max(4 * B * gpt.T, 4096)) }, gpt.T, 'train')
    : uploadDataset(gpu, syntheticBatch(B, 7, imageShape));
  // the GPT step as `slimgpu train` runs it: AdamW with global-norm clipping
  const plan = await StepPlan.build(gpu, spec, net.layers, net.arena, data, B, gpt ? { optimizer: 'adamw', clip: true } : {});
  try {
    plan.setStep(0, 0);
    plan.setHyperRows(
      0,
      Array.from({ length: TABLE_CAP }, (_, t) => (gpt ? hyperRow('adamw', { momentum: 0, l2: 0.1, clip: 1 }, t, 1e-3) : [0.01, 0.9, 0])),
    );
    // warm-up
    const enc = gpu.device.createCommandEncoder({ label: 'profile.warmup' });
    for (let i = 0; i < 2; i++) encodeDispatches(enc, plan.train);
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    const { perDispatch, whole } = await profileDispatches(gpu, plan.train, steps, rounds);
    const sum = perDispatch.reduce((a, b) => a + b, 0);
    const kernels = plan.train.map((d, index) => ({
      index,
      label: d.label,
      ms: +perDispatch[index]!.toFixed(4),
      share: +(perDispatch[index]! / sum).toFixed(4),
      workgroups: d.workgroups.join('x'),
    }));
    const fam = new Map<string, { ms: number; count: number }>();
    for (const k of kernels) {
      const f = k.label.split(' ')[0]!;
      const e = fam.get(f) ?? { ms: 0, count: 0 };
      e.ms += k.ms;
      e.count++;
      fam.set(f, e);
    }
    const families = [...fam]
      .map(([family, e]) => ({ family, ms: +e.ms.toFixed(4), share: +(e.ms / sum).toFixed(4), count: e.count }))
      .sort((a, b) => b.ms - a.ms);
    return {
      model,
      batch: B,
      adapter: gpu.info.description || gpu.info.device,
      kernels,
      sumMs: +sum.toFixed(4),
      stepMs: +whole.toFixed(4),
      families,
    };
  } finally {
    plan.destroy();
    data.dispose();
    net.dispose();
  }
}

export function profileTable(p: StepProfile): string {
  const lines = [
    `${p.model}, batch ${p.batch}, ${p.adapter}: one step = ${p.stepMs.toFixed(3)} ms in one pass; ` +
      `sum of per-dispatch passes ${p.sumMs.toFixed(3)} ms (GPU timestamps, medians)`,
    '',
  ];
  const w = Math.max(...p.kernels.map((k) => k.label.length), 6);
  lines.push(`${'#'.padStart(3)}  ${'kernel'.padEnd(w)}  ${'ms'.padStart(8)}  ${'share'.padStart(6)}  workgroups`);
  for (const k of p.kernels) {
    lines.push(
      `${String(k.index).padStart(3)}  ${k.label.padEnd(w)}  ${k.ms.toFixed(3).padStart(8)}  ${(100 * k.share).toFixed(1).padStart(5)}%  ${k.workgroups}`,
    );
  }
  lines.push('', 'by family:');
  for (const f of p.families)
    lines.push(`  ${f.family.padEnd(28)} ${f.ms.toFixed(3).padStart(8)} ms  ${(100 * f.share).toFixed(1).padStart(5)}%  (${f.count})`);
  return lines.join('\n');
}

const USAGE = `usage: npm run bench -- profile-step [options]
  --model m     lenet-5 (default), lenet-300-100 or gpt:L-D-H-T (AdamW + clipping, batch = windows of T bytes)
  --batch n     batch size (default 64 for lenet-5, 128 for lenet-300-100)
  --steps n     steps per submission (default 4), --rounds n submissions (default 3)
  --json        print JSON`;

export async function main(argv: string[]): Promise<number> {
  let model: string = 'lenet-5',
    batch: number | undefined,
    steps = 4,
    rounds = 3,
    json = false;
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const num = () => {
      const v = Number(argv[++i]);
      if (!(Number.isInteger(v) && v > 0)) throw new Error(`${x} needs a positive integer\n${USAGE}`);
      return v;
    };
    try {
      if (x === '--model') {
        const m = argv[++i];
        if (m !== 'lenet-5' && m !== 'lenet-300-100' && !parseGptName(m ?? ''))
          throw new Error(`--model must be lenet-5, lenet-300-100 or gpt:L-D-H-T\n${USAGE}`);
        model = m!;
      } else if (x === '--batch') batch = num();
      else if (x === '--steps') steps = num();
      else if (x === '--rounds') rounds = num();
      else if (x === '--json') json = true;
      else if (x === '--help' || x === '-h') {
        console.log(USAGE);
        return 0;
      } else throw new Error(`unknown argument '${x}'\n${USAGE}`);
    } catch (e) {
      console.error((e as Error).message);
      return 2;
    }
  }
  const gpu = await createGpu();
  try {
    const p = await profileStep(gpu, model, batch ?? (model === 'lenet-5' ? 64 : model.startsWith('gpt:') ? 16 : 128), steps, rounds);
    console.log(json ? JSON.stringify(p, null, 1) : profileTable(p));
    return 0;
  } catch (e) {
    console.error(`profile-step: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    gpu.destroy();
  }
}
