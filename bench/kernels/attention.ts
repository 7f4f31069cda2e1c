// attention bench entries: causal self-attention forward and backward at GPT sizes (B·T = 8..32 ×
// 128..256, C = 128..256, H = 4..8), for each variant (unfused, flash) and kernel flavour the adapter
// can run. Flops count the causal matmuls only (T(T+1)/2 score pairs per head): forward 2 (Q·Kᵀ,
// P·V), backward 4 (dO·Vᵀ, Pᵀ·dO, dS·K, dSᵀ·Q), 2 flops per multiply-add.
import type { Gpu } from '../../src/gpu/device.js';
import { run } from '../../src/gpu/dispatch.js';
import { createTensor } from '../../src/gpu/tensor.js';
import {
  attention,
  attentionBackward,
  attentionKernel,
  attentionSavedShape,
  attentionScratchShape,
  type AttentionKernel,
  type AttentionVariant,
} from '../../src/kernels/attention.js';
import { attentionBackwardCpu, attentionCpu } from '../../src/reference/attention.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

interface Shape {
  B: number;
  T: number;
  C: number;
  H: number;
  quick: boolean;
}

const SHAPES: Shape[] = [
  { B: 16, T: 128, C: 128, H: 4, quick: true }, // hs 32
  { B: 8, T: 256, C: 256, H: 4, quick: true }, // hs 64
  { B: 32, T: 128, C: 256, H: 8, quick: false }, // hs 32
  { B: 16, T: 256, C: 128, H: 4, quick: false }, // hs 32
  { B: 2, T: 32, C: 64, H: 2, quick: false }, // small: what the bench page's quick mode picks
];

function kernelsFor(gpu: Gpu, hs: number): AttentionKernel[] {
  const ks: AttentionKernel[] = ['generic'];
  try {
    if (attentionKernel(gpu, hs, 'sg8') === 'sg8') ks.unshift('sg8');
  } catch {
    /* not on this adapter */
  }
  return ks;
}

export function attentionCases(gpu: Gpu): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const s of SHAPES)
    for (const kernel of kernelsFor(gpu, s.C / s.H))
      for (const variant of ['flash', 'unfused'] as AttentionVariant[]) {
        const { B, T, C, H } = s;
        const N = B * T,
          pairs = (B * H * (T * (T + 1))) / 2,
          hs = C / H;
        const size = `B${B} T${T} C${C} H${H} (hs ${hs})`;
        const opts = { B, T, H, variant, kernel };
        const setup = async (g: Gpu) => {
          const x = uniform(N * 3 * C, 1 + T, -1.5, 1.5),
            dy = uniform(N * C, 2 + T);
          const qkv = createTensor(g, [N, 3 * C], x, { label: 'bench.attention.qkv' });
          const out = createTensor(g, [N, C], undefined, { label: 'bench.attention.out' });
          const saved = createTensor(g, attentionSavedShape(s, variant), undefined, { label: 'bench.attention.saved' });
          const dout = createTensor(g, [N, C], dy, { label: 'bench.attention.dout' });
          const scratch = createTensor(g, attentionScratchShape(s, variant), undefined, { label: 'bench.attention.scratch' });
          const dqkv = createTensor(g, [N, 3 * C], undefined, { label: 'bench.attention.dqkv' });
          return { x, dy, qkv, out, saved, dout, scratch, dqkv, tensors: [qkv, out, saved, dout, scratch, dqkv] };
        };
        cases.push({
          kernel: 'attention',
          variant: `${variant}/${kernel}`,
          size,
          flops: 2 * 2 * pairs * hs,
          quick: s.quick,
          async prepare(g) {
            const t = await setup(g);
            const dispatches = await attention(g, t.qkv, t.out, t.saved, opts);
            return {
              dispatches,
              async validate() {
                checkClose(`attention ${variant}/${kernel} ${size}`, await t.out.read(), attentionCpu(t.x, s).out, 3e-5, 1e-4);
              },
              dispose: disposer(t.tensors, dispatches),
            };
          },
        });
        cases.push({
          kernel: 'attention-bwd',
          variant: `${variant}/${kernel}`,
          size,
          flops: 4 * 2 * pairs * hs,
          quick: s.quick,
          async prepare(g) {
            const t = await setup(g);
            const fwd = await attention(g, t.qkv, t.out, t.saved, opts);
            await run(g, fwd); // the backward reads what the forward saved
            const dispatches = await attentionBackward(g, t, opts);
            return {
              dispatches,
              async validate() {
                checkClose(`attention-bwd ${variant}/${kernel} ${size}`, await t.dqkv.read(), attentionBackwardCpu(t.x, t.dy, s), 1e-4, 3e-4);
              },
              dispose: disposer(t.tensors, dispatches),
            };
          },
        });
      }
  return cases;
}
