// The compressed model file, `*.slim.safetensors`: a safetensors container whose tensors are all U8
// byte streams and whose __metadata__ describes the model, so a loader can rebuild it exactly.
//
// __metadata__ (string values):
//   "slimgpu.compressed": "1"                 format version
//   "model":  JSON ModelSpec                  (src/nn/model.ts) — layer shapes follow from it
//   "params": JSON array, one entry per parameter of the model (every weight and bias once):
//     prunable weights  { "name": "dense1.weight", "kind": "sparse", "shape": [784, 300],
//                         "kept": 18816,                  positions kept (mask ≠ 0)
//                         "index": "full" | "bitmask" | "relative",
//                         "indexBits": r,                 relative only (else 0): bits per entry
//                         "indexEntries": E,              relative only (else 0): entries incl. fillers
//                         "bits": b,                      bits per kept value: 1..16 = codebook
//                                                         index, 32 = the value as f32
//                         "codebook": K }                 codebook entries (0 when bits = 32)
//     other parameters  { "name": "dense1.bias", "kind": "f32", "shape": [300] }
//
// Tensors (dtype U8, 1-D; bit streams are packed LSB first, the unused high bits of the last byte
// are 0):
//   "<name>.index"     the sparse index of the kept positions (row-major order):
//                      full:     0 bytes (every position is kept)
//                      bitmask:  n bits, bit i = position i is kept
//                      relative: E entries of r bits (Deep Compression's relative indices): an
//                                entry e ≥ 1 is the gap to the next kept position (from position
//                                −1 for the first), e = 0 is a filler that advances by 2^r − 1
//                                without a kept position (gaps larger than 2^r − 1)
//                      per layer the smallest is written (r chosen in 1..16 to minimise the size)
//   "<name>.values"    kept values in position order: b-bit codebook indices, or f32 little-endian
//   "<name>.codebook"  K f32 little-endian (when b ≤ 16)
//   "<name>"           kind f32: the values as f32 little-endian (biases)
// The file size is exactly 8 + header + Σ tensor bytes (safetensors allows no holes or trailing
// bytes); compressedSizes() splits the tensor bytes per layer.
// The decoder treats the file as hostile: every length, count, index and value is checked, and a
// problem throws a CompressedModelError (or a SafetensorsError for the container) naming it.
import type { Gpu } from '../gpu/device.js';
import type { WeightSharing } from '../compress/sharing.js';
import { modelParams, resolveModel, type LayerSpec, type ModelSpec, type ResolvedLayer } from '../nn/model.js';
import { Network } from '../nn/trainer.js';
import { readFileBytes, writeFileAtomic } from './files.js';
import { parseSafetensors, parseSafetensorsHeader, serializeSafetensorsChunks, SafetensorsError, type TensorMap } from './safetensors.js';

export const COMPRESSED_FORMAT_KEY = 'slimgpu.compressed';
export const COMPRESSED_VERSION = '1';
export const COMPRESSED_EXTENSION = '.slim.safetensors';
/** Refuse models with more parameters than this unless told otherwise (a hostile spec could ask for any size). */
export const DEFAULT_MAX_PARAMS = 100_000_000;

export class CompressedModelError extends SafetensorsError {
  constructor(message: string) {
    super(message);
    this.name = 'CompressedModelError';
  }
}

export type IndexEncoding = 'full' | 'bitmask' | 'relative';

export interface SparseParamEntry {
  name: string;
  kind: 'sparse';
  shape: number[];
  kept: number;
  index: IndexEncoding;
  indexBits: number;
  indexEntries: number;
  bits: number;
  codebook: number;
}

export interface DenseParamEntry {
  name: string;
  kind: 'f32';
  shape: number[];
}

export type ParamEntry = SparseParamEntry | DenseParamEntry;

// ---- bit streams --------------------------------------------------------------------------------

/** `count` values of `width` bits (1..24) packed LSB first into ⌈count·width/8⌉ bytes. */
export function packBits(values: ArrayLike<number>, width: number, count = values.length): Uint8Array {
  const out = new Uint8Array(Math.ceil((count * width) / 8));
  let acc = 0, nacc = 0, o = 0;
  const lim = 2 ** width;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v < lim) || !Number.isInteger(v)) throw new CompressedModelError(`slimgpu.export: internal: value ${v} does not fit in ${width} bits`);
    acc = (acc | (v << nacc)) >>> 0;
    nacc += width;
    while (nacc >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      nacc -= 8;
    }
  }
  if (nacc > 0) out[o++] = acc & 0xff;
  return out;
}

