// Element-wise kernels for the training loop   (shaders/elementwise.wgsl)
//   relu(x → y):                 y = max(x, 0)
//   reluBackward(y, dy → dx):    dx = dy · (y > 0)      y: the ReLU output (or its input)
//   sigmoid(x → y), tanh(x → y)
//   sigmoidBackward(y, dy → dx): dx = dy · y(1 − y)     y: the sigmoid OUTPUT
//   tanhBackward(y, dy → dx):    dx = dy · (1 − y²)     y: the tanh OUTPUT
//   fill(out, a), scale(x, a → out): out = a·x, axpy(a, x, y): y += a·x, copy(x → out)
//   gelu(x → y):                 y = x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))   (GPT-2's tanh form)
//   geluBackward(x, dy → dx):    dx = dy · gelu'(x)    x: the gelu INPUT
//   add(x, y → out):             out = x + y           (the residual add; out may be x or y)
// All flat over n = numel (operands of any shapes with the same element count, f32). The output
// may be the SAME tensor as an input (in place: e.g. dx over dy, sigmoid over x); an output that
// shares a GPU buffer with an input at another range is refused (WebGPU cannot bind one buffer
// read-only and writable in one dispatch). Returns one record over the vec4 body and, when n is not
// a multiple of max(4, minStorageBufferOffsetAlignment/4), a one-workgroup record for the tail.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { alignedOffset, checkArgs, elementRange, fail, sameRange, vec4Split, type TensorArg } from './args.js';

export const ELEMENTWISE_WG = 256;

type Entry =
  | 'relu'
  | 'relu_backward'
  | 'sigmoid'
  | 'sigmoid_backward'
  | 'tanh_fwd'
  | 'tanh_backward'
  | 'fill'
  | 'scale'
  | 'axpy'
  | 'copy'
  | 'gelu'
  | 'gelu_backward'
  | 'add';

interface Operands {
  /** First input (binding X) with its argument name. */
  x?: [string, Tensor];
  /** Second input (binding Y). */
  y?: [string, Tensor];
  out: [string, Tensor];
  a?: [string, number];
}

async function elementwise(gpu: Gpu, op: string, entry: Entry, o: Operands): Promise<Dispatch[]> {
  const [outName, out] = o.out;
  const ins = [o.x, o.y].filter((v): v is [string, Tensor] => v !== undefined);
  // in place (an input that is `out`) is allowed: the buffer rule is inPlace's below
  checkArgs(op, Object.fromEntries([...ins, o.out].map(([name, t]): [string, TensorArg] => [name, { t, dtype: 'f32' }])));
  const n = out.size;
  for (const [name, t] of ins) {
    if (t.size !== n) fail(op, `${name} must have ${n} elements like ${outName} [${out.shape}], got shape [${t.shape}]`);
  }
  const inPlace = (inp: [string, Tensor] | undefined): boolean => {
    if (!inp) return false;
    if (sameRange(inp[1], out)) return true;
    if (inp[1].buffer === out.buffer) {
      fail(op, `${outName} shares a GPU buffer with ${inp[0]} at another range; pass the same tensor (in place) or separate buffers`);
    }
    return false;
  };
  const ipx = inPlace(o.x),
    ipy = inPlace(o.y);
  let a = 0;
  if (o.a) {
    a = o.a[1];
    if (typeof a !== 'number' || !Number.isFinite(a)) fail(op, `${o.a[0]} must be a finite number, got ${a}`);
  }
  for (const [name, t] of [...ins, o.out]) alignedOffset(op, name, t);
  // vec4 body + scalar tail (< 64 elements), see vec4Split
  const { body, tail } = vec4Split(gpu, n);
  const records: Dispatch[] = [];
  const part = async (vec4: boolean, start: number, count: number): Promise<void> => {
    const pipeline = await pipelines(gpu).get('elementwise', { IN_PLACE_X: ipx, IN_PLACE_Y: ipy, VEC4: vec4, WG: ELEMENTWISE_WG }, entry);
    const items = vec4 ? count / 4 : count;
    const params = uniformParams(gpu, `${op}.params`, [
      ['u32', items],
      ['f32', a],
    ]);
    const label = `${op} ${n}${ipx || ipy ? ' in place' : ''}${vec4 ? '' : ' tail'}`;
    const r = (t: Tensor | undefined, skip: boolean) => (t && !skip ? elementRange(t, start, count) : undefined);
    records.push({
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [params, r(o.x?.[1], ipx), r(o.y?.[1], ipy), r(out, false)]),
      workgroups: grid(gpu, Math.ceil(items / ELEMENTWISE_WG)),
      owned: [params],
    });
  };
  if (body > 0) await part(true, 0, body);
  if (tail > 0) await part(false, body, tail);
  return records;
}

