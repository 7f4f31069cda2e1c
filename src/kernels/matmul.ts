// matmul: C = op(A)·op(B) [+ bias] [→ relu]   (shaders/matmul.wgsl)
//   op(A) (M, K): A (M, K) or, with transposeA, (K, M); op(B) (K, N): B (K, N) or (N, K);
//   C (M, N); bias (N).
// colsum: db (N) = Σ_m dY (M, N) — the bias gradient.
//
// Two kernels, chosen per adapter (see shaders/matmul.wgsl for why):
//   'cpu' (entry sg8): CPU drivers (lavapipe/llvmpipe, SwiftShader) with 8-wide subgroups. A 16×32
//          tile per 8-lane workgroup, vec4 loads, subgroupBroadcast, no workgroup memory.
//   'gpu' (entry tiled): real GPUs. 64×64 tiles in workgroup memory, 4×4 per thread.
// Override with `opts.variant` or the environment variable SLIMGPU_MATMUL_VARIANT=cpu|gpu (tests
// and benchmarks run both on one machine). Divisibility by 4 of the row lengths picks vec4 or
// scalar loads (compile-time defines VEC_A/VEC_B/VEC_C; shapes themselves travel in a uniform).
import type { Gpu } from '../gpu/device.js';
import { bindGroup, checkWorkgroups, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, fail } from './args.js';

export type MatmulVariant = 'cpu' | 'gpu';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: Tensor;
  activation?: 'none' | 'relu';
  /** Kernel variant; default 'auto' (SLIMGPU_MATMUL_VARIANT, else by adapter). */
  variant?: 'auto' | MatmulVariant;
}

export interface MatmulDims {
  M: number;
  N: number;
  K: number;
}

/** Checks operands and returns (M, N, K). */
export function matmulDims(a: Tensor, b: Tensor, opts: MatmulOptions = {}): MatmulDims {
  const op = 'matmul';
  checkArgs(op, {
    a: { t: a, rank: 2, dtype: 'f32', what: '(M, K), or (K, M) with transposeA' },
    b: { t: b, rank: 2, dtype: 'f32', what: '(K, N), or (N, K) with transposeB' },
  });
  const [M, Ka] = opts.transposeA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [Kb, N] = opts.transposeB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (Ka !== Kb) {
    fail(
      op,
      `inner dimensions differ: op(a) is [${M}, ${Ka}] and op(b) is [${Kb}, ${N}] ` +
        `(a [${a.shape}]${opts.transposeA ? ' transposed' : ''}, b [${b.shape}]${opts.transposeB ? ' transposed' : ''})`,
    );
  }
  checkArgs(op, { a: { t: a }, b: { t: b }, bias: { t: opts.bias || undefined, rank: 1, shape: [N], what: '(N)', optional: true } });
  const act = opts.activation ?? 'none';
  if (act !== 'none' && act !== 'relu') fail(op, `activation must be 'none' or 'relu', got '${act}'`);
  const v = opts.variant ?? 'auto';
  if (v !== 'auto' && v !== 'cpu' && v !== 'gpu') fail(op, `variant must be 'auto', 'cpu' or 'gpu', got '${v}'`);
  return { M, N, K: Ka };
}

/** Output tile of one workgroup (rows, columns) per variant. */
export const MATMUL_TILE = { cpu: { rows: 16, cols: 32 }, gpu: { rows: 64, cols: 64 } } as const;

/** True for CPU (software) adapters: lavapipe/llvmpipe, SwiftShader, WARP. */
export function isCpuAdapter(gpu: Gpu): boolean {
  const i = gpu.info;
  return i.isFallbackAdapter || i.architecture === 'software' || /llvmpipe|lavapipe|swiftshader|warp|software/i.test(`${i.device} ${i.description}`);
}

/** Whether the 'cpu' kernel can run here: it needs subgroups of exactly 8 lanes. */
export function hasSubgroups8(gpu: Gpu): boolean {
  const info = gpu.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  return gpu.features.has('subgroups') && info.subgroupMinSize === 8 && info.subgroupMaxSize === 8;
}