/** The inverse of packBits (width 1..32); checks the byte length and that the padding bits are 0. */
export function unpackBits(bytes: Uint8Array, count: number, width: number, what: string): Uint32Array {
  const need = Math.ceil((count * width) / 8);
  if (bytes.length !== need) throw new CompressedModelError(`${what}: ${count} values of ${width} bits need ${need} bytes, the tensor holds ${bytes.length}`);
  const out = new Uint32Array(count);
  const base = 2 ** width;
  // acc holds < width + 8 bits (≤ 40): exact in a double
  let acc = 0, nacc = 0, o = 0;
  for (let i = 0; i < count; i++) {
    while (nacc < width) {
      acc += bytes[o++]! * 2 ** nacc;
      nacc += 8;
    }
    out[i] = acc % base;
    acc = Math.floor(acc / base);
    nacc -= width;
  }
  if (acc !== 0) throw new CompressedModelError(`${what}: the padding bits after the last value are not 0 (corrupt, or not written by slimgpu)`);
  return out;
}

// ---- sparse index encodings ------------------------------------------------------------------------

/** Entries of the relative encoding of `positions` with r-bit entries (fillers included). */
export function relativeEntries(positions: Uint32Array, r: number): number {
  const M = 2 ** r - 1;
  let prev = -1, e = 0;
  for (let i = 0; i < positions.length; i++) {
    const g = positions[i]! - prev;
    e += 1 + Math.floor((g - 1) / M);
    prev = positions[i]!;
  }
  return e;
}

export function encodeRelative(positions: Uint32Array, r: number): { bytes: Uint8Array; entries: number } {
  const M = 2 ** r - 1;
  const entries = relativeEntries(positions, r);
  const vals = new Uint32Array(entries);
  let prev = -1, j = 0;
  for (let i = 0; i < positions.length; i++) {
    let g = positions[i]! - prev;
    while (g > M) { vals[j++] = 0; g -= M; }
    vals[j++] = g;
    prev = positions[i]!;
  }
  return { bytes: packBits(vals, r), entries };
}

export function decodeRelative(bytes: Uint8Array, entries: number, r: number, n: number, kept: number, what: string): Uint32Array {
  const vals = unpackBits(bytes, entries, r, what);
  const M = 2 ** r - 1;
  const out = new Uint32Array(kept);
  let pos = -1, k = 0;
  for (let j = 0; j < entries; j++) {
    if (k === kept) throw new CompressedModelError(`${what}: relative index entry ${j} follows the last of the ${kept} kept positions (entries ${entries})`);
    const e = vals[j]!;
    if (e === 0) {
      pos += M;
      if (pos >= n - 1) throw new CompressedModelError(`${what}: relative index filler entry ${j} moves to position ${pos}, past the last position ${n - 1}`);
      continue;
    }
    pos += e;
    if (pos >= n) throw new CompressedModelError(`${what}: relative index entry ${j} gives position ${pos}, beyond the ${n} weights`);
    out[k++] = pos;
  }
  if (k !== kept) throw new CompressedModelError(`${what}: the relative index decodes to ${k} kept positions, the metadata says ${kept}`);
  return out;
}

export function encodeBitmask(positions: Uint32Array, n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  for (const p of positions) out[p >> 3]! |= 1 << (p & 7);
  return out;
}

export function decodeBitmask(bytes: Uint8Array, n: number, kept: number, what: string): Uint32Array {
  if (bytes.length !== Math.ceil(n / 8)) throw new CompressedModelError(`${what}: a bitmask of ${n} positions needs ${Math.ceil(n / 8)} bytes, the tensor holds ${bytes.length}`);
  const out = new Uint32Array(kept);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (bytes[i >> 3]! & (1 << (i & 7))) {
      if (k === kept) throw new CompressedModelError(`${what}: the bitmask marks more than the ${kept} kept positions of the metadata`);
      out[k++] = i;
    }
  }
  if (n % 8 !== 0 && bytes[bytes.length - 1]! >> (n % 8)) throw new CompressedModelError(`${what}: the bitmask's padding bits after position ${n - 1} are not 0`);
  if (k !== kept) throw new CompressedModelError(`${what}: the bitmask marks ${k} kept positions, the metadata says ${kept}`);
  return out;
}

