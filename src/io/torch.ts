// Weights in and out in PyTorch's naming and layout (a plain safetensors state_dict), read as
// untrusted input. The mapping (docs/format.md, "PyTorch names") follows the model's layers (each
// kind's `torch` table in nn/layers/<kind>.ts: module, prefix, layout, transposed, tied):
//   slimgpu `dense{i}.weight`  (in, out)           ↔ torch `fc{i}.weight`   (out, in)  transposed
//   slimgpu `dense{i}.bias`    (out)               ↔ torch `fc{i}.bias`     (out)
//   slimgpu `conv2d{i}.weight` (OC, C, KH, KW)     ↔ torch `conv{i}.weight` (OC, C, KH, KW)
//   slimgpu `conv2d{i}.bias`   (OC)                ↔ torch `conv{i}.bias`   (OC)
// so LeNet-300-100 is fc1..fc3 and LeNet-5 is conv1, conv2, fc1, fc2, as in python/twins.py.
// Language models (the gpt: presets) take nanoGPT's names: `transformer.wte.weight` (V, C),
// `transformer.wpe.weight` (T, C), `transformer.h.{i}.ln_1.weight`, `….attn.c_attn.weight` (3C, C)
// [Linear: transposed], …, `transformer.ln_f.bias`, and `lm_head.weight`, tied to wte.
// With names 'slimgpu' the file holds slimgpu's own names and layouts (nothing transposed).
// Accepted dtypes: F32, and F16 / BF16 / F64 converted to f32 (round to nearest). Every problem —
// a missing, unknown or mis-shaped tensor, another dtype, a NaN or Inf — is listed in one error
// naming the tensor and what was expected. Pure (no GPU, no files).
import { layerKind } from '../nn/layers/index.js';
import { resolveModel, type ModelSpec } from '../nn/model.js';
import { fromBf16, fromF16 } from './half.js';
import { parseSafetensors, SafetensorsError, serializeSafetensorsChunks, type SafeTensor, type TensorMap } from './safetensors.js';

export type NameScheme = 'torch' | 'slimgpu';
export const NAME_SCHEMES: readonly NameScheme[] = ['torch', 'slimgpu'];

/** A state_dict holds a few hundred tensors at most: a header beyond this is refused before parsing. */
export const STATE_DICT_MAX_HEADER_BYTES = 16 << 20;

