// matmul: C = op(A)·op(B) [+ bias] [→ relu]   (shaders/matmul.wgsl)
//   op(A) (M, K): A (M, K) or, with transposeA, (K, M); op(B) (K, N): B (K, N) or (N, K);
//   C (M, N); bias (N).
// colsum: db (N) = Σ_m dY (M, N) — the bias gradient.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, checkWorkgroups, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { dtype, fail, rank, sameDevice, shapeIs } from './validate.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: Tensor;
  activation?: 'none' | 'relu';
}

export interface MatmulDims {
  M: number;
  N: number;
  K: number;
}

/** Checks operands and returns (M, N, K). */
export function matmulDims(a: Tensor, b: Tensor, opts: MatmulOptions = {}): MatmulDims {
  const op = 'matmul';
  rank(op, 'a', a, 2, '(M, K), or (K, M) with transposeA');
  rank(op, 'b', b, 2, '(K, N), or (N, K) with transposeB');
  dtype(op, 'a', a, 'f32');
  dtype(op, 'b', b, 'f32');
  const [M, Ka] = opts.transposeA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [Kb, N] = opts.transposeB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (Ka !== Kb) {
    fail(op, `inner dimensions differ: op(a) is [${M}, ${Ka}] and op(b) is [${Kb}, ${N}] ` +
      `(a [${a.shape}]${opts.transposeA ? ' transposed' : ''}, b [${b.shape}]${opts.transposeB ? ' transposed' : ''})`);
  }
  if (opts.bias) {
    rank(op, 'bias', opts.bias, 1, '(N)');
    shapeIs(op, 'bias', opts.bias, [N]);
  }
  const act = opts.activation ?? 'none';
  if (act !== 'none' && act !== 'relu') fail(op, `activation must be 'none' or 'relu', got '${act}'`);
  sameDevice(op, ['a', a], ['b', b], ['bias', opts.bias]);
  return { M, N, K: Ka };
}

export const MATMUL_WG = { x: 16, y: 4 } as const;

/** Dispatch records for out = op(a)·op(b) [+ bias] [→ relu]. */
export async function matmul(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor, opts: MatmulOptions = {}): Promise<Dispatch[]> {
  const { M, N, K } = matmulDims(a, b, opts);
  rank('matmul', 'out', out, 2, '(M, N)');
  shapeIs('matmul', 'out', out, [M, N]);
  const defines = {
    TRANS_A: !!opts.transposeA,
    TRANS_B: !!opts.transposeB,
    BIAS: !!opts.bias,
    RELU: (opts.activation ?? 'none') === 'relu',
    WG_X: MATMUL_WG.x,
    WG_Y: MATMUL_WG.y,
  };
  const pipeline = await pipelines(gpu).get('matmul', defines);
  const params = uniformParams(gpu, 'matmul.params', [['u32', M], ['u32', N], ['u32', K]]);
  const label = `matmul ${M}x${N}x${K}${opts.transposeA ? ' tA' : ''}${opts.transposeB ? ' tB' : ''}`;
  const workgroups = [Math.ceil(N / 4 / MATMUL_WG.x), Math.ceil(M / 4 / MATMUL_WG.y), 1] as const;
  checkWorkgroups(gpu, label, workgroups);
  return [{
    label,
    pipeline,
    bindGroup: bindGroup(gpu, pipeline, label, [params, a, b, out, opts.bias]),
    workgroups,
    owned: [params],
  }];
}

/** Dispatch records for db (N) = Σ_m dy (M, N). */
export async function colsum(gpu: Gpu, dy: Tensor, db: Tensor): Promise<Dispatch[]> {
  rank('colsum', 'dy', dy, 2, '(M, N)');
  const [M, N] = dy.shape as [number, number];
  rank('colsum', 'db', db, 1, '(N)');
  shapeIs('colsum', 'db', db, [N]);
  const pipeline = await pipelines(gpu).get('matmul', { TRANS_A: false, TRANS_B: false, BIAS: false, RELU: false, WG_X: MATMUL_WG.x, WG_Y: MATMUL_WG.y }, 'colsum');
  const params = uniformParams(gpu, 'colsum.params', [['u32', M], ['u32', N], ['u32', 0]]);
  const label = `colsum ${M}x${N}`;
  return [{
    label,
    pipeline,
    bindGroup: bindGroup(gpu, pipeline, label, [params, dy, undefined, db]),
    workgroups: [Math.ceil(N / 64), 1, 1],
    owned: [params],
  }];
}
