// Format version 3: the compact header (docs/format.md §9). Still a valid safetensors file, but
// with ONE tensor, "data", holding every section back to back, and terse metadata:
//   "model":  a preset form `NAME;INPUT;CLASSES` (e.g. `lenet-5;1x28x28;10`) when modelFromName
//             rebuilds exactly the ModelSpec, else the ModelSpec as JSON (starts with '{');
//   "params": one entry per parameter, joined by ',', its tokens separated by one space:
//             f32:    `NAME SHAPE`                      e.g. `dense1.bias 300`
//             sparse: `NAME SHAPE KEPT INDEX VALUES`    e.g. `dense1.weight 784x300 18816 r8h19126:10181 5h30:9259`
//             SHAPE   dims joined by 'x'
//             INDEX   `f` full | `m` bitmask | `r{r}p{E}` relative packed | `r{r}h{E}:{bytes}` relative huffman
//                     (`R…` / `C…` in place of `r…`: the rowprefix / colprefix index, E lengths of r bits)
//             VALUES  `f` f32 | `{b}p{K}` packed codebook indices | `{b}h{K}:{bytes}` huffman codebook indices
// The sections follow in the order of "params": per sparse weight index, values, codebook (b ≤ 16);
// per f32 parameter its values. Each section's length follows from its entry (huffman: the explicit
// byte count), and they must add up to the "data" tensor exactly. A v3 file is read by expanding it
// into the version-2 view (v2 entries, per-section tensors) that decode.ts validates as usual.
import { modelFromName, outputShape, type ModelSpec } from '../../nn/model.js';
import { CompressedModelError } from './errors.js';
import { numel, packedBytes, tensorNames, type ParamEntry } from './layout.js';

export const COMPACT_TENSOR = 'data';

