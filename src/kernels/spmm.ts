// Inference from compressed weights (shaders/spmm.wgsl): y = act(x · Wᵀ + bias) (+ a residual) with W
// a CompressedMatrix (src/reference/spmm.ts: csr, bitmask or dense layout, b-bit codebook indices or
// f32), uploaded once (uploadMatrix); gather, rows of W as an embedding lookup; and im2col, which
// lowers a conv onto the same product.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { matrixBytes, perWord, type Activation, type CompressedMatrix, type Im2colGeometry } from '../reference/spmm.js';
import { checkArgs, fail, positiveInt } from './args.js';

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
  /** Added after the activation: y = act(x · Wᵀ + bias) + resid, resid (B, rows) (P = 1, no yT). */
  resid?: Tensor;
  /** A direct conv: W from convOffsets (csr, columns are offsets), x the input (N, C, H, W), B = N·OH·OW, P = OH·OW. */
  conv?: { C: number; H: number; W: number; OW: number; S: number };
}

/** The shader's defines for matrix m (main, gather and im2col share one module). */
function defines(
  m: CompressedMatrix | undefined,
  o: { tb?: number; xT?: boolean; yT?: boolean; act?: Activation; resid?: boolean; cbShared?: boolean; conv?: boolean },
) {
  const shared = m !== undefined && m.bits !== 32;
  const act = o.act ?? 'none';
  return {
    WG: SPMM_WG,
    TB: o.tb ?? 1,
    XT: o.xT ?? false,
    YT: o.yT ?? false,
    RESID: o.resid ?? false,
    CONV: o.conv ?? false,
    DENSE: m?.format === 'dense',
    BITMASK: m?.format === 'bitmask',
    IDX16: m?.idx16 ?? false,
    F32VALUES: !shared,
    CBSHARED: shared && (o.cbShared ?? true) && (m.codebook?.length ?? 0) <= 256,
    BITS: shared ? m.bits : 32,
    PER: m ? perWord(m.bits) : 1,
    MASK: shared ? 2 ** m.bits - 1 : 0,
    ACT_RELU: act === 'relu',
    ACT_SIGMOID: act === 'sigmoid',
    ACT_TANH: act === 'tanh',
    ACT_GELU: act === 'gelu',
  };
}

/** Dispatch records for y = act(x · Wᵀ + bias) (+ resid): x (B·inDim) f32, y (B·rows) f32. */
export async function spmm(gpu: Gpu, w: GpuMatrix, x: Tensor, y: Tensor, opts: SpmmOptions): Promise<Dispatch[]> {
  const op = 'spmm';
  const { m } = w;
  const B = opts.B,
    P = opts.P ?? 1,
    act = opts.act ?? 'none';
  positiveInt(op, 'B', B);
  if (!Number.isInteger(P) || P < 1 || B % P !== 0) fail(op, `P must be a positive integer dividing B = ${B}, got ${P}`);
  const xT = opts.xT ?? false,
    yT = opts.yT ?? false;
  checkArgs(op, {
    x: { t: x, dtype: 'f32' },
    resid: { t: opts.resid, dtype: 'f32', optional: true },
    codes: { t: w.codes },
    y: { t: y, dtype: 'f32', out: true },
  });
  const cv = opts.conv;
  if (cv) {
    if (m.format !== 'csr' || xT || yT || opts.resid) fail(op, 'a direct conv needs a csr matrix of offsets (convOffsets), no xT, yT or resid');
    if (x.size !== (B / P) * cv.C * cv.H * cv.W)
      fail(op, `x must hold N·C·H·W = ${B / P}·${cv.C}·${cv.H}·${cv.W} values (the conv's input), got ${x.size} (shape [${x.shape}])`);
  } else if (x.size !== B * m.inDim) fail(op, `x must hold B·inDim = ${B}·${m.inDim} = ${B * m.inDim} values, got ${x.size} (shape [${x.shape}])`);
  if (y.size !== B * m.rows) fail(op, `y must hold B·rows = ${B}·${m.rows} = ${B * m.rows} values, got ${y.size} (shape [${y.shape}])`);
  if (yT && P !== 1) fail(op, `yT needs P = 1, got P ${P}`);
  if (opts.resid && (P !== 1 || yT || opts.resid.size !== B * m.rows))
    fail(op, `resid needs P = 1, no yT and B·rows = ${B * m.rows} values, got ${opts.resid.size} (P ${P}${yT ? ', yT' : ''})`);
  const tb = xT ? 1 : (opts.tb ?? (B >= 8 ? 8 : B >= 2 ? 4 : 1));
  const pipeline = await pipelines(gpu).get('spmm', defines(m, { tb, xT, yT, act, resid: !!opts.resid, conv: !!cv }));
  const label = `spmm ${m.format} ${m.rows}x${m.inDim} b${m.bits} B${B}${P > 1 ? ` P${P}` : ''}${xT ? ' xT' : ''}${yT ? ' yT' : ''} ${act}${opts.resid ? ' +resid' : ''}${cv ? ' conv' : ''}`;
  const p = uniformParams(
    gpu,
    'spmm.params',
    [m.rows, m.inDim, B, P, m.codebook?.length ?? 0, 0, cv ? cv.C * cv.H * cv.W : 0, cv?.OW ?? 0, cv ? cv.S * cv.W : 0, cv?.S ?? 0, 0, 0].map(
      (v) => ['u32', v] as ['u32', number],
    ),
  );
  const indexed = m.format !== 'dense';
  const bindings = [p, x, indexed ? w.rowptr : undefined, indexed ? w.cols : undefined, w.codes, m.bits !== 32 ? w.codebook : undefined, w.bias, y];
  if (opts.resid) bindings[11] = opts.resid;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, bindings),
      workgroups: grid(gpu, Math.ceil((m.rows * Math.ceil(B / tb)) / SPMM_WG)),
      owned: [p],
    },
  ];
}