/** y = max(x, 0); y may be x. */
export function relu(gpu: Gpu, x: Tensor, y: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'relu', 'relu', { x: ['x', x], out: ['y', y] });
}

/** dx = dy · (y > 0); dx may be dy or y (in place). */
export function reluBackward(gpu: Gpu, y: Tensor, dy: Tensor, dx: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'reluBackward', 'relu_backward', { x: ['y', y], y: ['dy', dy], out: ['dx', dx] });
}

/** y = 1/(1 + exp(−x)) (stable for large |x|); y may be x. */
export function sigmoid(gpu: Gpu, x: Tensor, y: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'sigmoid', 'sigmoid', { x: ['x', x], out: ['y', y] });
}

/** dx = dy · y · (1 − y) from the sigmoid output y; dx may be dy or y. */
export function sigmoidBackward(gpu: Gpu, y: Tensor, dy: Tensor, dx: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'sigmoidBackward', 'sigmoid_backward', { x: ['y', y], y: ['dy', dy], out: ['dx', dx] });
}

/** y = tanh(x) (stable for large |x|); y may be x. */
export function tanh(gpu: Gpu, x: Tensor, y: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'tanh', 'tanh_fwd', { x: ['x', x], out: ['y', y] });
}

/** dx = dy · (1 − y²) from the tanh output y; dx may be dy or y. */
export function tanhBackward(gpu: Gpu, y: Tensor, dy: Tensor, dx: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'tanhBackward', 'tanh_backward', { x: ['y', y], y: ['dy', dy], out: ['dx', dx] });
}

/** out[:] = value. */
export function fill(gpu: Gpu, out: Tensor, value: number): Promise<Dispatch[]> {
  return elementwise(gpu, 'fill', 'fill', { out: ['out', out], a: ['value', value] });
}

/** out = a · x; out may be x. */
export function scale(gpu: Gpu, x: Tensor, a: number, out: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'scale', 'scale', { x: ['x', x], out: ['out', out], a: ['a', a] });
}

/** y += a · x (y updated in place; x may be y). */
export function axpy(gpu: Gpu, a: number, x: Tensor, y: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'axpy', 'axpy', { x: ['x', x], out: ['y', y], a: ['a', a] });
}

/** out = x. */
export function copy(gpu: Gpu, x: Tensor, out: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'copy', 'copy', { x: ['x', x], out: ['out', out] });
}

/** y = x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's GELU); y may be x. */
export function gelu(gpu: Gpu, x: Tensor, y: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'gelu', 'gelu', { x: ['x', x], out: ['y', y] });
}

/** dx = dy · gelu'(x) from the gelu INPUT x; dx may be dy or x. */
export function geluBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'geluBackward', 'gelu_backward', { x: ['x', x], y: ['dy', dy], out: ['dx', dx] });
}

/** out = x + y; out may be x or y (x += y in place: add(gpu, x, y, x)). */
export function add(gpu: Gpu, x: Tensor, y: Tensor, out: Tensor): Promise<Dispatch[]> {
  return elementwise(gpu, 'add', 'add', { x: ['x', x], y: ['y', y], out: ['out', out] });
}
