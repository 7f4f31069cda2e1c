// rankTopk bench entries: top 10 of R users × N items with ~20 excluded items per user (the
// recommender's full-catalogue evaluation). Reported as GB/s over the scores read once (4·R·N bytes).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { rankTopk } from '../../src/kernels/rank-topk.js';
import { rankTopkCpu } from '../../src/reference/rank-topk.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function rankTopkCases(_gpu: Gpu): BenchCase[] {
  return [
    [256, 7_919],
    [512, 41_843],
  ].flatMap(([R, N]) =>
    (['lists', 'rounds'] as const).map((variant) => ({
      kernel: 'rank-topk',
      variant,
      size: `${R}x${N} k=10`,
      bytes: 4 * R! * N!,
      quick: R === 256,
      async prepare(gpu: Gpu) {
        const s = uniform(R! * N!, 11);
        const rows = Uint32Array.from({ length: R! }, (_, i) => i);
        const ptr = Uint32Array.from({ length: R! + 1 }, (_, i) => 20 * i);
        const cols = Uint32Array.from({ length: 20 * R! }, (_, j) => (j * 7919) % N!);
        const ts = createTensor(gpu, [R!, N!], s, { label: 'bench.rank.scores' });
        const tr = createTensor(gpu, [R!], rows, { dtype: 'u32', label: 'bench.rank.rows' });
        const tp = createTensor(gpu, [R! + 1], ptr, { dtype: 'u32', label: 'bench.rank.ptr' });
        const tc = createTensor(gpu, [cols.length], cols, { dtype: 'u32', label: 'bench.rank.cols' });
        const ti = createTensor(gpu, [R! * 10], undefined, { dtype: 'u32', label: 'bench.rank.idx' });
        const tv = createTensor(gpu, [R! * 10], undefined, { label: 'bench.rank.val' });
        const dispatches = await rankTopk(gpu, { scores: ts, rows: tr, rowptr: tp, cols: tc, outIdx: ti, outVal: tv, k: 10, variant });
        return {
          dispatches,
          async validate() {
            checkClose('rank-topk', await ti.read(), rankTopkCpu(s, R!, N!, 10, rows, ptr, cols).idx, 0, 0);
          },
          dispose: disposer([ts, tr, tp, tc, ti, tv], dispatches),
        };
      },
    })),
  );
}