/** The smallest index for `positions` of n: full (all kept), bitmask, or relative with the best r. */
export function chooseIndex(positions: Uint32Array, n: number): { index: IndexEncoding; bits: number; entries: number; bytes: Uint8Array } {
  if (positions.length === n) return { index: 'full', bits: 0, entries: 0, bytes: new Uint8Array(0) };
  let bestR = 0, bestSize = Infinity, bestE = 0;
  for (let r = 1; r <= 16; r++) {
    const e = relativeEntries(positions, r);
    const size = Math.ceil((e * r) / 8);
    if (size < bestSize) { bestSize = size; bestR = r; bestE = e; }
  }
  if (Math.ceil(n / 8) <= bestSize) return { index: 'bitmask', bits: 0, entries: 0, bytes: encodeBitmask(positions, n) };
  const rel = encodeRelative(positions, bestR);
  if (rel.entries !== bestE) throw new CompressedModelError('slimgpu.export: internal: relative index entry count mismatch');
  return { index: 'relative', bits: bestR, entries: rel.entries, bytes: rel.bytes };
}

// ---- encoding -----------------------------------------------------------------------------------

export interface CompressInput {
  spec: ModelSpec;
  /** Every parameter's values by name ('dense1.weight', 'dense1.bias', ...). */
  values: Map<string, Float32Array>;
  /** Masks of the weights (0 = pruned); a missing mask keeps every weight. */
  masks?: Map<string, Float32Array>;
  /** Codebooks and assignments of shared layers (shareWeights / fineTuneCentroids). */
  sharing?: WeightSharing;
}

