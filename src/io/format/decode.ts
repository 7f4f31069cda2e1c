// Decoding the compressed file of layout.ts (pure: no GPU). The file is hostile input: the
// metadata is validated field by field against the model it describes, every section's size is
// checked before any is read, and every stream is decoded with bounds and count checks.
import { resolveModel, type LayerSpec, type ModelSpec, type ResolvedLayer } from '../../nn/model.js';
import { parseSafetensors } from '../safetensors.js';
import { CompressedModelError } from './errors.js';
import { COMPACT_TENSOR, expandV3 } from './compact.js';
import { huffmanDecode, HUFFMAN_MAX_ALPHABET } from './huffman.js';
import {
  COMPRESSED_FORMAT_KEY,
  COMPRESSED_VERSIONS_READ,
  DEFAULT_MAX_PARAMS,
  DENSE_KEYS,
  MAX_INDEX_BITS,
  modelParams,
  numel,
  sectionSizes,
  SPARSE_KEYS_V1,
  SPARSE_KEYS_V2,
  tensorNames,
  type IndexEncoding,
  type ParamEntry,
  type SectionCoding,
} from './layout.js';
import { decodeBitmask, decodeRelative, decodeRelativeHuffman, unpackBits } from './sparse.js';
import { positionsFromPrefix, prefixDims } from './prefix.js';
import { thrower } from '../../gpu/errors.js';

export interface DecodeOptions {
  /** Named in error messages (e.g. the file path). */
  name?: string;
  /** Refuse models with more parameters (default DEFAULT_MAX_PARAMS). */
  maxParams?: number;
}

export interface Structure {
  version: string;
  spec: ModelSpec;
  layers: ResolvedLayer[];
  params: { entry: ParamEntry; layer: string; tensors: string[] }[];
}

