// Encoding a model into the compressed file of layout.ts (pure: no GPU). Per layer the smallest
// index and value coding is chosen (stage 3: huffman where it is smaller than the packed bits).
import type { SharedLayer, WeightSharing } from '../../nn/codebook.js';
import { resolveModel, type ModelSpec, type ResolvedLayer } from '../../nn/model.js';
import { serializeSafetensorsChunks, type TensorMap } from '../safetensors.js';
import { CompressedModelError } from './errors.js';
import { COMPACT_TENSOR, compactModel, compactParams } from './compact.js';
import { COMPRESSED_FORMAT_KEY, COMPRESSED_VERSION, modelParams, numel, tensorNames, type ParamEntry } from './layout.js';
import { chooseIndex, chooseValues } from './sparse.js';
import { thrower } from '../../gpu/errors.js';

export interface CompressInput {
  spec: ModelSpec;
  /** Every parameter's values by name ('dense1.weight', 'dense1.bias', ...). */
  values: Map<string, Float32Array>;
  /** Masks of the weights (0 = pruned); a missing mask keeps every weight. */
  masks?: Map<string, Float32Array>;
  /** Codebooks and assignments of shared layers (shareWeights / fineTuneCentroids). */
  sharing?: WeightSharing;
}

export interface EncodeOptions {
  /** Huffman-code the relative index and the codebook indices where smaller (default true). */
  entropyCoding?: boolean;
  /** 3 (default): the compact header, one "data" tensor (compact.ts); 2: one tensor per section, JSON metadata (byte-identical to earlier v2 files). */
  formatVersion?: 2 | 3;
  /** Also consider the rowprefix / colprefix indices (mixed dimensions, src/rec/mixed.ts) where smaller (default false: other files stay byte-identical). */
  prefixIndex?: boolean;
}

export function f32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** Drops codebook entries no kept weight uses (the file stores K ≤ 2^bits entries) and renumbers the assignments. */
function compactCodebook(codebook: Float32Array, assignments: ArrayLike<number>, kept: number): { codebook: Float32Array; assignments: Uint32Array } {
  const used = new Uint8Array(codebook.length);
  for (let j = 0; j < kept; j++) used[assignments[j]!] = 1;
  const map = new Int32Array(codebook.length).fill(-1);
  const cb: number[] = [];
  for (let c = 0; c < codebook.length; c++)
    if (used[c]) {
      map[c] = cb.length;
      cb.push(codebook[c]!);
    }
  if (cb.length === 0) cb.push(codebook[0] ?? 0);
  const out = new Uint32Array(kept);
  for (let j = 0; j < kept; j++) out[j] = map[assignments[j]!]!;
  return { codebook: Float32Array.from(cb), assignments: out };
}

/** Positions of the kept weights of one parameter (mask ≠ 0, or all without a mask); pruned weights must be exactly 0, kept ones finite. */
function keptPositions(name: string, v: Float32Array, m: Float32Array | undefined, fail: (msg: string) => never): Uint32Array {
  const n = v.length;
  if (m && m.length !== n) fail(`the mask of '${name}' has ${m.length} values, expected ${n}`);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (m && m[i] === 0) {
      if (v[i] !== 0) fail(`weight ${i} of '${name}' is pruned (mask 0) but holds ${v[i]}; the export keeps pruned weights at exactly 0`);
    } else {
      if (!Number.isFinite(v[i]!)) fail(`parameter '${name}' holds a non-finite value (${v[i]}) at ${i}`);
      kept++;
    }
  }
  const positions = new Uint32Array(kept);
  kept = 0;
  for (let i = 0; i < n; i++) if (!m || m[i] !== 0) positions[kept++] = i;
  return positions;
}

/** A layer's sharing matches its kept weights: bits, codebook size and values, one assignment per kept weight, each weight equal to its centroid (bit for bit). */
function checkSharing(layer: string, s: SharedLayer, v: Float32Array, positions: Uint32Array, fail: (msg: string) => never): void {
  const bits = s.bits,
    kept = positions.length,
    n = v.length;
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) fail(`layer '${layer}': sharing bits must be in [1, 16], got ${bits}`);
  if (!(s.codebook instanceof Float32Array) || s.codebook.length < 1 || s.codebook.length > 2 ** bits)
    fail(`layer '${layer}': the codebook must be a Float32Array of 1..2^${bits} values, got ${s.codebook?.length}`);
  if (!s.assignments || s.assignments.length !== kept) {
    fail(
      `layer '${layer}' keeps ${kept} weights but the sharing has ${s.assignments?.length} assignments (stale sharing: the mask changed since shareWeights)`,
    );
  }
  const K0 = s.codebook.length;
  const cb = new Uint32Array(s.codebook.buffer, s.codebook.byteOffset, K0);
  const wb = new Uint32Array(v.buffer, v.byteOffset, n);
  for (let j = 0; j < K0; j++) if (!Number.isFinite(s.codebook[j]!)) fail(`layer '${layer}': codebook entry ${j} is not finite (${s.codebook[j]})`);
  for (let j = 0; j < kept; j++) {
    const a = s.assignments[j]!;
    if (a >= K0) fail(`layer '${layer}': assignment ${j} is ${a}, beyond the ${K0} codebook entries`);
    if (wb[positions[j]!] !== cb[a]) {
      fail(
        `layer '${layer}': weight ${positions[j]} is ${v[positions[j]!]}, not its codebook value ${s.codebook[a]} (entry ${a}); ` +
          'the weights changed after shareWeights — pass the sharing returned by fineTuneCentroids, or share again',
      );
    }
  }
}