function f32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  return out;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The compressed file as chunks (header, then tensor bytes); pure (no GPU). */
export function encodeCompressed(input: CompressInput): Uint8Array[] {
  const fail = (msg: string): never => { throw new CompressedModelError(`slimgpu.export: ${msg}`); };
  if (!input || typeof input !== 'object') fail('input must be { spec, values, masks?, sharing? }');
  let layers: ResolvedLayer[];
  try {
    layers = resolveModel(input.spec);
  } catch (e) {
    return fail(`invalid model: ${(e as Error).message}`);
  }
  const params = modelParams(layers);
  const shared = input.sharing?.layers ?? {};
  for (const k of Object.keys(shared)) {
    if (!params.some((p) => p.prunable && p.layer === k)) fail(`the sharing names layer '${k}', which is not a layer with weights of model '${input.spec.name}'`);
  }
  const tensors: TensorMap = {};
  const entries: ParamEntry[] = [];
  for (const p of params) {
    const v = input.values.get(p.name);
    const n = numel(p.shape);
    if (!v) fail(`no values for parameter '${p.name}'`);
    if (v!.length !== n) fail(`parameter '${p.name}' has ${v!.length} values, its shape [${p.shape}] needs ${n}`);
    if (!p.prunable) {
      for (let i = 0; i < n; i++) if (!Number.isFinite(v![i]!)) fail(`parameter '${p.name}' holds a non-finite value (${v![i]}) at ${i}`);
      tensors[p.name] = { dtype: 'U8', shape: [n * 4], data: f32Bytes(v!) };
      entries.push({ name: p.name, kind: 'f32', shape: p.shape });
      continue;
    }
    const m = input.masks?.get(p.name);
    if (m && m.length !== n) fail(`the mask of '${p.name}' has ${m.length} values, expected ${n}`);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (m && m[i] === 0) {
        if (v![i] !== 0) fail(`weight ${i} of '${p.name}' is pruned (mask 0) but holds ${v![i]}; the export keeps pruned weights at exactly 0`);
      } else {
        if (!Number.isFinite(v![i]!)) fail(`parameter '${p.name}' holds a non-finite value (${v![i]}) at ${i}`);
        kept++;
      }
    }
    const positions = new Uint32Array(kept);
    kept = 0;
    for (let i = 0; i < n; i++) if (!m || m[i] !== 0) positions[kept++] = i;
    const idx = chooseIndex(positions, n);
    tensors[`${p.name}.index`] = { dtype: 'U8', shape: [idx.bytes.length], data: idx.bytes };
    const s = shared[p.layer];
    let bits = 32, K = 0;
    if (s) {
      bits = s.bits;
      K = s.codebook?.length ?? 0;
      if (!Number.isInteger(bits) || bits < 1 || bits > 16) fail(`layer '${p.layer}': sharing bits must be in [1, 16], got ${bits}`);
      if (!(s.codebook instanceof Float32Array) || K < 1 || K > 2 ** bits) fail(`layer '${p.layer}': the codebook must be a Float32Array of 1..2^${bits} values, got ${K}`);
      if (!s.assignments || s.assignments.length !== kept) {
        fail(`layer '${p.layer}' keeps ${kept} weights but the sharing has ${s.assignments?.length} assignments (stale sharing: the mask changed since shareWeights)`);
      }
      const cb = new Uint32Array(s.codebook.buffer, s.codebook.byteOffset, K);
      const wb = new Uint32Array(v!.buffer, v!.byteOffset, n);
      for (let j = 0; j < K; j++) if (!Number.isFinite(s.codebook[j]!)) fail(`layer '${p.layer}': codebook entry ${j} is not finite (${s.codebook[j]})`);
      for (let j = 0; j < kept; j++) {
        const a = s.assignments[j]!;
        if (a >= K) fail(`layer '${p.layer}': assignment ${j} is ${a}, beyond the ${K} codebook entries`);
        if (wb[positions[j]!] !== cb[a]) {
          fail(`layer '${p.layer}': weight ${positions[j]} is ${v![positions[j]!]}, not its codebook value ${s.codebook[a]} (entry ${a}); ` +
            'the weights changed after shareWeights — pass the sharing returned by fineTuneCentroids, or share again');
        }
      }
      tensors[`${p.name}.values`] = { dtype: 'U8', shape: [Math.ceil((kept * bits) / 8)], data: packBits(s.assignments, bits, kept) };
      tensors[`${p.name}.codebook`] = { dtype: 'U8', shape: [K * 4], data: f32Bytes(s.codebook.subarray(0, K)) };
    } else {
      const kv = new Float32Array(kept);
      for (let j = 0; j < kept; j++) kv[j] = v![positions[j]!]!;
      tensors[`${p.name}.values`] = { dtype: 'U8', shape: [kept * 4], data: f32Bytes(kv) };
    }
    entries.push({ name: p.name, kind: 'sparse', shape: p.shape, kept, index: idx.index, indexBits: idx.bits, indexEntries: idx.entries, bits, codebook: K });
  }
  const metadata = {
    [COMPRESSED_FORMAT_KEY]: COMPRESSED_VERSION,
    model: JSON.stringify(input.spec),
    params: JSON.stringify(entries),
  };
  return serializeSafetensorsChunks(tensors, metadata);
}

/** The compressed file in one buffer (pure). */
export function serializeCompressed(input: CompressInput): Uint8Array {
  const chunks = encodeCompressed(input);
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.byteLength; }
  return out;
}

async function networkInput(net: Network, sharing?: WeightSharing): Promise<CompressInput> {
  const [values, masks] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
  for (const v of net.arena.views.values()) if (!v.prunable) masks.delete(v.name);
  return { spec: net.spec, values, masks, sharing };
}

/**
 * The network as a compressed model file: sparse index + codebook indices and codebook for the
 * layers in `sharing`, sparse index + f32 kept values for the others, f32 biases.
 */
export async function exportCompressed(net: Network, sharing?: WeightSharing): Promise<Uint8Array> {
  return serializeCompressed(await networkInput(net, sharing));
}

/** Writes the compressed model file atomically (Node); returns its size in bytes. */
export async function writeCompressed(path: string, net: Network, sharing?: WeightSharing): Promise<number> {
  const chunks = encodeCompressed(await networkInput(net, sharing));
  await writeFileAtomic(path, chunks);
  return chunks.reduce((s, c) => s + c.byteLength, 0);
}

// ---- decoding -----------------------------------------------------------------------------------

export interface DecodeOptions {
  /** Named in error messages (e.g. the file path). */
  name?: string;
  /** Refuse models with more parameters (default DEFAULT_MAX_PARAMS). */
  maxParams?: number;
}

