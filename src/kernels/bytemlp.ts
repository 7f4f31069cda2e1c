// Integer forward pass of the shipped byte model   (shaders/bytemlp.wgsl; CPU reference src/reference/bytemlp.ts)
//   rows (R, CTX) u32 bytes (newest first) → out (R, 256) i32 logits in 1/256 nat, bit-identical to
//   the reference on every device (i32/u32 arithmetic only). One workgroup per BYTEMLP_ROWS rows.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { forwardShifts, layer1Tables, BYTEMLP_MAX_HIDDEN, type ByteMlpModel } from '../reference/bytemlp.js';
import { checkArgs, fail } from './args.js';

export const BYTEMLP_WG = 64;
/** Rows per workgroup (workgroup memory: ROWS·256 i32 = 16 KiB at 16, the WebGPU minimum limit). */
export const BYTEMLP_ROWS = 16;

/** The model's integer weights on the GPU (layer 1 as per-position tables). */
export class ByteMlpWeights {
  private constructor(
    readonly gpu: Gpu,
    readonly ctx: number,
    readonly hidden: number,
    readonly shifts: { r1: number; s2: number; r3: number },
    readonly tables: Tensor<'i32'>,
    readonly w2: Tensor<'i32'>,
    readonly w3: Tensor<'i32'>,
    readonly bias: Tensor<'i32'>,
  ) {}

  static upload(gpu: Gpu, m: ByteMlpModel, tables: Int32Array = layer1Tables(m)): ByteMlpWeights {
    const H = m.hidden;
    if (H > BYTEMLP_MAX_HIDDEN) fail('bytemlp', `hidden must be ≤ ${BYTEMLP_MAX_HIDDEN}, got ${H}`);
    const i32 = { dtype: 'i32' as const };
    const bias = new Int32Array(2 * H + 256);
    bias.set(m.b1, 0);
    bias.set(m.b2, H);
    bias.set(m.b3, 2 * H);
    return new ByteMlpWeights(
      gpu,
      m.ctx,
      H,
      forwardShifts(m),
      createTensor(gpu, [tables.length], tables, { ...i32, label: 'bytemlp.tables' }),
      createTensor(gpu, [H * H], m.w2, { ...i32, label: 'bytemlp.w2' }),
      createTensor(gpu, [256 * H], m.w3, { ...i32, label: 'bytemlp.w3' }),
      createTensor(gpu, [bias.length], bias, { ...i32, label: 'bytemlp.bias' }),
    );
  }

  dispose(): void {
    for (const t of [this.tables, this.w2, this.w3, this.bias]) t.dispose();
  }
}

/** Dispatch record: out[r, :] = integer logits of rows[r, :] (rows (R, CTX) u32, out (≥ R, 256) i32). */
export async function byteMlpForward(gpu: Gpu, w: ByteMlpWeights, rows: Tensor, out: Tensor, R: number): Promise<Dispatch[]> {
  const op = 'bytemlp';
  checkArgs(op, {
    rows: { t: rows, rank: 2, dtype: 'u32', what: '(R, CTX)' },
    tables: { t: w.tables, dtype: 'i32' },
    w2: { t: w.w2, dtype: 'i32' },
    w3: { t: w.w3, dtype: 'i32' },
    bias: { t: w.bias, dtype: 'i32' },
    out: { t: out, dtype: 'i32', out: true },
  });
  if (rows.shape[1] !== w.ctx) fail(op, `rows must have ${w.ctx} columns (CTX), got [${rows.shape}]`);
  if (!Number.isInteger(R) || R < 1 || R > rows.shape[0]! || out.size < R * 256)
    fail(op, `R = ${R} rows do not fit rows [${rows.shape}] and out [${out.shape}]`);
  const pipeline = await pipelines(gpu).get(
    'bytemlp',
    { WG: BYTEMLP_WG, ROWS: BYTEMLP_ROWS, HROWS: BYTEMLP_ROWS * 256, JROWS: Math.ceil(256 / BYTEMLP_WG) * BYTEMLP_ROWS },
    'forward',
  );
  const s = w.shifts;
  const u = uniformParams(gpu, 'bytemlp.params', [
    ['u32', R],
    ['u32', w.ctx],
    ['u32', w.hidden],
    ['u32', s.s2],
    ['i32', s.r1],
    ['i32', s.r3],
  ]);
  const label = `bytemlp R=${R} H=${w.hidden}`;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [u, rows, w.tables, w.w2, w.w3, w.bias, out]),
      workgroups: grid(gpu, Math.ceil(R / BYTEMLP_ROWS)),
      owned: [u],
    },
  ];
}