export interface GatherOptions {
  /** Rows gathered. */
  B: number;
  /** Add to y instead of writing it. */
  add?: boolean;
  /** Rows ridx[0] + b (a position table) instead of ridx[b] (tokens). */
  offset?: boolean;
}

/** Dispatch records for y[b, :] (+)= W[r_b, :] (an embedding lookup from a compressed table): ridx u32 (B, or 1 with offset), y (B·inDim) f32; rows beyond W give 0. */
export async function gather(gpu: Gpu, w: GpuMatrix, ridx: Tensor, y: Tensor, opts: GatherOptions): Promise<Dispatch[]> {
  const op = 'spmm.gather';
  const { m } = w;
  positiveInt(op, 'B', opts.B);
  checkArgs(op, { ridx: { t: ridx, dtype: 'u32' }, codes: { t: w.codes }, y: { t: y, dtype: 'f32', out: true } });
  if (ridx.size !== (opts.offset ? 1 : opts.B))
    fail(op, `ridx must hold ${opts.offset ? '1 value (the first row)' : `B = ${opts.B} row indices`}, got ${ridx.size}`);
  if (y.size !== opts.B * m.inDim) fail(op, `y must hold B·inDim = ${opts.B}·${m.inDim} = ${opts.B * m.inDim} values, got ${y.size}`);
  const pipeline = await pipelines(gpu).get('spmm', defines(m, { cbShared: false }), 'gather');
  const label = `spmm.gather ${m.format} ${m.rows}x${m.inDim} b${m.bits} B${opts.B}${opts.add ? ' add' : ''}${opts.offset ? ' offset' : ''}`;
  const p = uniformParams(
    gpu,
    'spmm.gather.params',
    [m.rows, m.inDim, opts.B, opts.add ? 1 : 0, m.codebook?.length ?? 0, opts.offset ? 1 : 0, 0, 0, 0, 0, 0, 0].map(
      (v) => ['u32', v] as ['u32', number],
    ),
  );
  const indexed = m.format !== 'dense';
  const bindings = [
    p,
    undefined,
    indexed ? w.rowptr : undefined,
    indexed ? w.cols : undefined,
    w.codes,
    m.bits !== 32 ? w.codebook : undefined,
    undefined,
    y,
  ];
  bindings[10] = ridx;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, bindings),
      workgroups: grid(gpu, Math.ceil((opts.B * m.inDim) / SPMM_WG)),
      owned: [p],
    },
  ];
}

/** Dispatch records for patches (N·OH·OW, C·KH·KW) of x (N·C·H·W), zero padding; `transposed`: (C·KH·KW, N·OH·OW). */
export async function im2col(gpu: Gpu, x: Tensor, patches: Tensor, g: Im2colGeometry, transposed = false): Promise<Dispatch[]> {
  const op = 'im2col';
  const total = g.N * g.OH * g.OW * g.C * g.KH * g.KW;
  checkArgs(op, { x: { t: x, dtype: 'f32' }, patches: { t: patches, dtype: 'f32', out: true } });
  if (x.size !== g.N * g.C * g.H * g.W) fail(op, `x must hold N·C·H·W = ${g.N * g.C * g.H * g.W} values, got ${x.size}`);
  if (patches.size !== total) fail(op, `patches must hold N·OH·OW·C·KH·KW = ${total} values, got ${patches.size}`);
  const pipeline = await pipelines(gpu).get('spmm', defines(undefined, { xT: transposed }), 'im2col');
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
