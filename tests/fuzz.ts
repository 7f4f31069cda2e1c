// Hostile input for every reader slimgpu has: hand-written cases (each with the error it must get)
// and a seeded mutation fuzz (truncation, bit flips, byte insertions, 32-bit overwrites of valid
// files). A reader passes when every case ends in a value or a *named* error (DataError,
// SafetensorsError and its subclasses, CodecError, RunError) — never a TypeError/RangeError, never a
// hang, never an allocation far beyond the input's size. Used by tests/fuzz.test.ts (short) and
// `npm run fuzz` (thousands of cases; FUZZ_CASES per reader).
import { gzipSync } from 'node:zlib';
import { CodecError, SlimzReader, compressText, decompressText, encodeSlimz, type CompressOptions, type SlimzHeader } from '../src/codec/index.js';
import { DataError } from '../src/data/dataset.js';
import { parseCsv } from '../src/data/csv.js';
import { decodeIdx, encodeIdx, idxToDataset, parseIdx } from '../src/data/idx.js';
import { splitText } from '../src/data/text.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/io/checkpoint.js';
import { decodeCompressed, encodeCompressed, compressedSizes } from '../src/io/export.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/io/safetensors.js';
import { modelFromName, modelParams, resolveModel } from '../src/nn/model.js';
import { checkpointModel, RunError } from '../src/run/run.js';
import { CountModel } from './codec-double.js';
import { rng } from './helpers.js';

export const NAMED = [DataError, SafetensorsError, CodecError, RunError];
export const isNamed = (e: unknown): boolean => NAMED.some((C) => e instanceof C);

export interface Reader {
  name: string;
  /** Valid files the mutations start from. */
  seeds: Uint8Array[];
  read(bytes: Uint8Array): unknown;
  /** Where the payload starts (safetensors: after the JSON header): half the mutations land there. */
  payload?(seed: Uint8Array): number;
}

const afterSafetensorsHeader = (b: Uint8Array) => 8 + new DataView(b.buffer, b.byteOffset).getUint32(0, true);

const enc = new TextEncoder();
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const u8 = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));

// ---- valid seed files ---------------------------------------------------------------------------
const images = encodeIdx({ dtype: 'u8', dims: [6, 5, 4], data: u8(120, (i) => (i * 37) % 256) });
const labels = encodeIdx({ dtype: 'u8', dims: [6], data: Uint8Array.of(0, 3, 9, 2, 2, 7) });
const imagesF32 = encodeIdx({ dtype: 'f32', dims: [3, 2, 2], data: Float32Array.from({ length: 12 }, (_, i) => i / 3) });
const csv = enc.encode('x1,x2,x3,label\n0.5,1,-2e-3,0\n1,2,3,1\n"4",5,6,2\n7,8,9.25,1\n');
const english = enc.encode(
  'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. '.repeat(3),
);

const mlp = modelFromName('mlp:12-6-4', { input: [12], numClasses: 4 });
const mlpParams = modelParams(resolveModel(mlp));
const values = new Map(
  mlpParams.map((p, k) => [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + k))]),
);
const masksOf = (keep: (i: number) => boolean) =>
  new Map(mlpParams.filter((p) => p.prunable).map((p) => [p.name, Float32Array.from(values.get(p.name)!, (_, i) => (keep(i) ? 1 : 0))]));
function prunedValues(masks: Map<string, Float32Array>) {
  return new Map([...values].map(([k, v]) => [k, masks.has(k) ? v.map((x, i) => x * masks.get(k)![i]!) : v]));
}

function checkpointSeed(): Uint8Array {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  const masks = masksOf((i) => i % 3 !== 0);
  for (const p of mlpParams) {
    tensors[p.name] = { dtype: 'F32', shape: p.shape, data: values.get(p.name)! };
    tensors[`${p.name}.momentum`] = { dtype: 'F32', shape: p.shape, data: values.get(p.name)!.map((x) => x / 10) };
    if (p.prunable) tensors[`${p.name}.mask`] = { dtype: 'F32', shape: p.shape, data: masks.get(p.name)! };
  }
  return concat(
    encodeCheckpoint({
      tensors,
      step: 12,
      config: { model: 'mlp:12-6-4', data: 'synthetic', seed: 1 },
      rng: { shuffleSeed: 1 },
      extra: { spec: JSON.parse(JSON.stringify(mlp)) },
    }),
  );
}

