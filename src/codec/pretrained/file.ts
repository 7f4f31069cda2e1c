// The bytemlp model <-> a .slim.safetensors written by slimgpu's own compressed format (src/io/format:
// pruned index + codebook + Huffman). The file's ModelSpec is a parameter layout (the forward pass is
// bytemlp.ts's, not slimgpu's dense graph): 'emb' (256 → D), 'l1' (CTX·D → H), 'l2' (H → H), 'l3'
// (H → 256), every weight stored as its integer level (the codebook holds the levels used; level 0
// is pruned), biases as integer-valued f32 (|b| ≤ 2^24, exact). The scales are in the spec's name.
import { decodeCompressed, serializeCompressed } from '../../io/format/index.js';
import type { ModelSpec } from '../../nn/model.js';
import type { SharedLayer, WeightSharing } from '../../compress/sharing.js';
import { codecFail } from '../errors.js';
import type { ByteMlpModel } from './bytemlp.js';
import { isPrimedFile, readPrimedFile } from './primed.js';

const NAME = /^bytemlp-v1 ctx=(\d+) dim=(\d+) hidden=(\d+) sh=(\d+) emb=(\d+) l1=(\d+) l2=(\d+) l3=(\d+)$/;

export function byteMlpSpec(m: ByteMlpModel): ModelSpec {
  const s = m.shifts;
  return {
    name: `bytemlp-v1 ctx=${m.ctx} dim=${m.dim} hidden=${m.hidden} sh=${m.sh} emb=${s.emb} l1=${s.l1} l2=${s.l2} l3=${s.l3}`,
    input: [256],
    task: 'classification',
    loss: 'softmax-ce',
    layers: [
      { kind: 'dense', units: m.dim, name: 'emb', inputs: [-1] },
      { kind: 'dense', units: m.hidden, name: 'l1', inputs: [-1] },
      { kind: 'relu', name: 'relu1' },
      { kind: 'dense', units: m.hidden, name: 'l2' },
      { kind: 'relu', name: 'relu2' },
      { kind: 'add', name: 'res', inputs: [2, 4] },
      { kind: 'dense', units: 256, name: 'l3' },
    ],
  };
}

/** (rows, cols) out-major → (cols, rows) in-major (the format's dense layout), as floats. */
function transpose(w: Int32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

function untranspose(t: Float32Array, rows: number, cols: number): Int32Array {
  const w = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = t[c * rows + r]!;
  return w;
}

function share(layer: string, values: Float32Array, shape: number[]): { layer: SharedLayer; mask: Float32Array } {
  const levels = [...new Set(Array.from(values).filter((v) => v !== 0))].sort((a, b) => a - b);
  const index = new Map(levels.map((v, i) => [v, i]));
  const mask = new Float32Array(values.length);
  const assignments: number[] = [];
  const counts = new Uint32Array(256);
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    mask[i] = 1;
    const a = index.get(values[i]!)!;
    assignments.push(a);
    counts[a]!++;
  }
  const codebook = new Float32Array(256);
  codebook.set(levels);
  return {
    layer: {
      layer,
      param: `${layer}.weight`,
      shape,
      bits: 8,
      codebook,
      assignments: Uint8Array.from(assignments),
      kept: assignments.length,
      params: values.length,
      counts,
    },
    mask,
  };
}

/** The model as .slim.safetensors bytes (pruned zero levels, 8-bit codebooks of the levels, Huffman). */
export function encodeByteMlp(m: ByteMlpModel): Uint8Array {
  const IN = m.ctx * m.dim;
  if (IN !== 256) codecFail(`bytemlp: ctx·dim must be 256 for the file layout, got ${IN}`);
  const spec = byteMlpSpec(m);
  const weights: [string, Float32Array, number[]][] = [
    ['emb', Float32Array.from(m.emb), [256, m.dim]],
    ['l1', transpose(m.w1, m.hidden, IN), [IN, m.hidden]],
    ['l2', transpose(m.w2, m.hidden, m.hidden), [m.hidden, m.hidden]],
    ['l3', transpose(m.w3, 256, m.hidden), [m.hidden, 256]],
  ];
  const values = new Map<string, Float32Array>();
  const masks = new Map<string, Float32Array>();
  const sharing: WeightSharing = { layers: {}, init: 'linear', iterations: 0 };
  for (const [name, w, shape] of weights) {
    values.set(`${name}.weight`, w);
    const s = share(name, w, shape);
    masks.set(`${name}.weight`, s.mask);
    sharing.layers[name] = s.layer;
  }
  values.set('emb.bias', new Float32Array(m.dim));
  values.set('l1.bias', Float32Array.from(m.b1));
  values.set('l2.bias', Float32Array.from(m.b2));
  values.set('l3.bias', Float32Array.from(m.b3));
  return serializeCompressed({ spec, values, masks, sharing });
}

function ints(v: Float32Array | undefined, what: string): Float32Array {
  if (!v) codecFail(`bytemlp: the model file has no '${what}'`);
  for (const x of v!)
    if (!Number.isInteger(x) || Math.abs(x) > 2 ** 24) codecFail(`bytemlp: '${what}' holds a non-integer or too large value (${x})`);
  return v!;
}

/** The model in a .slim.safetensors file, or in a primed model file (primed.ts); a CodecError when it is neither. */
export function decodeByteMlp(bytes: Uint8Array, name = 'model'): ByteMlpModel {
  if (isPrimedFile(bytes)) bytes = readPrimedFile(bytes, name).model;
  const d = decodeCompressed(bytes, { name });
  const g = NAME.exec(d.spec.name);
  if (!g) codecFail(`${name}: not a bytemlp model (spec '${d.spec.name}')`);
  const [ctx, dim, hidden, sh, emb, l1, l2, l3] = g!.slice(1).map(Number) as number[];
  const IN = ctx! * dim!,
    H = hidden!;
  const v = (k: string) => ints(d.values.get(k), k);
  for (const k of ['emb.weight', 'l1.weight', 'l2.weight', 'l3.weight']) {
    for (const x of v(k)) if (Math.abs(x) > 127) codecFail(`${name}: '${k}' holds level ${x} outside [-127, 127]`);
  }
  return {
    ctx: ctx!,
    dim: dim!,
    hidden: H,
    sh: sh!,
    shifts: { emb: emb!, l1: l1!, l2: l2!, l3: l3! },
    emb: Int32Array.from(v('emb.weight')),
    w1: untranspose(v('l1.weight'), H, IN),
    b1: Int32Array.from(v('l1.bias')),
    w2: untranspose(v('l2.weight'), H, H),
    b2: Int32Array.from(v('l2.bias')),
    w3: untranspose(v('l3.weight'), 256, H),
    b3: Int32Array.from(v('l3.bias')),
  };
}

/** A model from pretrain.py's int-model.json (levels and shifts). */
export function byteMlpFromJson(j: Record<string, unknown>): ByteMlpModel {
  const a = (k: string) => Int32Array.from(j[k] as number[]);
  return {
    ctx: j.ctx as number,
    dim: j.dim as number,
    hidden: j.hidden as number,
    sh: j.sh as number,
    shifts: j.shifts as ByteMlpModel['shifts'],
    emb: a('emb'),
    w1: a('w1'),
    b1: a('b1'),
    w2: a('w2'),
    b2: a('b2'),
    w3: a('w3'),
    b3: a('b3'),
  };
}