/** JSON with object keys sorted (key order does not matter for equality). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The preset form of a spec when modelFromName rebuilds it exactly, else undefined. */
function presetForm(spec: ModelSpec): string | undefined {
  if (/[;{]/.test(spec.name)) return undefined;
  const classes = spec.task === 'classification' ? numel(outputShape(spec)) : 0;
  const want = canonical(spec);
  for (const c of new Set([classes, 0, 256])) {
    try {
      if (canonical(modelFromName(spec.name, { input: spec.input, numClasses: c })) === want) return `${spec.name};${spec.input.join('x')};${c}`;
    } catch {
      /* not a preset with these sizes */
    }
  }
  return undefined;
}

export function compactModel(spec: ModelSpec): string {
  return presetForm(spec) ?? JSON.stringify(spec);
}

/** The JSON text of the spec a compact "model" value stands for (validated later by decode.ts). */
function expandModel(s: string, fail: (m: string) => never): string {
  if (s.startsWith('{')) return s;
  const m = /^([^;]+);(\d+(?:x\d+)*);(\d+)$/.exec(s);
  if (!m) fail(`"model" must be NAME;INPUT;CLASSES or a JSON ModelSpec, got ${JSON.stringify(s.slice(0, 80))}`);
  try {
    return JSON.stringify(modelFromName(m![1]!, { input: m![2]!.split('x').map(Number), numClasses: Number(m![3]) }));
  } catch (e) {
    return fail(`"model" ${JSON.stringify(s)} names no model this build knows (${(e as Error).message})`);
  }
}

/** Bytes of a huffman section by name, as the encoder knew them. */
export type HuffmanBytes = (tensor: string) => number;

/** The compact "params" value. */
export function compactParams(entries: ParamEntry[], huffmanBytes: HuffmanBytes): string {
  return entries
    .map((e) => {
      if (/[\s,]/.test(e.name) || e.name.length === 0)
        throw new CompressedModelError(
          `slimgpu.export: parameter name ${JSON.stringify(e.name)} cannot be written in format version 3 (spaces or commas); use formatVersion 2`,
        );
      const head = `${e.name} ${e.shape.join('x')}`;
      if (e.kind === 'f32') return head;
      const t = tensorNames(e.name);
      const index =
        e.index === 'full'
          ? 'f'
          : e.index === 'bitmask'
            ? 'm'
            : e.indexCoding === 'huffman'
              ? `${INDEX_LETTER[e.index]}${e.indexBits}h${e.indexEntries}:${huffmanBytes(t.index)}`
              : `${INDEX_LETTER[e.index]}${e.indexBits}p${e.indexEntries}`;
      const values =
        e.bits === 32 ? 'f' : e.valueCoding === 'huffman' ? `${e.bits}h${e.codebook}:${huffmanBytes(t.values)}` : `${e.bits}p${e.codebook}`;
      return `${head} ${e.kept} ${index} ${values}`;
    })
    .join(',');
}

/** The version-2 view of a v3 file: v2-style metadata (JSON strings) and each section's place in "data". */
export interface ExpandedV3 {
  metadata: Record<string, string>;
  sections: { tensor: string; begin: number; end: number }[];
}

const INT = '(\\d{1,15})';
const INDEX_RE = new RegExp(`^(?:(f)|(m)|([rRC])${INT}(p|h)${INT}(?::${INT})?)$`);
/** The letter of an entry-coded index: r relative, R rowprefix, C colprefix. */
const INDEX_LETTER: Record<string, string> = { relative: 'r', rowprefix: 'R', colprefix: 'C' };
const INDEX_OF_LETTER: Record<string, string> = { r: 'relative', R: 'rowprefix', C: 'colprefix' };
const VALUES_RE = new RegExp(`^(?:(f)|${INT}(p|h)${INT}(?::${INT})?)$`);

/** Expands the terse metadata of a v3 file whose "data" tensor holds `dataBytes` bytes. */
export function expandV3(metadata: Record<string, string>, tensorBytes: Map<string, number>, where: string): ExpandedV3 {
  const fail = (msg: string): never => {
    throw new CompressedModelError(`slimgpu.loadCompressed: ${where}: ${msg}`);
  };
  const names = [...tensorBytes.keys()];
  if (names.length !== 1 || names[0] !== COMPACT_TENSOR)
    fail(`a version-3 file holds exactly one tensor "${COMPACT_TENSOR}", got ${JSON.stringify(names.slice(0, 5))}`);
  const dataBytes = tensorBytes.get(COMPACT_TENSOR)!;
  for (const k of ['model', 'params']) if (typeof metadata[k] !== 'string') fail(`__metadata__ lacks the required key "${k}"`);
  const entries: Record<string, unknown>[] = [];
  const sections: ExpandedV3['sections'] = [];
  let at = 0;
  const take = (tensor: string, bytes: number) => {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || at + bytes > dataBytes)
      fail(`section "${tensor}" (${bytes} bytes at ${at}) runs past the end of "${COMPACT_TENSOR}" (${dataBytes} bytes)`);
    sections.push({ tensor, begin: at, end: at + bytes });
    at += bytes;
  };
  const list = metadata.params!.length === 0 ? [] : metadata.params!.split(',');
  list.forEach((s, i) => {
    const tok = s.split(' ');
    const bad = (what: string): never => fail(`"params" entry ${i} (${JSON.stringify(s.slice(0, 80))}): ${what}`);
    if (tok.length !== 2 && tok.length !== 5) bad('must be `NAME SHAPE` or `NAME SHAPE KEPT INDEX VALUES`');
    const [name, shapeS] = tok as [string, string];
    if (!/^\d{1,15}(x\d{1,15})*$/.test(shapeS)) bad(`shape must be dims joined by 'x', got ${JSON.stringify(shapeS)}`);
    const shape = shapeS.split('x').map(Number);
    const t = tensorNames(name);
    if (tok.length === 2) {
      entries.push({ name, kind: 'f32', shape });
      take(t.f32, numel(shape) * 4);
      return;
    }
    if (!/^\d{1,15}$/.test(tok[2]!)) bad(`kept must be an integer, got ${JSON.stringify(tok[2])}`);
    const kept = Number(tok[2]);
    const ix =
      INDEX_RE.exec(tok[3]!) ??
      bad(`index must be f, m, r{bits}p{entries} or r{bits}h{entries}:{bytes} (R, C: the prefix indices), got ${JSON.stringify(tok[3])}`);
    const vx = VALUES_RE.exec(tok[4]!) ?? bad(`values must be f, {bits}p{K} or {bits}h{K}:{bytes}, got ${JSON.stringify(tok[4])}`);
    const rel = ix![3] !== undefined;
    if (rel && (ix![5] === 'h') !== (ix![7] !== undefined)) bad('a huffman index (h) and only it carries :{bytes}');
    const shared = vx![1] === undefined;
    if (shared && (vx![3] === 'h') !== (vx![5] !== undefined)) bad('huffman values (h) and only they carry :{bytes}');
    const indexBits = rel ? Number(ix![4]) : 0,
      indexEntries = rel ? Number(ix![6]) : 0,
      bits = shared ? Number(vx![2]) : 32,
      K = shared ? Number(vx![4]) : 0;
    const e = {
      name,
      kind: 'sparse',
      shape,
      kept,
      index: ix![1] ? 'full' : ix![2] ? 'bitmask' : INDEX_OF_LETTER[ix![3]!],
      indexBits,
      indexEntries,
      indexCoding: rel && ix![5] === 'h' ? 'huffman' : 'packed',
      bits,
      codebook: K,
      valueCoding: shared && vx![3] === 'h' ? 'huffman' : 'packed',
    };
    entries.push(e);
    const n = numel(shape);
    take(
      t.index,
      e.index === 'full'
        ? 0
        : e.index === 'bitmask'
          ? packedBytes(n, 1)
          : e.indexCoding === 'huffman'
            ? Number(ix![7])
            : packedBytes(indexEntries, indexBits),
    );
    take(t.values, !shared ? kept * 4 : e.valueCoding === 'huffman' ? Number(vx![5]) : packedBytes(kept, bits));
    if (shared) take(t.codebook, K * 4);
  });
  if (at !== dataBytes) fail(`the sections described by "params" hold ${at} bytes, the "${COMPACT_TENSOR}" tensor ${dataBytes}`);
  return { metadata: { ...metadata, model: expandModel(metadata.model!, fail), params: JSON.stringify(entries) }, sections };
}