function compressedSeeds(): Uint8Array[] {
  const sparse = masksOf((i) => i % 7 === 0); // relative index
  const half = masksOf((i) => i % 2 === 0); // bitmask
  const w1 = mlpParams.find((p) => p.prunable)!;
  const kept = half.get(w1.name)!.reduce((a, b) => a + b, 0);
  const shared = {
    init: 'linear' as const,
    iterations: 1,
    layers: {
      [w1.layer]: {
        layer: w1.layer,
        param: w1.name,
        shape: w1.shape,
        bits: 2,
        codebook: Float32Array.of(-0.5, -0.1, 0.1, 0.5),
        assignments: u8(kept, (i) => i % 4),
        kept,
        params: values.get(w1.name)!.length,
        counts: Uint32Array.of(0, 0, 0, 0),
      },
    },
  };
  const sharedValues = prunedValues(half);
  const cb = shared.layers[w1.layer].codebook;
  let k = 0;
  sharedValues.set(
    w1.name,
    sharedValues.get(w1.name)!.map((_, i) => (half.get(w1.name)![i] ? cb[shared.layers[w1.layer].assignments[k++]!]! : 0)),
  );
  // a larger layer with skewed codebook use and gaps: the entropy-coded (huffman) streams
  const big = modelFromName('mlp:96-48-4', { input: [96], numClasses: 4 });
  const bigParams = modelParams(resolveModel(big));
  const bw = bigParams.find((p) => p.prunable)!;
  const bn = bw.shape.reduce((a, b) => a * b, 1);
  const r = rng(5);
  const bmask = Float32Array.from({ length: bn }, () => (r() < 0.12 ? 1 : 0));
  const bkept = bmask.reduce((a, b) => a + b, 0);
  const bassign = u8(bkept, () => (r() < 0.7 ? 0 : r() < 0.6 ? 1 : Math.floor(r() * 8)));
  const bcb = Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) / 10);
  let q = 0;
  const bvalues = new Map(
    bigParams.map((p) => [
      p.name,
      p === bw
        ? bmask.map((m) => (m ? bcb[bassign[q++]!]! : 0))
        : Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, i) => (p.prunable ? 0.01 * Math.cos(i) : 0)),
    ]),
  );
  const bmasks = new Map(
    bigParams.filter((p) => p.prunable).map((p) => [p.name, p === bw ? bmask : new Float32Array(bvalues.get(p.name)!.length).fill(1)]),
  );
  const bshare = {
    init: 'linear' as const,
    iterations: 1,
    layers: {
      [bw.layer]: {
        layer: bw.layer,
        param: bw.name,
        shape: bw.shape,
        bits: 3,
        codebook: bcb,
        assignments: bassign,
        kept: bkept,
        params: bn,
        counts: new Uint32Array(8),
      },
    },
  };
  // format version 2 (JSON metadata; [0] is what the hand-written cases edit) and version 3 (terse)
  const v2 = { formatVersion: 2 } as const;
  return [
    concat(encodeCompressed({ spec: big, values: bvalues, masks: bmasks, sharing: bshare }, v2)),
    concat(encodeCompressed({ spec: mlp, values: prunedValues(sparse), masks: sparse }, v2)),
    concat(encodeCompressed({ spec: mlp, values: sharedValues, masks: half, sharing: shared }, v2)),
    concat(encodeCompressed({ spec: mlp, values }, v2)),
    concat(encodeCompressed({ spec: big, values: bvalues, masks: bmasks, sharing: bshare })),
    concat(encodeCompressed({ spec: mlp, values: sharedValues, masks: half, sharing: shared })),
  ];
}

const WRITER = {
  library: 'slimgpu fuzz',
  adapter: { backend: 'cpu', vendor: 'test', architecture: 'double', device: 'count-model', description: 'CPU test double' },
};
const SLIMZ: CompressOptions = {
  mode: 'prequential',
  chunkBytes: 48,
  stepsPerChunk: 1,
  model: { kind: 'count-model', windows: 2, context: 16 },
  writer: WRITER,
};
const buildCount = async (h: SlimzHeader) => {
  const w = h.model.windows,
    c = h.model.context;
  if (!Number.isInteger(w) || !Number.isInteger(c) || (w as number) < 1 || (w as number) > 64 || (c as number) < 2 || (c as number) > 256)
    throw new CodecError(`test double: model settings out of range`);
  return new CountModel(w as number, c as number);
};

