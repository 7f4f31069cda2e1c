// Attention variants side by side: node dist/bench/index.js attention-compare [--kernel sg8|generic] [--reps n] [--shapes B,T,C,H;...]
//
// Runs forward and backward of every variant on the same tensors, alternating variants run by run
// so all see the same machine load, and prints the median CPU milliseconds per run (this process's
// user + system time: on a CPU driver such as lavapipe its worker threads do the work, so the
// number stays meaningful when other jobs share the cores) and the median wall milliseconds.
import { createGpu } from '../src/gpu/device.js';
import { destroyDispatches, run, type Dispatch } from '../src/gpu/dispatch.js';
import { createTensor } from '../src/gpu/tensor.js';
import {
  attention,
  attentionBackward,
  attentionSavedShape,
  attentionScratchShape,
  type AttentionKernel,
  type AttentionVariant,
} from '../src/kernels/attention.js';
import { median } from './timing.js';
import { uniform } from './util.js';

const USAGE = 'usage: node dist/bench/index.js attention-compare [--kernel sg8|generic] [--reps n] [--shapes B,T,C,H;B,T,C,H...]';

export async function main(argv: string[]): Promise<number> {
  let kernel: AttentionKernel = 'sg8',
    reps = 7;
  let shapes = [
    [16, 128, 128, 4],
    [8, 256, 256, 4],
    [32, 128, 256, 8],
    [16, 256, 128, 4],
  ];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!,
      v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (a === '--kernel' && (v === 'sg8' || v === 'generic')) {
      kernel = v;
      i++;
    } else if (a === '--reps' && Number(v) >= 1) {
      reps = Math.floor(Number(v));
      i++;
    } else if (a === '--shapes' && v && /^\d+,\d+,\d+,\d+(;\d+,\d+,\d+,\d+)*$/.test(v)) {
      shapes = v.split(';').map((s) => s.split(',').map(Number));
      i++;
    } else {
      console.error(`bad argument '${a}'\n${USAGE}`);
      return 2;
    }
  }
  const gpu = await createGpu();
  const cpuMs = async (d: Dispatch[]) => {
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    await run(gpu, d);
    const c = process.cpuUsage(c0);
    return [(c.user + c.system) / 1000, performance.now() - t0] as const;
  };
  console.log(`adapter: ${gpu.info.description || gpu.info.device}; kernel ${kernel}; median of ${reps} alternating runs; cpu-ms (wall ms)`);
  for (const [B, T, C, H] of shapes as [number, number, number, number][]) {
    const N = B * T,
      s = { B, T, H };
    const qkv = createTensor(gpu, [N, 3 * C], uniform(N * 3 * C, 1, -1.5, 1.5)),
      out = createTensor(gpu, [N, C]);
    const dout = createTensor(gpu, [N, C], uniform(N * C, 2)),
      dqkv = createTensor(gpu, [N, 3 * C]);
    const runs = [];
    for (const variant of ['flash', 'unfused'] as AttentionVariant[]) {
      const saved = createTensor(gpu, attentionSavedShape(s, variant)),
        scratch = createTensor(gpu, attentionScratchShape(s, variant));
      const fwd = await attention(gpu, qkv, out, saved, { ...s, variant, kernel });
      const bwd = await attentionBackward(gpu, { qkv, out, saved, dout, scratch, dqkv }, { ...s, variant, kernel });
      const keep = (ds: Dispatch[]) => ds.map((d) => ({ ...d, owned: [] })); // run() would free the uniforms
      runs.push({
        variant,
        fwd: keep(fwd),
        bwd: keep(bwd),
        f: [] as (readonly [number, number])[],
        b: [] as (readonly [number, number])[],
        tensors: [saved, scratch],
        owned: [...fwd, ...bwd],
      });
      await run(gpu, keep(fwd));
      await run(gpu, keep(bwd)); // compile and warm up
    }
    for (let r = 0; r < reps; r++)
      for (const x of runs) {
        x.f.push(await cpuMs(x.fwd));
        x.b.push(await cpuMs(x.bwd));
      }
    for (const x of runs) {
      const f = median(x.f.map((v) => v[0])),
        fw = median(x.f.map((v) => v[1]));
      const b = median(x.b.map((v) => v[0])),
        bw = median(x.b.map((v) => v[1]));
      console.log(
        `B${B} T${T} C${C} H${H} (hs ${C / H})  ${x.variant.padEnd(8)} forward ${f.toFixed(1)} (${fw.toFixed(1)})  backward ${b.toFixed(1)} (${bw.toFixed(1)})  sum ${(f + b).toFixed(1)}`,
      );
      for (const t of x.tensors) t.dispose();
      destroyDispatches(x.owned);
    }
    for (const t of [qkv, out, dout, dqkv]) t.dispose();
  }
  gpu.destroy();
  return 0;
}