const LOSSES = ['softmax-ce', 'mse'];
const TASKS = ['classification', 'autoencoder', 'regression', 'language'];
const LAYER_KEYS: Record<string, string[]> = {
  dense: ['units'],
  conv2d: ['filters', 'kernel', 'stride', 'padding'],
  maxPool2d: ['size', 'stride'],
  relu: [],
  sigmoid: [],
  tanh: [],
  flatten: [],
  embedding: ['vocab', 'dim'],
  positions: [],
  layerNorm: [],
  attention: ['heads'],
  gelu: [],
  add: [],
  tiedHead: ['tie'],
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSpec(v: unknown, fail: (m: string) => never): ModelSpec {
  if (!isObj(v)) fail('"model" must be a JSON object (a ModelSpec)');
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string') fail('"model".name must be a string');
  if (!Array.isArray(o.input) || o.input.length === 0 || o.input.some((d) => !Number.isSafeInteger(d) || (d as number) < 1))
    fail(`"model".input must be an array of positive integers, got ${JSON.stringify(o.input)}`);
  if (!Array.isArray(o.layers)) fail('"model".layers must be an array');
  (o.layers as unknown[]).forEach((l, i) => {
    if (!isObj(l) || typeof l.kind !== 'string' || !Object.prototype.hasOwnProperty.call(LAYER_KEYS, l.kind)) {
      fail(
        `"model".layers[${i}] must be an object with a known kind (${Object.keys(LAYER_KEYS).join(', ')}), got ${JSON.stringify(l)?.slice(0, 80)}`,
      );
    }
    const ll = l as Record<string, unknown>;
    for (const [k, x] of Object.entries(ll)) {
      if (k === 'kind') continue;
      if (k === 'name') {
        if (typeof x !== 'string' || x.length > 64) fail(`"model".layers[${i}].name must be a string of at most 64 characters`);
        continue;
      }
      if (k === 'inputs') {
        if (!Array.isArray(x) || x.length > 2 || x.some((v) => !Number.isSafeInteger(v)))
          fail(`"model".layers[${i}].inputs must be an array of at most 2 integers`);
        continue;
      }
      if (!LAYER_KEYS[ll.kind as string]!.includes(k)) fail(`"model".layers[${i}] (${ll.kind}) has an unknown field "${k}"`);
      if (!Number.isSafeInteger(x)) fail(`"model".layers[${i}].${k} must be an integer, got ${JSON.stringify(x)}`);
    }
  });
  if (!LOSSES.includes(o.loss as string)) fail(`"model".loss must be one of ${LOSSES.join(', ')}, got ${JSON.stringify(o.loss)}`);
  if (!TASKS.includes(o.task as string)) fail(`"model".task must be one of ${TASKS.join(', ')}, got ${JSON.stringify(o.task)}`);
  return {
    name: o.name as string,
    input: [...(o.input as number[])],
    layers: (o.layers as LayerSpec[]).map((l) => ({ ...l, ...(l.inputs ? { inputs: [...l.inputs] } : {}) })),
    loss: o.loss as ModelSpec['loss'],
    task: o.task as ModelSpec['task'],
  };
}

/** Validates one entry of the metadata's "params" against the model's parameter of that name. */
function readParamEntry(
  e: unknown,
  i: number,
  c: { expected: ReturnType<typeof modelParams>; byName: Map<string, ParamEntry>; spec: ModelSpec; version: string; fail: (msg: string) => never },
): ParamEntry {
  const { expected, byName, spec, version, fail } = c;
  const v1 = version === '1';
  const at = `"params"[${i}]`;
  if (!isObj(e)) fail(`${at} must be an object`);
  const o = e as Record<string, unknown>;
  if (typeof o.name !== 'string') fail(`${at}.name must be a string`);
  const name = o.name as string;
  if (byName.has(name)) fail(`parameter '${name}' is described twice in "params"`);
  const p = expected.find((x) => x.name === name);
  if (!p) fail(`${at} describes '${name}', which is not a parameter of model '${spec.name}' (parameters: ${expected.map((x) => x.name).join(', ')})`);
  const keys =
    o.kind === 'sparse'
      ? v1
        ? SPARSE_KEYS_V1
        : SPARSE_KEYS_V2
      : o.kind === 'f32'
        ? DENSE_KEYS
        : fail(`${at} ('${name}'): kind must be "sparse" or "f32", got ${JSON.stringify(o.kind)}`);
  if ((o.kind === 'sparse') !== p!.prunable)
    fail(`${at} ('${name}'): kind must be "${p!.prunable ? 'sparse' : 'f32'}" for this parameter, got "${o.kind}"`);
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${at} ('${name}') has an unknown field "${k}" (format version ${version})`);
  for (const k of keys) if (!(k in o)) fail(`${at} ('${name}') lacks the field "${k}"`);
  if (!Array.isArray(o.shape) || o.shape.length !== p!.shape.length || o.shape.some((d, j) => d !== p!.shape[j])) {
    fail(`${at} ('${name}'): shape must be [${p!.shape}] for this model, got ${JSON.stringify(o.shape)}`);
  }
  const n = numel(p!.shape);
  const int = (k: string, lo: number, hi: number): number => {
    const x = o[k];
    if (!Number.isSafeInteger(x) || (x as number) < lo || (x as number) > hi)
      fail(`${at} ('${name}'): ${k} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(x)}`);
    return x as number;
  };
  const coding = (k: string, huffmanAllowed: boolean, why: string): SectionCoding => {
    if (v1) return 'packed';
    const c = o[k];
    if (c !== 'packed' && c !== 'huffman') fail(`${at} ('${name}'): ${k} must be "packed" or "huffman", got ${JSON.stringify(c)}`);
    if (c === 'huffman' && !huffmanAllowed) fail(`${at} ('${name}'): ${k} "huffman" needs ${why}`);
    return c as SectionCoding;
  };
  if (o.kind === 'f32') {
    return { name, kind: 'f32', shape: p!.shape };
  }
  const kept = int('kept', 0, n);
  const index = o.index as IndexEncoding;
  const prefix = index === 'rowprefix' || index === 'colprefix';
  if (index !== 'full' && index !== 'bitmask' && index !== 'relative' && !(prefix && !v1))
    fail(`${at} ('${name}'): index must be "full", "bitmask", "relative"${v1 ? '' : ', "rowprefix" or "colprefix"'}, got ${JSON.stringify(o.index)}`);
  const rel = index === 'relative' || prefix;
  const indexBits = rel ? int('indexBits', 1, MAX_INDEX_BITS) : int('indexBits', 0, 0);
  // every entry advances at least one position: a relative index has at most n entries; a prefix index has one length per row (column)
  const { R, C } = prefixDims(p!.shape);
  const L = index === 'rowprefix' ? R : C;
  const indexEntries = prefix ? int('indexEntries', L, L) : rel ? int('indexEntries', kept, n) : int('indexEntries', 0, 0);
  if (index === 'full' && kept !== n) fail(`${at} ('${name}'): index "full" means all ${n} weights are kept, but kept is ${kept}`);
  const indexCoding = coding('indexCoding', rel && 2 ** indexBits <= HUFFMAN_MAX_ALPHABET, `a relative or prefix index of at most 15-bit entries`);
  const bits = o.bits === 32 ? 32 : int('bits', 1, 16);
  const codebook = bits === 32 ? int('codebook', 0, 0) : int('codebook', 1, 2 ** bits);
  const valueCoding = coding('valueCoding', bits !== 32, 'a codebook (bits ≤ 16)');
  return { name, kind: 'sparse', shape: p!.shape, kept, index, indexBits, indexEntries, indexCoding, bits, codebook, valueCoding };
}

/** Validates the metadata against the model it describes and the tensor byte counts against the layout. */
export function readStructure(metadata: Record<string, string>, tensorBytes: Map<string, number>, opts: DecodeOptions): Structure {
  const where = opts.name ? `'${opts.name}'` : 'compressed model';
  const fail = thrower(CompressedModelError, `slimgpu.loadCompressed: ${where}: `);
  const version = metadata[COMPRESSED_FORMAT_KEY];
  if (version === undefined) fail(`not a slimgpu compressed model: __metadata__ has no "${COMPRESSED_FORMAT_KEY}" key`);
  if (!COMPRESSED_VERSIONS_READ.includes(version!))
    fail(`compressed format version ${JSON.stringify(version)} is not supported (this build reads versions ${COMPRESSED_VERSIONS_READ.join(', ')})`);
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
    const entry = readParamEntry(e, i, { expected, byName, spec, version: version!, fail });
    byName.set(entry.name, entry);
  });
  const params: Structure['params'] = [];
  const used = new Set<string>();
  for (const p of expected) {
    const entry = byName.get(p.name);
    if (!entry) fail(`"params" does not describe parameter '${p.name}' of model '${spec.name}'`);
    const names: string[] = [];
    for (const s of sectionSizes(entry!)) {
      const have = tensorBytes.get(s.tensor);
      if (have === undefined) fail(`tensor "${s.tensor}" (${s.what} of '${p.name}') is missing`);
      if (s.min === s.max && have !== s.min) fail(`tensor "${s.tensor}" (${s.what} of '${p.name}') must hold ${s.min} bytes, it holds ${have}`);
      if (have! < s.min || have! > s.max)
        fail(`tensor "${s.tensor}" (${s.what} of '${p.name}') must hold ${s.min} to ${s.max} bytes, it holds ${have}`);
      used.add(s.tensor);
      names.push(s.tensor);
    }
    params.push({ entry: entry!, layer: p.layer, tensors: names });
  }
  for (const t of tensorBytes.keys()) if (!used.has(t)) fail(`tensor "${t}" is not part of the model described by the metadata`);
  return { version: version!, spec, layers, params };
}

export interface DecodedModel {
  spec: ModelSpec;
  /** Every parameter's values ('dense1.weight', 'dense1.bias', ...); pruned weights are 0. */
  values: Map<string, Float32Array>;
  /** 0/1 masks of the weights (1 = kept). */
  masks: Map<string, Float32Array>;
  params: ParamEntry[];
  /** The file's format version. */
  version: string;
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

/** One parameter as stored: f32 values, or a sparse weight's kept positions with codebook indices + codebook or f32 kept values. */
export interface DecodedParam {
  entry: ParamEntry;
  /** kind f32: every value; sparse with bits = 32: the kept values. */
  values?: Float32Array;
  /** Sparse: kept flat positions, ascending. */
  positions?: Uint32Array;
  /** Sparse with bits ≤ 16: codebook index of each kept position (each < codebook.length). */
  codes?: Uint32Array;
  codebook?: Float32Array;
}

export interface DecodedSparse {
  spec: ModelSpec;
  version: string;
  params: DecodedParam[];
}

/**
 * Parses and validates a compressed model file and decodes every parameter into its stored form
 * (positions, codebook indices, codebook) without building dense weights (pure, no GPU,
 * synchronous): every check of the format applies.
 */
export function decodeSparse(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSparse {
  const { tensors, metadata } = parseSafetensors(bytes, { name: opts.name });
  const where = opts.name ? `'${opts.name}'` : 'compressed model';
  const fail = thrower(CompressedModelError, `slimgpu.loadCompressed: ${where}: `);
  const sizes = new Map<string, number>();
  for (const [k, t] of Object.entries(tensors)) {
    if (t.dtype !== 'U8') fail(`tensor "${k}" must have dtype U8, got ${t.dtype}`);
    if (t.shape.length !== 1) fail(`tensor "${k}" must be 1-D (a byte stream), got shape [${t.shape}]`);
    sizes.set(k, t.data.byteLength);
  }
  const v3 = metadata[COMPRESSED_FORMAT_KEY] === '3' ? expandV3(metadata, sizes, where) : undefined;
  if (v3) {
    const blob = tensors[COMPACT_TENSOR]!.data as Uint8Array;
    sizes.clear();
    for (const s of v3.sections) {
      sizes.set(s.tensor, s.end - s.begin);
      tensors[s.tensor] = { dtype: 'U8', shape: [s.end - s.begin], data: blob.subarray(s.begin, s.end) };
    }
  }
  const st = readStructure(v3 ? v3.metadata : metadata, sizes, opts);
  const u8 = (name: string) => tensors[name]!.data as Uint8Array;
  const params: DecodedParam[] = [];
  for (const { entry } of st.params) {
    const n = numel(entry.shape);
    const what = `${where}: parameter '${entry.name}'`;
    const t = tensorNames(entry.name);
    if (entry.kind === 'f32') {
      params.push({ entry, values: f32From(u8(t.f32), what, fail) });
      continue;
    }
    const ibytes = u8(t.index);
    const w = `slimgpu.loadCompressed: ${what}: ${entry.index} index`;
    const positions =
      entry.index === 'full'
        ? Uint32Array.from({ length: n }, (_, i) => i)
        : entry.index === 'bitmask'
          ? decodeBitmask(ibytes, n, entry.kept, w)
          : entry.index === 'rowprefix' || entry.index === 'colprefix'
            ? positionsFromPrefix(
                entry.indexCoding === 'huffman'
                  ? huffmanDecode(ibytes, 2 ** entry.indexBits, entry.indexEntries, `${w} (huffman)`)
                  : unpackBits(ibytes, entry.indexEntries, entry.indexBits, w),
                entry.shape,
                entry.index,
                entry.kept,
                w,
              )
            : entry.indexCoding === 'huffman'
              ? decodeRelativeHuffman(ibytes, entry.indexEntries, entry.indexBits, n, entry.kept, `${w} (huffman)`)
              : decodeRelative(ibytes, entry.indexEntries, entry.indexBits, n, entry.kept, w);
    if (entry.bits === 32) {
      params.push({ entry, positions, values: f32From(u8(t.values), `${what}: kept values`, fail) });
      continue;
    }
    const codebook = f32From(u8(t.codebook), `${what}: codebook`, fail);
    const vw = `slimgpu.loadCompressed: ${what}: codebook indices`;
    const idx =
      entry.valueCoding === 'huffman'
        ? huffmanDecode(u8(t.values), entry.codebook, entry.kept, `${vw} (huffman)`)
        : unpackBits(u8(t.values), entry.kept, entry.bits, vw);
    for (let j = 0; j < entry.kept; j++) {
      if (idx[j]! >= codebook.length) fail(`${what}: codebook index ${j} is ${idx[j]}, beyond the ${codebook.length} codebook entries`);
    }
    params.push({ entry, positions, codes: Uint32Array.from(idx), codebook });
  }
  return { spec: st.spec, version: st.version, params };
}

/** Parses and validates a compressed model file and decodes every parameter (pure, no GPU, synchronous). */
export function decodeCompressed(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedModel {
  const d = decodeSparse(bytes, opts);
  const values = new Map<string, Float32Array>();
  const masks = new Map<string, Float32Array>();
  for (const { entry, values: v, positions, codes, codebook } of d.params) {
    if (!positions) {
      values.set(entry.name, v!);
      continue;
    }
    const n = numel(entry.shape);
    const out = new Float32Array(n);
    const mask = new Float32Array(n);
    for (let j = 0; j < positions.length; j++) {
      out[positions[j]!] = codes ? codebook![codes[j]!]! : v![j]!;
      mask[positions[j]!] = 1;
    }
    values.set(entry.name, out);
    masks.set(entry.name, mask);
  }
  return { spec: d.spec, values, masks, params: d.params.map((p) => p.entry), version: d.version };
}