export async function readers(): Promise<Reader[]> {
  const slimz = (await compressText(english.subarray(0, 200), new CountModel(2, 16), SLIMZ)).bytes;
  return [
    { name: 'IDX (parseIdx)', seeds: [images, labels, imagesF32], read: (b) => parseIdx(b, 'fuzz.idx') },
    { name: 'IDX .gz (decodeIdx)', seeds: [gzipSync(images)], read: (b) => decodeIdx(b, 'fuzz.idx.gz', { maxDecompressedBytes: 1 << 16 }) },
    {
      name: 'IDX images + labels (idxToDataset)',
      seeds: [labels],
      read: (b) => idxToDataset(parseIdx(images, 'images'), parseIdx(b, 'labels'), { numClasses: 10 }),
    },
    { name: 'CSV (parseCsv)', seeds: [csv], read: (b) => parseCsv(new TextDecoder().decode(b), {}, 'fuzz.csv') },
    { name: 'text (splitText, context 16)', seeds: [english], read: (b) => splitText(b, 'fuzz.txt', 16) },
    {
      name: 'safetensors (parseSafetensors)',
      seeds: [
        serializeSafetensors(
          {
            a: { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
            b: { dtype: 'U8', shape: [5], data: u8(5, (i) => i) },
            c: { dtype: 'I64', shape: [1], data: BigInt64Array.of(-7n) },
          },
          { note: 'fuzz' },
        ),
      ],
      read: (b) => parseSafetensors(b, { name: 'fuzz.safetensors' }),
      payload: afterSafetensorsHeader,
    },
    {
      name: 'checkpoint (decodeCheckpoint + model check)',
      seeds: [checkpointSeed()],
      read: (b) => checkpointModel(decodeCheckpoint(b, { name: 'fuzz.ckpt' }), 'fuzz.ckpt'),
      payload: afterSafetensorsHeader,
    },
    {
      name: 'compressed model (decodeCompressed, compressedSizes)',
      seeds: compressedSeeds(),
      read: (b) => {
        compressedSizes(b);
        return decodeCompressed(b, { name: 'fuzz.slim' });
      },
      payload: afterSafetensorsHeader,
    },
    { name: '.slimz (decompressText)', seeds: [slimz], read: (b) => decompressText(b, buildCount) },
  ];
}

// ---- mutations ------------------------------------------------------------------------------------
export type Mutation = 'truncate' | 'bit flips' | 'insert bytes' | 'overwrite u32';
export const MUTATIONS: Mutation[] = ['truncate', 'bit flips', 'insert bytes', 'overwrite u32'];
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000, 0x3b9aca00];

export function mutate(seed: Uint8Array, kind: Mutation, r: () => number, from = 0): Uint8Array {
  const at = (n: number) => from + Math.floor(r() * (n - from));
  const b = seed.slice();
  switch (kind) {
    case 'truncate':
      return b.subarray(0, at(b.length));
    case 'bit flips': {
      for (let k = 1 + at(8); k > 0; k--) {
        const i = at(b.length);
        b[i] = b[i]! ^ (1 << at(8));
      }
      return b;
    }
    case 'insert bytes': {
      const i = at(b.length + 1);
      return concat([b.subarray(0, i), u8(1 + at(16), () => at(256)), b.subarray(i)]);
    }
    case 'overwrite u32': {
      if (b.length < 4) return b;
      const i = at(b.length - 3),
        v = INTERESTING[at(INTERESTING.length)]!;
      new DataView(b.buffer).setUint32(i, v, r() < 0.5);
      return b;
    }
  }
}

// ---- allocation accounting -------------------------------------------------------------------------
// Every typed-array and ArrayBuffer construction by name (new X(n), X.from, X.of) is counted while a
// case runs; the largest one is compared with the input's size.
const ALLOC_CTORS = [
  'ArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;
let largest = 0;
function allocBytes(name: string, args: unknown[]): number {
  const a = args[0];
  const per = name === 'ArrayBuffer' ? 1 : (globalThis as unknown as Record<string, { BYTES_PER_ELEMENT: number }>)[name]!.BYTES_PER_ELEMENT;
  if (typeof a === 'number') return a * per;
  if (a && typeof a === 'object' && !(a instanceof ArrayBuffer) && typeof (a as ArrayLike<unknown>).length === 'number')
    return (a as ArrayLike<unknown>).length * per;
  return 0;
}
export function trackAllocations(): { largest(): number; reset(): void; stop(): void } {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = ALLOC_CTORS.map((n) => [n, g[n]] as const);
  for (const [n, C] of saved) {
    g[n] = new Proxy(C as object, {
      construct(target, args, newTarget) {
        largest = Math.max(largest, allocBytes(n, args));
        return Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget === g[n] ? target : newTarget);
      },
    });
  }
  return {
    largest: () => largest,
    reset: () => {
      largest = 0;
    },
    stop: () => {
      for (const [n, C] of saved) g[n] = C;
    },
  };
}