interface Structure {
  spec: ModelSpec;
  layers: ResolvedLayer[];
  params: { entry: ParamEntry; layer: string; tensors: string[] }[];
}

const LOSSES = ['softmax-ce', 'mse'];
const TASKS = ['classification', 'autoencoder', 'regression', 'language'];
const LAYER_KEYS: Record<string, string[]> = {
  dense: ['units'], conv2d: ['filters', 'kernel', 'stride', 'padding'], maxPool2d: ['size', 'stride'], relu: [], sigmoid: [], tanh: [], flatten: [],
  embedding: ['vocab', 'dim'], positions: [], layerNorm: [], attention: ['heads'], gelu: [], add: [], tiedHead: ['tie'],
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSpec(v: unknown, fail: (m: string) => never): ModelSpec {
  if (!isObj(v)) fail('"model" must be a JSON object (a ModelSpec)');
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string') fail('"model".name must be a string');
  if (!Array.isArray(o.input) || o.input.length === 0 || o.input.some((d) => !Number.isSafeInteger(d) || (d as number) < 1)) fail(`"model".input must be an array of positive integers, got ${JSON.stringify(o.input)}`);
  if (!Array.isArray(o.layers)) fail('"model".layers must be an array');
  (o.layers as unknown[]).forEach((l, i) => {
    if (!isObj(l) || typeof l.kind !== 'string' || !Object.prototype.hasOwnProperty.call(LAYER_KEYS, l.kind)) {
      fail(`"model".layers[${i}] must be an object with a known kind (${Object.keys(LAYER_KEYS).join(', ')}), got ${JSON.stringify(l)?.slice(0, 80)}`);
    }
    const ll = l as Record<string, unknown>;
    for (const [k, x] of Object.entries(ll)) {
      if (k === 'kind') continue;
      if (k === 'name') { if (typeof x !== 'string' || x.length > 64) fail(`"model".layers[${i}].name must be a string of at most 64 characters`); continue; }
      if (k === 'inputs') { if (!Array.isArray(x) || x.length > 2 || x.some((v) => !Number.isSafeInteger(v))) fail(`"model".layers[${i}].inputs must be an array of at most 2 integers`); continue; }
      if (!LAYER_KEYS[ll.kind as string]!.includes(k)) fail(`"model".layers[${i}] (${ll.kind}) has an unknown field "${k}"`);
      if (!Number.isSafeInteger(x)) fail(`"model".layers[${i}].${k} must be an integer, got ${JSON.stringify(x)}`);
    }
  });
  if (!LOSSES.includes(o.loss as string)) fail(`"model".loss must be one of ${LOSSES.join(', ')}, got ${JSON.stringify(o.loss)}`);
  if (!TASKS.includes(o.task as string)) fail(`"model".task must be one of ${TASKS.join(', ')}, got ${JSON.stringify(o.task)}`);
  return { name: o.name as string, input: [...(o.input as number[])], layers: (o.layers as LayerSpec[]).map((l) => ({ ...l, ...(l.inputs ? { inputs: [...l.inputs] } : {}) })), loss: o.loss as ModelSpec['loss'], task: o.task as ModelSpec['task'] };
}

const SPARSE_KEYS = ['name', 'kind', 'shape', 'kept', 'index', 'indexBits', 'indexEntries', 'bits', 'codebook'];
const DENSE_KEYS = ['name', 'kind', 'shape'];

function readStructure(metadata: Record<string, string>, tensorBytes: Map<string, number>, opts: DecodeOptions): Structure {
  const where = opts.name ? `'${opts.name}'` : 'compressed model';
  const fail = (msg: string): never => { throw new CompressedModelError(`slimgpu.loadCompressed: ${where}: ${msg}`); };
  const version = metadata[COMPRESSED_FORMAT_KEY];
  if (version === undefined) fail(`not a slimgpu compressed model: __metadata__ has no "${COMPRESSED_FORMAT_KEY}" key`);
  if (version !== COMPRESSED_VERSION) fail(`compressed format version ${JSON.stringify(version)} is not supported (this build reads version ${COMPRESSED_VERSION})`);
  const json = (k: string): unknown => {
    if (metadata[k] === undefined) fail(`__metadata__ lacks the required key "${k}"`);
    try {
      return JSON.parse(metadata[k]!);
    } catch (e) {
      return fail(`__metadata__ "${k}" is not valid JSON (${(e as Error).message})`);
    }
  };
  const spec = checkSpec(json('model'), fail);
  let layers: ResolvedLayer[] = [];
  try {
    layers = resolveModel(spec);
  } catch (e) {
    fail(`the model cannot be built: ${(e as Error).message}`);
  }
  const expected = modelParams(layers);
  const total = expected.reduce((s, p) => s + numel(p.shape), 0);
  const maxParams = opts.maxParams ?? DEFAULT_MAX_PARAMS;
  if (!(total <= maxParams)) fail(`the model has ${total} parameters, more than the limit of ${maxParams} (maxParams)`);
  const list = json('params');
  if (!Array.isArray(list)) fail('__metadata__ "params" must be a JSON array');
  const byName = new Map<string, ParamEntry>();
  (list as unknown[]).forEach((e, i) => {
    const at = `"params"[${i}]`;
    if (!isObj(e)) fail(`${at} must be an object`);
    const o = e as Record<string, unknown>;
    if (typeof o.name !== 'string') fail(`${at}.name must be a string`);
    const name = o.name as string;
    if (byName.has(name)) fail(`parameter '${name}' is described twice in "params"`);
    const p = expected.find((x) => x.name === name);
    if (!p) fail(`${at} describes '${name}', which is not a parameter of model '${spec.name}' (parameters: ${expected.map((x) => x.name).join(', ')})`);
    const keys = o.kind === 'sparse' ? SPARSE_KEYS : o.kind === 'f32' ? DENSE_KEYS : fail(`${at} ('${name}'): kind must be "sparse" or "f32", got ${JSON.stringify(o.kind)}`);
    if ((o.kind === 'sparse') !== p!.prunable) fail(`${at} ('${name}'): kind must be "${p!.prunable ? 'sparse' : 'f32'}" for this parameter, got "${o.kind}"`);
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${at} ('${name}') has an unknown field "${k}"`);
    for (const k of keys) if (!(k in o)) fail(`${at} ('${name}') lacks the field "${k}"`);
    if (!Array.isArray(o.shape) || o.shape.length !== p!.shape.length || o.shape.some((d, j) => d !== p!.shape[j])) {
      fail(`${at} ('${name}'): shape must be [${p!.shape}] for this model, got ${JSON.stringify(o.shape)}`);
    }
    const n = numel(p!.shape);
    const int = (k: string, lo: number, hi: number): number => {
      const x = o[k];
      if (!Number.isSafeInteger(x) || (x as number) < lo || (x as number) > hi) fail(`${at} ('${name}'): ${k} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(x)}`);
      return x as number;
    };
    if (o.kind === 'f32') {
      byName.set(name, { name, kind: 'f32', shape: p!.shape });
      return;
    }
    const kept = int('kept', 0, n);
    const index = o.index as IndexEncoding;
    if (index !== 'full' && index !== 'bitmask' && index !== 'relative') fail(`${at} ('${name}'): index must be "full", "bitmask" or "relative", got ${JSON.stringify(o.index)}`);
    const rel = index === 'relative';
    const indexBits = rel ? int('indexBits', 1, 24) : int('indexBits', 0, 0);
    const indexEntries = rel ? int('indexEntries', kept, Number.MAX_SAFE_INTEGER) : int('indexEntries', 0, 0);
    if (index === 'full' && kept !== n) fail(`${at} ('${name}'): index "full" means all ${n} weights are kept, but kept is ${kept}`);
    const bits = o.bits === 32 ? 32 : int('bits', 1, 16);
    const codebook = bits === 32 ? int('codebook', 0, 0) : int('codebook', 1, 2 ** bits);
    byName.set(name, { name, kind: 'sparse', shape: p!.shape, kept, index, indexBits, indexEntries, bits, codebook });
  });
  const params: Structure['params'] = [];
  const used = new Set<string>();
  for (const p of expected) {
    const entry = byName.get(p.name);
    if (!entry) fail(`"params" does not describe parameter '${p.name}' of model '${spec.name}'`);
    const need = (t: string, bytes: number, what: string) => {
      const have = tensorBytes.get(t);
      if (have === undefined) fail(`tensor "${t}" (${what} of '${p.name}') is missing`);
      if (have !== bytes) fail(`tensor "${t}" (${what} of '${p.name}') must hold ${bytes} bytes, it holds ${have}`);
      used.add(t);
    };
    const n = numel(p.shape);
    const names: string[] = [];
    if (entry!.kind === 'f32') {
      need(p.name, n * 4, 'f32 values');
      names.push(p.name);
    } else {
      const e = entry as SparseParamEntry;
      const ib = e.index === 'full' ? 0 : e.index === 'bitmask' ? Math.ceil(n / 8) : Math.ceil((e.indexEntries * e.indexBits) / 8);
      need(`${p.name}.index`, ib, `the ${e.index} index`);
      need(`${p.name}.values`, e.bits === 32 ? e.kept * 4 : Math.ceil((e.kept * e.bits) / 8), e.bits === 32 ? 'f32 kept values' : `${e.bits}-bit codebook indices`);
      names.push(`${p.name}.index`, `${p.name}.values`);
      if (e.codebook > 0) { need(`${p.name}.codebook`, e.codebook * 4, 'the codebook'); names.push(`${p.name}.codebook`); }
    }
    params.push({ entry: entry!, layer: p.layer, tensors: names });
  }
  for (const t of tensorBytes.keys()) if (!used.has(t)) fail(`tensor "${t}" is not part of the model described by the metadata`);
  return { spec, layers, params };
}

export interface DecodedModel {
  spec: ModelSpec;
  /** Every parameter's values ('dense1.weight', 'dense1.bias', ...); pruned weights are 0. */
  values: Map<string, Float32Array>;
  /** 0/1 masks of the weights (1 = kept). */
  masks: Map<string, Float32Array>;
  params: ParamEntry[];
}

function f32From(bytes: Uint8Array, what: string, fail: (m: string) => never): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) {
    const x = dv.getFloat32(i * 4, true);
    if (!Number.isFinite(x)) fail(`${what}: value ${i} is not finite (${x})`);
    out[i] = x;
  }
  return out;
}

/** Parses and validates a compressed model file and decodes every parameter (pure, no GPU). */
export function decodeCompressed(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedModel {
  const { tensors, metadata } = parseSafetensors(bytes, { name: opts.name });
  const where = opts.name ? `'${opts.name}'` : 'compressed model';
  const fail = (msg: string): never => { throw new CompressedModelError(`slimgpu.loadCompressed: ${where}: ${msg}`); };
  const sizes = new Map<string, number>();
  for (const [k, t] of Object.entries(tensors)) {
    if (t.dtype !== 'U8') fail(`tensor "${k}" must have dtype U8, got ${t.dtype}`);
    if (t.shape.length !== 1) fail(`tensor "${k}" must be 1-D (a byte stream), got shape [${t.shape}]`);
    sizes.set(k, t.data.byteLength);
  }
  const st = readStructure(metadata, sizes, opts);
  const values = new Map<string, Float32Array>();
  const masks = new Map<string, Float32Array>();
  const u8 = (name: string) => tensors[name]!.data as Uint8Array;
  for (const { entry } of st.params) {
    const n = numel(entry.shape);
    const what = `parameter '${entry.name}'`;
    if (entry.kind === 'f32') {
      values.set(entry.name, f32From(u8(entry.name), what, fail));
      continue;
    }
    const ibytes = u8(`${entry.name}.index`);
    const w = `${what}: ${entry.index} index`;
    const positions = entry.index === 'full'
      ? Uint32Array.from({ length: n }, (_, i) => i)
      : entry.index === 'bitmask'
        ? decodeBitmask(ibytes, n, entry.kept, w)
        : decodeRelative(ibytes, entry.indexEntries, entry.indexBits, n, entry.kept, w);
    const out = new Float32Array(n);
    const mask = new Float32Array(n);
    let kv: Float32Array;
    if (entry.bits === 32) {
      kv = f32From(u8(`${entry.name}.values`), `${what}: kept values`, fail);
    } else {
      const cb = f32From(u8(`${entry.name}.codebook`), `${what}: codebook`, fail);
      const idx = unpackBits(u8(`${entry.name}.values`), entry.kept, entry.bits, `${what}: codebook indices`);
      kv = new Float32Array(entry.kept);
      for (let j = 0; j < entry.kept; j++) {
        const a = idx[j]!;
        if (a >= cb.length) fail(`${what}: codebook index ${j} is ${a}, beyond the ${cb.length} codebook entries`);
        kv[j] = cb[a]!;
      }
    }
    for (let j = 0; j < entry.kept; j++) {
      out[positions[j]!] = kv[j]!;
      mask[positions[j]!] = 1;
    }
    values.set(entry.name, out);
    masks.set(entry.name, mask);
  }
  return { spec: st.spec, values, masks, params: st.params.map((p) => p.entry) };
}

/** Rebuilds the network of a compressed model file: weights (pruned = 0) and masks exactly as decoded, momentum 0. */
export async function loadCompressed(gpu: Gpu, bytes: Uint8Array, opts: DecodeOptions = {}): Promise<Network> {
  const d = decodeCompressed(bytes, opts);
  const net = Network.create(gpu, d.spec, 0);
  try {
    await net.setParams(d.values, d.masks);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}

/** Reads and loads a compressed model file (Node). */
export async function readCompressed(gpu: Gpu, path: string, opts: Omit<DecodeOptions, 'name'> = {}): Promise<Network> {
  return loadCompressed(gpu, await readFileBytes(path), { ...opts, name: path });
}

// ---- sizes --------------------------------------------------------------------------------------

export interface CompressedLayerSize {
  /** Layer name ('dense1'). */
  layer: string;
  /** Weights of the layer, kept weights. */
  params: number;
  kept: number;
  index: IndexEncoding;
  /** Relative index: bits per entry (else 0). */
  indexBits: number;
  /** Bits per kept weight value: the codebook index width, or 32 (f32). */
  bits: number;
  indexBytes: number;
  valueBytes: number;
  codebookBytes: number;
  /** Biases (f32). */
  biasBytes: number;
  /** All tensor bytes of the layer. */
  bytes: number;
}

export interface CompressedSizes {
  /** The whole file: headerBytes + dataBytes. */
  fileBytes: number;
  /** The 8-byte length field plus the JSON header (metadata and tensor table). */
  headerBytes: number;
  /** Σ layers[].bytes: every tensor byte. */
  dataBytes: number;
  layers: CompressedLayerSize[];
}

/** The exact bytes per layer inside a compressed model file (validates its structure, decodes no stream). */
export function compressedSizes(bytes: Uint8Array, opts: DecodeOptions = {}): CompressedSizes {
  const h = parseSafetensorsHeader(bytes, { name: opts.name });
  const sizes = new Map<string, number>();
  for (const e of h.entries) {
    if (e.dtype !== 'U8') throw new CompressedModelError(`slimgpu.loadCompressed: tensor "${e.name}" must have dtype U8, got ${e.dtype}`);
    sizes.set(e.name, e.end - e.begin);
  }
  const st = readStructure(h.metadata, sizes, opts);
  const layers = new Map<string, CompressedLayerSize>();
  for (const { entry, layer } of st.params) {
    let l = layers.get(layer);
    if (!l) {
      l = { layer, params: 0, kept: 0, index: 'full', indexBits: 0, bits: 32, indexBytes: 0, valueBytes: 0, codebookBytes: 0, biasBytes: 0, bytes: 0 };
      layers.set(layer, l);
    }
    if (entry.kind === 'f32') {
      l.biasBytes += sizes.get(entry.name)!;
    } else {
      l.params = numel(entry.shape);
      l.kept = entry.kept;
      l.index = entry.index;
      l.indexBits = entry.indexBits;
      l.bits = entry.bits;
      l.indexBytes = sizes.get(`${entry.name}.index`)!;
      l.valueBytes = sizes.get(`${entry.name}.values`)!;
      l.codebookBytes = sizes.get(`${entry.name}.codebook`) ?? 0;
    }
    l.bytes = l.indexBytes + l.valueBytes + l.codebookBytes + l.biasBytes;
  }
  const list = [...layers.values()];
  const dataBytes = list.reduce((s, l) => s + l.bytes, 0);
  return { fileBytes: bytes.length, headerBytes: h.dataStart, dataBytes, layers: list };
}