function envVariant(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.SLIMGPU_MATMUL_VARIANT;
  return v === undefined || v === '' ? undefined : v;
}

/** The variant a matmul on `gpu` uses: `requested`, else SLIMGPU_MATMUL_VARIANT, else by adapter. */
export function matmulVariant(gpu: Gpu, requested: MatmulOptions['variant'] = 'auto'): MatmulVariant {
  let v: string = requested;
  if (v === 'auto') {
    const env = envVariant();
    if (env !== undefined && env !== 'auto') {
      if (env !== 'cpu' && env !== 'gpu') fail('matmul', `SLIMGPU_MATMUL_VARIANT must be 'cpu', 'gpu' or 'auto', got '${env}'`);
      v = env;
    }
  }
  if (v === 'auto') return isCpuAdapter(gpu) && hasSubgroups8(gpu) ? 'cpu' : 'gpu';
  if (v === 'cpu' && !hasSubgroups8(gpu)) {
    fail(
      'matmul',
      `variant 'cpu' needs the 'subgroups' feature with 8-lane subgroups; this adapter (${gpu.info.description || gpu.info.device}) has none`,
    );
  }
  return v as MatmulVariant;
}

/** Dispatch records for out = op(a)·op(b) [+ bias] [→ relu]. */
export async function matmul(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor, opts: MatmulOptions = {}): Promise<Dispatch[]> {
  const { M, N, K } = matmulDims(a, b, opts);
  checkArgs('matmul', { out: { t: out, rank: 2, shape: [M, N], what: '(M, N)' } });
  const tA = !!opts.transposeA,
    tB = !!opts.transposeB;
  const variant = matmulVariant(gpu, opts.variant);
  const defines = {
    TRANS_A: tA,
    TRANS_B: tB,
    BIAS: !!opts.bias,
    RELU: (opts.activation ?? 'none') === 'relu',
    // vec4 bindings when every row of the operand is a whole number of vec4s
    VEC_A: (tA ? M : K) % 4 === 0,
    VEC_B: (tB ? K : N) % 4 === 0,
    VEC_C: N % 4 === 0,
    SUBGROUPS: gpu.features.has('subgroups'),
  };
  const entry = variant === 'cpu' ? 'sg8' : 'tiled';
  const pipeline = await pipelines(gpu).get('matmul', defines, entry);
  const params = uniformParams(gpu, 'matmul.params', [
    ['u32', M],
    ['u32', N],
    ['u32', K],
  ]);
  const label = `matmul ${M}x${N}x${K}${tA ? ' tA' : ''}${tB ? ' tB' : ''} ${variant}`;
  const tile = MATMUL_TILE[variant];
  const workgroups = [Math.ceil(N / tile.cols), Math.ceil(M / tile.rows), 1] as const;
  checkWorkgroups(gpu, label, workgroups);
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [params, a, b, out, opts.bias]),
      workgroups,
      owned: [params],
    },
  ];
}

/** Dispatch records for db (N) = Σ_m dy (M, N). */
export async function colsum(gpu: Gpu, dy: Tensor, db: Tensor): Promise<Dispatch[]> {
  checkArgs('colsum', { dy: { t: dy, rank: 2, what: '(M, N)' } });
  const [M, N] = dy.shape as [number, number];
  checkArgs('colsum', { db: { t: db, rank: 1, shape: [N], what: '(N)' } });
  const defines = {
    TRANS_A: false,
    TRANS_B: false,
    BIAS: false,
    RELU: false,
    VEC_A: false,
    VEC_B: false,
    VEC_C: false,
    SUBGROUPS: false,
  };
  const pipeline = await pipelines(gpu).get('matmul', defines, 'colsum');
  const params = uniformParams(gpu, 'colsum.params', [
    ['u32', M],
    ['u32', N],
    ['u32', 0],
  ]);
  const label = `colsum ${M}x${N}`;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [params, dy, undefined, db]),
      workgroups: [Math.ceil(N / 64), 1, 1],
      owned: [params],
    },
  ];
}
