// Inference from compressed weights (shaders/spmm.wgsl): y = act(x · Wᵀ + bias) with W a
// CompressedMatrix (src/reference/spmm.ts: csr or dense layout, b-bit codebook indices or f32),
// uploaded once (uploadMatrix); and im2col, which lowers a conv onto the same product.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { matrixBytes, perWord, type Activation, type CompressedMatrix, type Im2colGeometry } from '../reference/spmm.js';
import { dtype, fail, sameDevice } from './args.js';

export const SPMM_WG = 64;

/** A CompressedMatrix in GPU buffers. */
export interface GpuMatrix {
  m: CompressedMatrix;
  rowptr?: Tensor<'u32'>;
  cols?: Tensor<'u32'>;
  codes: Tensor<'u32'>;
  codebook?: Tensor;
  bias: Tensor;
  /** Bytes of its buffers. */
  bytes: number;
  dispose(): void;
}

export function uploadMatrix(gpu: Gpu, m: CompressedMatrix, label = 'spmm'): GpuMatrix {
  const made: Tensor[] = [];
  const t = <D extends 'u32' | 'f32'>(data: ArrayLike<number>, d: D, what: string): Tensor<D> => {
    const x = createTensor(gpu, [Math.max(1, data.length)], data.length ? data : [0], { dtype: d, label: `${label}.${what}` });
    made.push(x);
    return x;
  };
  try {
    const g: GpuMatrix = {
      m,
      rowptr: m.rowptr && t(m.rowptr, 'u32', 'rowptr'),
      cols: m.cols && t(m.cols, 'u32', 'cols'),
      codes: t(m.codes, 'u32', 'codes'),
      codebook: m.codebook && t(m.codebook, 'f32', 'codebook'),
      bias: t(m.bias, 'f32', 'bias'),
      bytes: matrixBytes(m),
      dispose() {
        for (const x of made) x.dispose();
      },
    };
    return g;
  } catch (e) {
    for (const x of made) x.dispose();
    throw e;
  }
}

export interface SpmmOptions {
  /** Batch rows of x (for a lowered conv: N·OH·OW). */
  B: number;
  act?: Activation;
  /** Output layout (shaders/spmm.wgsl): 1 = (B, rows); OH·OW = a conv's (N, rows, OH, OW). */
  P?: number;
  /** Batch rows per invocation (default: 8 from B ≥ 8, 4 from 2, else 1; 1 with xT). */
  tb?: 1 | 4 | 8;
  /** x stored transposed (inDim, B): lanes along the batch (shaders/spmm.wgsl XT). */
  xT?: boolean;
  /** y written transposed (rows, B) (P must be 1). */
  yT?: boolean;
}