// ---- the fuzz loop ------------------------------------------------------------------------------------
export interface FuzzResult {
  reader: string;
  cases: number;
  accepted: number;
  named: number;
  /** Error class → count. */
  errors: Record<string, number>;
  crashes: { mutation: Mutation; error: string }[];
  hangs: number;
  slowestMs: number;
  /** Largest single allocation over the input's size (+ 64 KiB). */
  worstAllocRatio: number;
}

export const HANG_MS = 2000;
export const ALLOC_SLACK = 64 * 1024;

export async function fuzzReader(reader: Reader, cases: number, seed: number): Promise<FuzzResult> {
  const r = rng(seed);
  const res: FuzzResult = {
    reader: reader.name,
    cases: 0,
    accepted: 0,
    named: 0,
    errors: {},
    crashes: [],
    hangs: 0,
    slowestMs: 0,
    worstAllocRatio: 0,
  };
  const track = trackAllocations();
  try {
    for (let c = 0; c < cases; c++) {
      const kind = MUTATIONS[c % MUTATIONS.length]!;
      const seedFile = reader.seeds[c % reader.seeds.length]!;
      const input = mutate(seedFile, kind, r, reader.payload && c % 2 === 1 ? Math.min(reader.payload(seedFile), seedFile.length - 4) : 0);
      track.reset();
      const t0 = performance.now();
      try {
        await reader.read(input);
        res.accepted++;
      } catch (e) {
        if (isNamed(e)) {
          res.named++;
          const n = (e as Error).name;
          res.errors[n] = (res.errors[n] ?? 0) + 1;
        } else
          res.crashes.push({
            mutation: kind,
            error: String((e as Error)?.stack ?? e)
              .split('\n')
              .slice(0, 3)
              .join(' | '),
          });
      }
      const ms = performance.now() - t0;
      res.slowestMs = Math.max(res.slowestMs, ms);
      if (ms > HANG_MS) res.hangs++;
      res.worstAllocRatio = Math.max(res.worstAllocRatio, track.largest() / (input.length + ALLOC_SLACK));
      res.cases++;
    }
  } finally {
    track.stop();
  }
  return res;
}

// ---- hand-written hostile cases ------------------------------------------------------------------------
export interface HostileCase {
  reader: string;
  what: string;
  run(): unknown;
  /** The error it must get. */
  error: RegExp;
}

function idxHeader(code: number, dims: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length);
  b[2] = code;
  b[3] = dims.length;
  dims.forEach((d, i) => new DataView(b.buffer).setUint32(4 + 4 * i, d, false));
  return b;
}

