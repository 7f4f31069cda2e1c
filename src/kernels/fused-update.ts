// The setup shared by the fused optimizer updates (kernels/sgd-l2.ts, kernels/adamw.ts): their
// operands (n f32 per element row, like w, at aligned offsets; one device; no two operands in one
// buffer; decayEnd in [0, n]) and their records (a vec4 body and a scalar tail, each with its own
// uniforms: items, decayEnd, start).
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkArgs, elementRange, fail, vec4Split, type TensorArg } from './args.js';

/**
 * Checks a fused update's operands: every element row (`rows`, w first; the mask may be absent)
 * holds w's n f32 at an aligned offset; hyper and norm are f32 (their sizes are the caller's);
 * decayEnd (default n) is in [0, n]; all on one device, no two in one buffer. Returns n.
 */
export function checkUpdate(
  op: string,
  rows: Record<string, Tensor | undefined>,
  hyper: Tensor | undefined,
  norm: Tensor | undefined,
  decayEnd: number | undefined,
  sizes: () => void,
): number {
  const n = rows.w?.size as number;
  const args: Record<string, TensorArg> = {};
  for (const [name, t] of Object.entries(rows)) args[name] = { t, dtype: 'f32', size: n, what: 'like w', aligned: true, optional: name === 'mask' };
  const optional = true;
  checkArgs(op, { ...args, hyper: { t: hyper, dtype: 'f32', optional }, norm: { t: norm, dtype: 'f32', optional } }, { distinct: 'all' });
  sizes();
  const end = decayEnd ?? n;
  if (!Number.isInteger(end) || end < 0 || end > n) fail(op, `decayEnd must be an integer in [0, ${n}], got ${end}`);
  return n;
}

/** One fused update's records, as updateRecords builds them. */
export interface FusedUpdate {
  /** The op's name: labels and uniform labels. */
  op: string;
  /** The shader (and its MASK, VEC4, CLIP, WG defines). */
  shader: 'sgd-l2' | 'adamw';
  wg: number;
  n: number;
  decayEnd: number;
  /** Zero u32s after (items, decayEnd, start) in the uniforms. */
  pad: number;
  hyper: Tensor;
  /** The element rows bound after hyper, as ranges of the body or the tail (the mask last, undefined when absent). */
  rows: (Tensor | undefined)[];
  mask?: Tensor;
  norm?: Tensor;
}

/**
 * Dispatch records for one fused update: one record updates the vec4 body; a second, one-workgroup
 * record the last elements when n is not a multiple of max(4, minStorageBufferOffsetAlignment/4).
 */
export async function updateRecords(gpu: Gpu, u: FusedUpdate): Promise<Dispatch[]> {
  const { body, tail } = vec4Split(gpu, u.n);
  const out: Dispatch[] = [];
  const part = async (vec4: boolean, start: number, count: number): Promise<void> => {
    const pipeline = await pipelines(gpu).get(u.shader, { MASK: !!u.mask, VEC4: vec4, CLIP: !!u.norm, WG: u.wg });
    const items = vec4 ? count / 4 : count;
    const uni = uniformParams(gpu, `${u.op}.params`, [
      ['u32', items],
      ['u32', u.decayEnd],
      ['u32', start],
      ...Array.from({ length: u.pad }, (): ['u32', number] => ['u32', 0]),
    ]);
    const label = `${u.op} ${u.n}${u.mask ? ' masked' : ''}${u.norm ? ' clipped' : ''}${vec4 ? '' : ' tail'}`;
    const r = (t: Tensor | undefined) => (t ? elementRange(t, start, count) : undefined);
    out.push({
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [uni, u.hyper, ...u.rows.map(r), u.norm]),
      workgroups: grid(gpu, Math.ceil(items / u.wg)),
      owned: [uni],
    });
  };
  if (body > 0) await part(true, 0, body);
  if (tail > 0) await part(false, body, tail);
  return out;
}