/** Dispatch records for y = act(x · Wᵀ + bias): x (B·inDim) f32, y (B·rows) f32. */
export async function spmm(gpu: Gpu, w: GpuMatrix, x: Tensor, y: Tensor, opts: SpmmOptions): Promise<Dispatch[]> {
  const op = 'spmm';
  const { m } = w;
  const B = opts.B,
    P = opts.P ?? 1,
    act = opts.act ?? 'none';
  if (!Number.isInteger(B) || B < 1) fail(op, `B must be a positive integer, got ${B}`);
  if (!Number.isInteger(P) || P < 1 || B % P !== 0) fail(op, `P must be a positive integer dividing B = ${B}, got ${P}`);
  dtype(op, 'x', x, 'f32');
  dtype(op, 'y', y, 'f32');
  if (x.size !== B * m.inDim) fail(op, `x must hold B·inDim = ${B}·${m.inDim} = ${B * m.inDim} values, got ${x.size} (shape [${x.shape}])`);
  if (y.size !== B * m.rows) fail(op, `y must hold B·rows = ${B}·${m.rows} = ${B * m.rows} values, got ${y.size} (shape [${y.shape}])`);
  sameDevice(op, ['x', x], ['y', y], ['codes', w.codes]);
  const xT = opts.xT ?? false,
    yT = opts.yT ?? false;
  if (yT && P !== 1) fail(op, `yT needs P = 1, got P ${P}`);
  const tb = xT ? 1 : (opts.tb ?? (B >= 8 ? 8 : B >= 2 ? 4 : 1));
  const shared = m.bits !== 32;
  const K = m.codebook?.length ?? 0;
  const defines = {
    WG: SPMM_WG,
    TB: tb,
    XT: xT,
    YT: yT,
    DENSE: m.format === 'dense',
    IDX16: m.idx16,
    F32VALUES: !shared,
    CBSHARED: shared && K <= 256,
    BITS: shared ? m.bits : 32,
    PER: perWord(m.bits),
    MASK: shared ? 2 ** m.bits - 1 : 0,
    ACT_RELU: act === 'relu',
    ACT_SIGMOID: act === 'sigmoid',
    ACT_TANH: act === 'tanh',
  };
  const pipeline = await pipelines(gpu).get('spmm', defines);
  const label = `spmm ${m.format} ${m.rows}x${m.inDim} b${m.bits} B${B}${P > 1 ? ` P${P}` : ''}${xT ? ' xT' : ''}${yT ? ' yT' : ''} ${act}`;
  const p = uniformParams(gpu, 'spmm.params', [
    ['u32', m.rows],
    ['u32', m.inDim],
    ['u32', B],
    ['u32', P],
    ['u32', K],
    ['u32', 0],
    ['u32', 0],
    ['u32', 0],
  ]);
  const csr = m.format === 'csr';
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [
        p,
        x,
        csr ? w.rowptr : undefined,
        csr ? w.cols : undefined,
        w.codes,
        shared ? w.codebook : undefined,
        w.bias,
        y,
      ]),
      workgroups: grid(gpu, Math.ceil((m.rows * Math.ceil(B / tb)) / SPMM_WG)),
      owned: [p],
    },
  ];
}

/** Dispatch records for patches (N·OH·OW, C·KH·KW) of x (N·C·H·W), zero padding; `transposed`: (C·KH·KW, N·OH·OW). */
export async function im2col(gpu: Gpu, x: Tensor, patches: Tensor, g: Im2colGeometry, transposed = false): Promise<Dispatch[]> {
  const op = 'im2col';
  const total = g.N * g.OH * g.OW * g.C * g.KH * g.KW;
  if (x.size !== g.N * g.C * g.H * g.W) fail(op, `x must hold N·C·H·W = ${g.N * g.C * g.H * g.W} values, got ${x.size}`);
  if (patches.size !== total) fail(op, `patches must hold N·OH·OW·C·KH·KW = ${total} values, got ${patches.size}`);
  const pipeline = await pipelines(gpu).get(
    'spmm',
    {
      WG: SPMM_WG,
      TB: 1,
      XT: transposed,
      YT: false,
      DENSE: false,
      IDX16: false,
      F32VALUES: true,
      CBSHARED: false,
      BITS: 32,
      PER: 1,
      MASK: 0,
      ACT_RELU: false,
      ACT_SIGMOID: false,
      ACT_TANH: false,
    },
    'im2col',
  );
  const label = `im2col ${g.N}x${g.C}x${g.H}x${g.W} k${g.KH}x${g.KW} s${g.S} p${g.PAD}`;
  const q = uniformParams(
    gpu,
    'im2col.params',
    [g.N, g.C, g.H, g.W, g.KH, g.KW, g.S, g.PAD, g.OH, g.OW, 0, 0].map((v) => ['u32', v] as ['u32', number]),
  );
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [undefined, x, undefined, undefined, undefined, undefined, undefined, undefined, q, patches]),
      workgroups: grid(gpu, Math.ceil(total / SPMM_WG)),
      owned: [q],
    },
  ];
}