export async function hostileCases(): Promise<HostileCase[]> {
  const imgs = parseIdx(images, 'images');
  const idx = (what: string, bytes: Uint8Array, error: RegExp): HostileCase => ({ reader: 'IDX', what, run: () => parseIdx(bytes, 'x.idx'), error });
  const pair = (what: string, lab: Uint8Array, error: RegExp, numClasses?: number): HostileCase => ({
    reader: 'IDX',
    what,
    run: () => idxToDataset(imgs, parseIdx(lab, 'labels.idx'), { numClasses, labelsName: 'labels.idx' }),
    error,
  });
  const csvCase = (what: string, text: string, error: RegExp): HostileCase => ({
    reader: 'CSV',
    what,
    run: () => parseCsv(text, {}, 'x.csv'),
    error,
  });
  const ckpt = checkpointSeed();
  const slimz = (await compressText(english.subarray(0, 200), new CountModel(2, 16), SLIMZ)).bytes;
  const sr = new SlimzReader(slimz);
  const c0 = sr.readChunk(Math.min(sr.header.coding.chunksPerRecord, sr.header.coding.chunks));
  const chunk0 = { ...c0, checks: c0.checks?.subarray(0, 1) };
  const v6 = slimz.slice();
  v6[8] = 6;
  const huge = (length: number) =>
    encodeSlimz({ ...sr.header, length, coding: { ...sr.header.coding, chunks: 1, chunksPerRecord: 1, records: 1, chunkBytes: length } }, [chunk0]);
  const dz = (b: Uint8Array) => () => decompressText(b, buildCount);
  const slimzBad: HostileCase[] = [
    { reader: '.slimz', what: 'truncated (half the file)', run: dz(slimz.subarray(0, slimz.length >> 1)), error: /truncated|damaged/ },
    {
      reader: '.slimz',
      what: 'format version 6',
      run: dz(v6),
      error: /written by codec version 6; this slimgpu reads codec versions 4 and 5 \(it was written by a newer slimgpu\)/,
    },
    {
      reader: '.slimz',
      what: 'a valid-CRC header claiming 2^40 bytes of text in one chunk',
      run: dz(huge(2 ** 40)),
      error: /declares a text of 1099511627776 bytes, more than maxBytes/,
    },
    { reader: '.slimz', what: 'a CSV file given as .slimz', run: dz(csv), error: /not a .slimz file/ },
  ];
  const cm = parseSafetensors(compressedSeeds()[0]!);
  const bigSpec = JSON.parse(cm.metadata.model!);
  bigSpec.input = [40_000_000];
  const bigParams = JSON.parse(cm.metadata.params!);
  bigParams[0].shape = [40_000_000, 6];
  const bigModel = serializeSafetensors(Object.fromEntries(Object.entries(cm.tensors)), {
    ...cm.metadata,
    model: JSON.stringify(bigSpec),
    params: JSON.stringify(bigParams),
  });
  return [
    idx('wrong magic (a PNG)', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0), /bad magic number 0x89504e47/),
    idx('gzip bytes given to the plain parser', gzipSync(images), /bad magic number .*gzip data: decompress first/),
    idx('unknown dtype byte', idxHeader(0x0a, [1]), /unknown dtype byte 0x0a/),
    idx('0 or 5 dimensions', idxHeader(0x08, []), /has 0 dimensions .* expected 1 to 4/),
    idx(
      'dims whose product overflows (65535⁴ ≈ 2^64)',
      idxHeader(0x08, [65535, 65535, 65535, 65535]),
      /dims \[65535,65535,65535,65535\] of u8 need exactly \d+(e\+\d+)? data bytes .* 0 are present \(truncated, or dimensions too large\)/,
    ),
    idx('truncated data', images.subarray(0, images.length - 7), /need exactly 120 data bytes .* but 113 are present \(truncated/),
    idx('truncated header', images.subarray(0, 9), /too short for its 16-byte header/),
    idx('trailing bytes', concat([images, Uint8Array.of(1, 2)]), /2 bytes too many/),
    idx('a zero dimension', idxHeader(0x08, [3, 0]), /dimension 1 is 0/),
    pair(
      'label/image counts differ (6 images, 5 labels)',
      encodeIdx({ dtype: 'u8', dims: [5], data: Uint8Array.of(0, 1, 2, 3, 4) }),
      /hold 6 samples but labels 'labels.idx' hold 5; the counts must be equal/,
    ),
    pair(
      'label ≥ classes (label 12, 10 classes)',
      encodeIdx({ dtype: 'u8', dims: [6], data: Uint8Array.of(0, 1, 12, 3, 4, 5) }),
      /label 12 at sample 2 is not < numClasses = 10/,
      10,
    ),
    pair('labels that are not 1-D', encodeIdx({ dtype: 'u8', dims: [6, 1], data: new Uint8Array(6) }), /must be 1-D, got dims \[6,1\]/),
    pair('float labels', encodeIdx({ dtype: 'f32', dims: [6], data: new Float32Array(6) }), /must be integers, got dtype f32/),
    {
      reader: 'IDX',
      what: 'gzip bomb (1 MiB of zeros, cap 64 KiB)',
      run: () => decodeIdx(gzipSync(concat([idxHeader(0x08, [1 << 20]), new Uint8Array(1 << 20)])), 'bomb.gz', { maxDecompressedBytes: 1 << 16 }),
      error: /decompresses to more than 65536 bytes .* possible gzip bomb/,
    },
    csvCase('ragged rows', 'a,b,label\n1,2,0\n3,1\n', /line 3 has 2 columns, expected 3 like line 1/),
    csvCase('NaN', 'a,b,label\n1,NaN,0\n', /line 2, column 2 \('b'\): "NaN" is not a finite number/),
    csvCase('Infinity', '1,1e999,0\n', /line 1, column 2: "1e999" is not a finite number/),
    csvCase('empty file', '', /x.csv has no rows/),
    csvCase('only blank lines', '\n\r\n  \n', /x.csv has no rows/),
    csvCase('a header and no data', 'a,b,label\n', /has a header row but no data rows/),
    csvCase('a 10-million-column header', 'c,'.repeat(10_000_000) + 'label\n1\n', /line 1 has more than 100000 columns \(maxColumns\); refused/),
    csvCase('one column', 'label\n1\n', /has 1 column; it needs at least one feature and the label column/),
    csvCase('label 2.5', '1,2.5\n', /label 2.5 is not an integer in \[0, 255\]/),
    csvCase('unterminated quote', '1,"2\n', /line 1: unterminated quoted field/),
    { reader: 'text', what: 'empty', run: () => splitText(new Uint8Array(0), 'x.txt', 16), error: /text 'x.txt' is empty/ },
    {
      reader: 'text',
      what: 'shorter than the context (20 bytes, context 16)',
      run: () => splitText(english.subarray(0, 20), 'x.txt', 16),
      error: /has 20 bytes; a context of 16 needs at least 170/,
    },
    {
      reader: 'text',
      what: 'binary data',
      run: () =>
        splitText(
          u8(4096, (i) => (i * 13) % 7),
          'x.bin',
          16,
        ),
      error: /looks like binary data, not text/,
    },
    {
      reader: 'safetensors',
      what: 'header length 2^64 − 1',
      run: () => parseSafetensors(concat([u8(8, () => 0xff), enc.encode('{}')])),
      error: /header length .* exceeds the limit/,
    },
    {
      reader: 'safetensors',
      what: 'data_offsets past the end',
      run: () => parseSafetensors(st('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8)),
      error: /runs past the end of the data section/,
    },
    {
      reader: 'safetensors',
      what: 'shape product overflows',
      run: () => parseSafetensors(st('{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', 8)),
      error: /needs more than 2\^53 bytes/,
    },
    {
      reader: 'safetensors',
      what: 'duplicate key',
      run: () => parseSafetensors(st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1)),
      error: /has the key "a" twice/,
    },
    {
      reader: 'checkpoint',
      what: 'truncated by a kill -9 mid-write',
      run: () => decodeCheckpoint(ckpt.subarray(0, ckpt.length >> 1)),
      error: /runs past the end of the data section|past the end of the file/,
    },
    {
      reader: 'checkpoint',
      what: 'a safetensors file that is not a checkpoint',
      run: () => decodeCheckpoint(serializeSafetensors({ a: { dtype: 'U8', shape: [1], data: Uint8Array.of(1) } })),
      error: /not a slimgpu checkpoint/,
    },
    {
      reader: 'checkpoint',
      what: 'a model description asking for 10⁹ units',
      run: () =>
        checkpointModel(decodeCheckpoint(ckpt), 'c').spec &&
        checkpointModel(
          {
            ...decodeCheckpoint(ckpt),
            extra: {
              spec: {
                ...JSON.parse(JSON.stringify(mlp)),
                layers: [
                  { kind: 'dense', units: 1e9 },
                  { kind: 'dense', units: 4 },
                ],
              },
            },
          },
          'c.safetensors',
        ),
      error: /checkpoint c.safetensors: tensor 'dense1.weight' must have shape \[12,1000000000\]/,
    },
    {
      reader: 'compressed model',
      what: `a ${bigModel.length}-byte file declaring 2.4·10⁸ weights (a fully pruned layer costs no bytes)`,
      run: () => decodeCompressed(bigModel, { name: 'm' }),
      error: /maxParams|more than/,
    },
    {
      reader: 'compressed model',
      what: 'a checkpoint given as a compressed model',
      run: () => decodeCompressed(ckpt, { name: 'm' }),
      error: /loadCompressed: 'm': tensor "dense1.bias" must have dtype U8, got F32/,
    },
    ...slimzBad,
  ];
}

function st(header: string, dataBytes: number): Uint8Array {
  const h = enc.encode(header);
  const b = new Uint8Array(8 + h.length + dataBytes);
  new DataView(b.buffer).setUint32(0, h.length, true);
  b.set(h, 8);
  return b;
}
