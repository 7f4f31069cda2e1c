// embedding bench entries: token + position lookup and its deterministic backward (counting sort +
// segmented sums) at GPT sizes, V = 256 byte tokens skewed like text. Memory-bound: bytes = the
// rows read and written (forward: tokens, table and pos rows, out; backward: dout once, dtable,
// dpos, plus the sort's u32 traffic counted as 4 words per token).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { embedding, embeddingBackward } from '../../src/kernels/embedding.js';
import { embeddingBackwardCpu, embeddingCpu } from '../../src/reference/embedding.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

function textTokens(N: number, V: number, seed: number): Uint32Array {
  return Uint32Array.from(uniform(N, seed, 0, 1), (u) => Math.min(V - 1, Math.floor(V * u ** 3)));
}

export function embeddingCases(_gpu: Gpu): BenchCase[] {
  const V = 256,
    T = 128;
  const sizes = [
    [8192, 128, true],
    [8192, 256, false],
    [2048, 128, false],
  ] as const;
  return sizes.flatMap(([N, C, quick]): BenchCase[] => [
    {
      kernel: 'embedding',
      variant: 'forward',
      size: `N=${N} C=${C} V=${V} T=${T}`,
      bytes: 4 * (N + 3 * N * C),
      quick,
      async prepare(gpu: Gpu) {
        const tokens = textTokens(N, V, 1),
          table = uniform(V * C, 2),
          pos = uniform(T * C, 3);
        const tt = createTensor(gpu, [N], tokens, { dtype: 'u32', label: 'bench.emb.tokens' });
        const ttab = createTensor(gpu, [V, C], table, { label: 'bench.emb.table' });
        const tp = createTensor(gpu, [T, C], pos, { label: 'bench.emb.pos' });
        const out = createTensor(gpu, [N, C], undefined, { label: 'bench.emb.out' });
        const dispatches = await embedding(gpu, tt, ttab, tp, out);
        return {
          dispatches,
          async validate() {
            checkClose('embedding out', await out.read(), embeddingCpu(tokens, table, pos, C), 0, 0);
          },
          dispose: disposer([tt, ttab, tp, out], dispatches),
        };
      },
    },
    {
      kernel: 'embedding',
      variant: 'backward',
      size: `N=${N} C=${C} V=${V} T=${T}`,
      bytes: 4 * (N * C + (V + T) * C + 4 * N),
      quick,
      async prepare(gpu: Gpu) {
        const tokens = textTokens(N, V, 4),
          dout = uniform(N * C, 5);
        const tt = createTensor(gpu, [N], tokens, { dtype: 'u32', label: 'bench.emb.tokens' });
        const td = createTensor(gpu, [N, C], dout, { label: 'bench.emb.dout' });
        const dtable = createTensor(gpu, [V, C], undefined, { label: 'bench.emb.dtable' });
        const dpos = createTensor(gpu, [T, C], undefined, { label: 'bench.emb.dpos' });
        const plan = await embeddingBackward(gpu, { tokens: tt, dout: td, dtable, dpos });
        return {
          dispatches: plan.dispatches,
          async validate() {
            const ref = embeddingBackwardCpu(tokens, dout, V, C, T);
            checkClose('embedding dtable', await dtable.read(), ref.dtable, 1e-3, 1e-4);
            checkClose('embedding dpos', await dpos.read(), ref.dpos, 1e-4, 1e-4);
          },
          dispose: disposer([tt, td, dtable, dpos, ...plan.scratch], plan.dispatches),
        };
      },
    },
  ]);
}