export class ImportError extends SafetensorsError {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export interface NameMapEntry {
  /** The tensor's name in the file ('fc1.weight'). */
  file: string;
  /** slimgpu's parameter ('dense1.weight'). */
  param: string;
  /** The shape in the file, and in slimgpu. */
  fileShape: number[];
  shape: number[];
  /** File layout is slimgpu's transposed (torch Linear weights). */
  transpose: boolean;
  /** What the tensor is, for messages ('torch Linear weight [out, in]'). */
  what: string;
  /**
   * A second name of the same tensor (nanoGPT's `lm_head.weight`, tied to `transformer.wte.weight`):
   * optional on import — when present it must equal the first —, always written on export.
   */
  tied?: boolean;
}

/** nanoGPT's name of a GPT node: 'h0.attn.c_attn' → 'transformer.h.0.attn.c_attn', 'wte' → 'transformer.wte'. */
function nanoGptName(layer: string): string {
  return `transformer.${layer.replace(/^h(\d+)\./, 'h.$1.')}`;
}

/** Image models' torch name of a node: its kind's prefix respelt ('dense1' → 'fc1'). */
const rename = (name: string, r?: readonly [string, string]) => (r && name.startsWith(r[0]) ? r[1] + name.slice(r[0].length) : name);

/**
 * The parameters of `spec` under a naming scheme, in model order. Torch names: `fc{i}` / `conv{i}`
 * for the presets' dense and conv layers; nanoGPT's names for language models (the gpt: presets).
 */
export function stateDictNames(spec: ModelSpec, names: NameScheme = 'torch'): NameMapEntry[] {
  if (!NAME_SCHEMES.includes(names)) throw new ImportError(`slimgpu.import: names must be one of ${NAME_SCHEMES.join(', ')}, got '${names}'`);
  const out: NameMapEntry[] = [];
  const layers = resolveModel(spec);
  const gpt = spec.task === 'language';
  for (const l of layers) {
    const kind = l.spec.kind;
    const def = layerKind(kind)!;
    const tn = def.torch ?? {};
    if (tn.tied && def.shared && gpt && names === 'torch') {
      const param = def.shared(l as never, layers);
      const e = layers.find((e) => e.params.some((p) => p.name === param))!;
      out.push({
        file: `${tn.tied}.weight`,
        param,
        shape: [...e.weightShape!],
        fileShape: [...e.weightShape!],
        transpose: false,
        what: `nanoGPT ${tn.tied} weight (tied to ${nanoGptName(e.name)}.weight)`,
        tied: true,
      });
      continue;
    }
    const torchLayer = gpt ? nanoGptName(l.name) : rename(l.name, tn.rename);
    const layer = names === 'torch' ? torchLayer : l.name;
    const who = names === 'torch' ? `${gpt ? 'nanoGPT' : 'torch'} ${tn.module ?? kind}` : `slimgpu ${kind}`;
    for (const p of l.params) {
      const part = p.name.slice(l.name.length + 1);
      const t = names === 'torch' && !!tn.transpose && part === 'weight';
      const layout = part !== 'weight' || p.shape.length < 2 ? '' : t ? ' [out, in]' : (tn.layout ?? '');
      out.push({
        file: `${layer}.${part}`,
        param: p.name,
        shape: [...p.shape],
        transpose: t,
        fileShape: t ? [p.shape[1]!, p.shape[0]!] : [...p.shape],
        what: `${who} ${part}${layout}`,
      });
    }
  }
  return out;
}

/** nanoGPT registers its causal mask as a buffer `transformer.h.{i}.attn.bias` [1, 1, T, T] when it has no flash attention: not a parameter, skipped. */
function isNanoGptMask(spec: ModelSpec, name: string, shape: number[]): boolean {
  const T = spec.input[0];
  return (
    spec.task === 'language' &&
    /^transformer\.h\.\d+\.attn\.bias$/.test(name) &&
    shape.length === 4 &&
    shape[0] === 1 &&
    shape[1] === 1 &&
    shape[2] === T &&
    shape[3] === T
  );
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** (rows, cols) row-major → (cols, rows) row-major. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

function toF32(t: SafeTensor): Float32Array | undefined {
  switch (t.dtype) {
    case 'F32':
      return t.data;
    case 'F16':
      return fromF16(t.data);
    case 'BF16':
      return fromBf16(t.data);
    case 'F64':
      return Float32Array.from(t.data);
    default:
      return undefined;
  }
}

function where(shape: readonly number[], flat: number): string {
  const idx: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    idx.unshift(flat % shape[i]!);
    flat = Math.floor(flat / shape[i]!);
  }
  return `[${idx.join(', ')}]`;
}

export interface ImportOptions {
  names?: NameScheme;
  /** Named in errors (the file path). */
  name?: string;
  maxHeaderBytes?: number;
}

export interface ImportedWeights {
  /** slimgpu parameter name → values in slimgpu's layout. */
  values: Map<string, Float32Array>;
  /** Tensors converted from another dtype: file name → source dtype. */
  converted: Map<string, string>;
  metadata: Record<string, string>;
}

/** Reads a state_dict (safetensors bytes) for `spec`; throws an ImportError listing every problem. */
export function importStateDict(bytes: Uint8Array, spec: ModelSpec, opts: ImportOptions = {}): ImportedWeights {
  const names = opts.names ?? 'torch';
  const label = `slimgpu.import: ${opts.name ? `'${opts.name}'` : 'state_dict'}`;
  const { tensors, metadata } = parseSafetensors(bytes, {
    name: opts.name,
    maxHeaderBytes: opts.maxHeaderBytes ?? STATE_DICT_MAX_HEADER_BYTES,
    copy: false,
  });
  if (metadata['slimgpu.checkpoint'] !== undefined) {
    throw new ImportError(
      `${label}: this is a slimgpu checkpoint, not a state_dict; continue it with 'slimgpu train --resume', or evaluate it with 'slimgpu eval --checkpoint'`,
    );
  }
  const map = stateDictNames(spec, names);
  const problems: string[] = [];
  const values = new Map<string, Float32Array>();
  const converted = new Map<string, string>();
  const expected = new Set(map.map((m) => m.file));
  const listing = map.map((m) => `${m.file} [${m.fileShape.join(', ')}]`).join(', ');
  for (const m of map) {
    const t = tensors[m.file];
    const need = `${m.what}, shape [${m.fileShape.join(', ')}]`;
    if (!t && m.tied) continue;
    if (!t) {
      problems.push(`tensor '${m.file}' is missing (expected ${need})`);
      continue;
    }
    if (!same(t.shape, m.fileShape)) {
      const swapped = m.fileShape.length === 2 && same(t.shape, [m.fileShape[1]!, m.fileShape[0]!]);
      const hint = swapped
        ? names === 'torch'
          ? " — it looks transposed: a file in slimgpu's [in, out] layout needs --names slimgpu"
          : ' — it looks transposed: a PyTorch file needs --names torch'
        : '';
      problems.push(`tensor '${m.file}' has shape [${t.shape.join(', ')}], expected [${m.fileShape.join(', ')}] (${m.what})${hint}`);
      continue;
    }
    const f = toF32(t);
    if (!f) {
      problems.push(`tensor '${m.file}' has dtype ${t.dtype}; import takes F32, F16, BF16 or F64 (expected ${need})`);
      continue;
    }
    let bad = 0,
      first = -1;
    for (let i = 0; i < f.length; i++)
      if (!Number.isFinite(f[i]!)) {
        bad++;
        if (first < 0) first = i;
      }
    if (bad) {
      const src =
        t.dtype === 'F64' && Number.isFinite((t.data as Float64Array)[first]!) ? ` (${(t.data as Float64Array)[first]} overflows float32)` : '';
      problems.push(`tensor '${m.file}' holds ${bad} non-finite value${bad > 1 ? 's' : ''} (first: ${f[first]} at ${where(t.shape, first)}${src})`);
      continue;
    }
    if (t.dtype !== 'F32') converted.set(m.file, t.dtype);
    const v = m.transpose ? transpose2d(f, m.fileShape[0]!, m.fileShape[1]!) : Float32Array.from(f);
    if (m.tied) {
      const first = values.get(m.param);
      const at = first ? v.findIndex((x, i) => x !== first[i]) : -1;
      if (at >= 0)
        problems.push(
          `tensor '${m.file}' differs from the tensor it is tied to ('${m.param}' in slimgpu) at ${where(t.shape, at)} (${v[at]} vs ${first![at]}); the model ties them, so they must be equal`,
        );
      continue;
    }
    values.set(m.param, v);
  }
  const extra = Object.keys(tensors).filter((k) => !expected.has(k) && !isNanoGptMask(spec, k, tensors[k]!.shape));
  for (const k of extra.slice(0, 10))
    problems.push(`tensor '${k}' is not a parameter of model '${spec.name}' with --names ${names} (expected: ${listing})`);
  if (extra.length > 10) problems.push(`... and ${extra.length - 10} more unknown tensors`);
  if (problems.length) {
    throw new ImportError(`${label}: cannot import as model '${spec.name}' (--names ${names}):\n  ${problems.join('\n  ')}`);
  }
  return { values, converted, metadata };
}

/**
 * A dense F32 state_dict of `values` (slimgpu names and layout, every parameter of `spec`) in the
 * naming scheme's names and layout, as safetensors chunks. PyTorch's `load_state_dict` takes it
 * (strict) after `{k: torch.from_numpy(v)}`.
 */
export function exportStateDict(
  spec: ModelSpec,
  values: Map<string, Float32Array>,
  names: NameScheme = 'torch',
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const tensors: TensorMap = {};
  for (const m of stateDictNames(spec, names)) {
    const v = values.get(m.param);
    const n = m.shape.reduce((a, b) => a * b, 1);
    if (!v || v.length !== n)
      throw new ImportError(`slimgpu.export: parameter '${m.param}' needs ${n} values (shape [${m.shape.join(', ')}]), got ${v ? v.length : 'none'}`);
    tensors[m.file] = { dtype: 'F32', shape: m.fileShape, data: m.transpose ? transpose2d(v, m.shape[0]!, m.shape[1]!) : v };
  }
  return serializeSafetensorsChunks(tensors, { format: 'pt', 'slimgpu.names': names, model: JSON.stringify(spec), ...metadata });
}