/** The compressed file as chunks (header, then tensor bytes); pure (no GPU). */
export function encodeCompressed(input: CompressInput, opts: EncodeOptions = {}): Uint8Array[] {
  const fail = thrower(CompressedModelError, `slimgpu.export: `);
  if (!input || typeof input !== 'object') fail('input must be { spec, values, masks?, sharing? }');
  const huffman = opts.entropyCoding ?? true;
  let layers: ResolvedLayer[];
  try {
    layers = resolveModel(input.spec);
  } catch (e) {
    return fail(`invalid model: ${(e as Error).message}`);
  }
  const params = modelParams(layers);
  const shared = input.sharing?.layers ?? {};
  for (const k of Object.keys(shared)) {
    if (!params.some((p) => p.prunable && p.layer === k))
      fail(`the sharing names layer '${k}', which is not a layer with weights of model '${input.spec.name}'`);
  }
  const tensors: TensorMap = {};
  const entries: ParamEntry[] = [];
  const u8 = (data: Uint8Array) => ({ dtype: 'U8' as const, shape: [data.length], data });
  for (const p of params) {
    const v = input.values.get(p.name);
    const n = numel(p.shape);
    const t = tensorNames(p.name);
    if (!v) fail(`no values for parameter '${p.name}'`);
    if (v!.length !== n) fail(`parameter '${p.name}' has ${v!.length} values, its shape [${p.shape}] needs ${n}`);
    if (!p.prunable) {
      for (let i = 0; i < n; i++) if (!Number.isFinite(v![i]!)) fail(`parameter '${p.name}' holds a non-finite value (${v![i]}) at ${i}`);
      tensors[t.f32] = u8(f32Bytes(v!));
      entries.push({ name: p.name, kind: 'f32', shape: p.shape });
      continue;
    }
    const positions = keptPositions(p.name, v!, input.masks?.get(p.name), fail);
    const kept = positions.length;
    const idx = chooseIndex(positions, n, { huffman, prefixShape: opts.prefixIndex ? p.shape : undefined });
    tensors[t.index] = u8(idx.bytes);
    const s = shared[p.layer];
    let bits = 32,
      K = 0,
      valueCoding: 'packed' | 'huffman' = 'packed';
    if (s) {
      bits = s.bits;
      checkSharing(p.layer, s, v!, positions, fail);
      const c = compactCodebook(s.codebook, s.assignments, kept);
      K = c.codebook.length;
      const vals = chooseValues(c.assignments, kept, bits, K, { huffman });
      valueCoding = vals.coding;
      tensors[t.values] = u8(vals.bytes);
      tensors[t.codebook] = u8(f32Bytes(c.codebook));
    } else {
      const kv = new Float32Array(kept);
      for (let j = 0; j < kept; j++) kv[j] = v![positions[j]!]!;
      tensors[t.values] = u8(f32Bytes(kv));
    }
    entries.push({
      name: p.name,
      kind: 'sparse',
      shape: p.shape,
      kept,
      index: idx.index,
      indexBits: idx.bits,
      indexEntries: idx.entries,
      indexCoding: idx.coding,
      bits,
      codebook: K,
      valueCoding,
    });
  }
  const version = opts.formatVersion ?? 3;
  if (version === 3) return compactChunks(input.spec, entries, tensors);
  if (version !== 2) fail(`formatVersion must be 2 or 3, got ${JSON.stringify(version)}`);
  const metadata = {
    [COMPRESSED_FORMAT_KEY]: '2',
    model: JSON.stringify(input.spec),
    params: JSON.stringify(entries),
  };
  return serializeSafetensorsChunks(tensors, metadata);
}

/** Version 3: every section in "params" order in one tensor, terse metadata. */
function compactChunks(spec: ModelSpec, entries: ParamEntry[], tensors: TensorMap): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const t = tensorNames(e.name);
    for (const k of e.kind === 'f32' ? [t.f32] : [t.index, t.values, t.codebook]) if (tensors[k]) parts.push(tensors[k]!.data as Uint8Array);
  }
  const data = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.byteLength;
  }
  const metadata = {
    [COMPRESSED_FORMAT_KEY]: COMPRESSED_VERSION,
    model: compactModel(spec),
    params: compactParams(entries, (k) => tensors[k]!.data.byteLength),
  };
  return serializeSafetensorsChunks({ [COMPACT_TENSOR]: { dtype: 'U8', shape: [data.length], data } }, metadata);
}

/** The compressed file in one buffer (pure). */
export function serializeCompressed(input: CompressInput, opts: EncodeOptions = {}): Uint8Array {
  const chunks = encodeCompressed(input, opts);
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
