// A .slimr file: an interaction log coded losslessly under a recommender (docs/recommend.md).
//   offset 0   'SLMR'                magic
//          4   u8 version (1)
//          5   u8 flags              1 ratings, 2 timestamps, 4 a model is stored
//          6   u8 tau, u8 lambda     the mixture's parameters (StreamParams)
//          8   u32 interactions
//         12   u32 CRC-32 of the canonical CSV text (checked after decoding)
//         16   u32 model bytes M
//         20   the model: a rec:dae .slim.safetensors file, verbatim (M bytes; counted in the size)
//     20 + M   the range-coded stream: counts, column names, the item dictionary (+ which items the
//              model has), the users, the rating texts, then the rows (src/rec/log-stream.ts)
//     end − 4  u32 CRC-32 of every byte before it
// All integers little-endian. Everything the decoder computes from the model is integer (log-model.ts).
import { crc32 } from '../codec/crc32.js';
import { RangeDecoder, RangeEncoder } from '../codec/rangecoder.js';
import { decodeCompressed, serializeCompressed } from '../io/format/index.js';
import { mfSpec } from './compress.js';
import { canonicalCsv, type CanonLog } from './log-canon.js';
import { AdaptiveSymbols, IntCoder, ItemScorer, type DaeTables } from './log-model.js';
import { NameCoder } from './log-names.js';
import { RowCoder, type StreamParams } from './log-stream.js';

export const SLIMR_MAGIC = 'SLMR';
export const SLIMR_VERSION = 1;
export const SLIMR_DEFAULTS: StreamParams = { tau: 64, lambda: 192 };

export class LogCodecError extends Error {
  constructor(message: string) {
    super(`slimgpu.rec: ${message}`);
    this.name = 'LogCodecError';
  }
}

/** The rec:dae tables of a .slim.safetensors file (W = history.weight, V = item.weightᵀ, b = item.bias). */
export function daeTablesOf(file: Uint8Array): DaeTables {
  const m = decodeCompressed(new Uint8Array(file)); // a plain copy: the format reader misreads a Node Buffer (its slice is a view)
  const W = m.values.get('history.weight'),
    Vt = m.values.get('item.weight'),
    b = m.values.get('item.bias');
  if (!W || !Vt || !b)
    throw new LogCodecError(
      `the model file has no history.weight/item.weight/item.bias: a rec:dae model is needed (rec:mf has vectors only for its training users)`,
    );
  const nM = b.length,
    D = Vt.length / nM;
  if (!Number.isInteger(D) || W.length !== nM * D) throw new LogCodecError(`the model's tables disagree in shape (${W.length}, ${Vt.length}, ${nM})`);
  const V = new Float32Array(nM * D);
  for (let d = 0; d < D; d++) for (let i = 0; i < nM; i++) V[i * D + d] = Vt[d * nM + i]!;
  return { nM, D, W, V, b };
}

export interface EncodeResult {
  bytes: Uint8Array;
  modelBytes: number;
  /** Bytes of the code stream spent on the names (columns, items, users, rating texts), ±5. */
  namesBytes: number;
  csv: string;
}

function modelRows(c: CanonLog, modelItems: readonly string[] | undefined): Int32Array {
  const modelOf = new Int32Array(c.items.length).fill(-1);
  if (!modelItems) return modelOf;
  const idx = new Map(c.items.map((s, i) => [s, i]));
  let last = -1;
  modelItems.forEach((name, r) => {
    const j = idx.get(name);
    if (j === undefined || j <= last)
      throw new LogCodecError(`the model's item list must be sorted and unique ('${name}' at row ${r}); retrain with this version of slimgpu`);
    modelOf[j] = r;
    last = j;
  });
  return modelOf;
}

/** Codes a canonical log (with the model file and its sorted item names, or none: counts alone). */
export function encodeLog(c: CanonLog, model?: { file: Uint8Array; items: readonly string[] }, p: StreamParams = SLIMR_DEFAULTS): EncodeResult {
  const tables = model ? daeTablesOf(model.file) : undefined;
  if (model && tables!.nM !== model.items.length) throw new LogCodecError(`the model has ${tables!.nM} items, its item list ${model.items.length}`);
  const modelOf = modelRows(c, model?.items);
  if ((c.ratingNames?.length ?? 0) > 256) throw new LogCodecError(`${c.ratingNames!.length} distinct ratings: the coder handles at most 256`);
  const enc = new RangeEncoder();
  const ints = new IntCoder(1);
  const names = new NameCoder();
  const flag = new AdaptiveSymbols(2);
  names.encodeList(enc, c.columns);
  names.encodeList(enc, c.items);
  if (model) for (let j = 0; j < c.items.length; j++) flag.encode(enc, modelOf[j]! >= 0 ? 1 : 0);
  names.encodeList(enc, c.users);
  names.encodeList(enc, c.ratingNames ?? []);
  const namesBytes = enc.length;
  const rows = new RowCoder(c.items.length, modelOf, tables && new ItemScorer(tables), p, !!c.timestamp, c.ratingNames?.length ?? 0);
  for (let u = 0; u < c.users.length; u++) {
    if (c.ptr[u + 1]! === c.ptr[u]!) throw new LogCodecError(`user '${c.users[u]}' has no interactions`);
    rows.encodeUser(enc, c, c.ptr[u]!, c.ptr[u + 1]!);
  }
  ints.encode(enc, 0); // end mark
  const code = enc.finish();
  const csv = canonicalCsv(c);
  const M = model?.file.length ?? 0;
  const out = new Uint8Array(20 + M + code.length + 4);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SLIMR_MAGIC), 0);
  out[4] = SLIMR_VERSION;
  out[5] = (c.rating ? 1 : 0) | (c.timestamp ? 2 : 0) | (model ? 4 : 0);
  out[6] = p.tau;
  out[7] = p.lambda;
  dv.setUint32(8, c.item.length, true);
  dv.setUint32(12, crc32(new TextEncoder().encode(csv)), true);
  dv.setUint32(16, M, true);
  if (model) out.set(model.file, 20);
  out.set(code, 20 + M);
  dv.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return { bytes: out, modelBytes: M, namesBytes, csv };
}

export function isSlimr(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new TextDecoder().decode(bytes.subarray(0, 4)) === SLIMR_MAGIC;
}

/** Decodes a .slimr file to the canonical CSV text (every check passed) and the log. */
export function decodeLog(bytes: Uint8Array): { csv: string; log: CanonLog } {
  if (!isSlimr(bytes) || bytes.length < 24) throw new LogCodecError('not a .slimr file (no SLMR magic)');
  if (bytes[4] !== SLIMR_VERSION) throw new LogCodecError(`.slimr version ${bytes[4]} (this slimgpu reads ${SLIMR_VERSION})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4)))
    throw new LogCodecError('the .slimr file is damaged or truncated (CRC-32 mismatch)');
  const flags = bytes[5]!;
  const p: StreamParams = { tau: bytes[6]!, lambda: bytes[7]! };
  const n = dv.getUint32(8, true),
    M = dv.getUint32(16, true);
  if (20 + M + 4 > bytes.length) throw new LogCodecError('the .slimr file is damaged (model size)');
  const tables = flags & 4 ? daeTablesOf(new Uint8Array(bytes.subarray(20, 20 + M))) : undefined; // a copy (a Buffer's slice is a view)
  const dec = new RangeDecoder(bytes.subarray(20 + M, bytes.length - 4), '.slimr stream');
  const names = new NameCoder();
  const flag = new AdaptiveSymbols(2);
  const columns = names.decodeList(dec, 4, 'columns');
  const items = names.decodeList(dec, 65536, 'items');
  const modelOf = new Int32Array(items.length).fill(-1);
  let r = 0;
  if (tables) for (let j = 0; j < items.length; j++) if (flag.decode(dec) === 1) modelOf[j] = r++;
  if (tables && r !== tables.nM) throw new LogCodecError(`the file is damaged: ${r} dictionary items in the model, which has ${tables.nM}`);
  const users = names.decodeList(dec, n, 'users');
  const ratingNames = names.decodeList(dec, 256, 'rating texts');
  const timed = (flags & 2) !== 0;
  const rows = new RowCoder(items.length, modelOf, tables && new ItemScorer(tables), p, timed, flags & 1 ? ratingNames.length : 0);
  const it: number[] = [],
    rt: number[] = [],
    ts: number[] = [];
  const ptr = new Uint32Array(users.length + 1);
  for (let u = 0; u < users.length; u++) {
    rows.decodeUser(dec, it, rt, ts);
    if (it.length > n) throw new LogCodecError('the file is damaged (more interactions than its header says)');
    ptr[u + 1] = it.length;
  }
  if (new IntCoder(1).decode(dec) !== 0 || it.length !== n) throw new LogCodecError('the file is damaged (the stream does not end where it should)');
  dec.end();
  const log: CanonLog = { columns, users, items, ptr, item: Uint32Array.from(it) };
  if (flags & 1) Object.assign(log, { rating: Uint32Array.from(rt), ratingNames });
  if (timed) log.timestamp = Float64Array.from(ts);
  const csv = canonicalCsv(log);
  if (crc32(new TextEncoder().encode(csv)) !== dv.getUint32(12, true)) throw new LogCodecError('the decoded log fails its CRC-32');
  return { csv, log };
}

/** A dense rec:dae .slim.safetensors file of float tables (tests and small demos; training writes its own). */
export function daeModelFile(t: DaeTables): Uint8Array {
  const Vt = new Float32Array(t.nM * t.D);
  for (let i = 0; i < t.nM; i++) for (let d = 0; d < t.D; d++) Vt[d * t.nM + i] = t.V[i * t.D + d]!;
  const values = new Map([
    ['history.weight', t.W],
    ['history.bias', new Float32Array(t.D)],
    ['item.weight', Vt],
    ['item.bias', t.b],
  ]);
  return serializeCompressed({ spec: mfSpec(t.nM, t.nM, t.D, 'dae'), values });
}

/**
 * The encoder's choice of tau and lambda (stored in the header, so the decoder needs no search):
 * coordinate search on every 16th user — tau ∈ {40, 64, 96, 144} at lambda 192, then lambda ∈
 * {128, 192, 224, 244} at the best tau — by the bytes of a trial stream over those users.
 */
export function tuneParams(c: CanonLog, model: { file: Uint8Array; items: readonly string[] }): StreamParams {
  const tables = daeTablesOf(model.file);
  const modelOf = modelRows(c, model.items);
  const scorer = new ItemScorer(tables);
  const trial = (p: StreamParams) => {
    const enc = new RangeEncoder();
    const rows = new RowCoder(c.items.length, modelOf, scorer, p, !!c.timestamp, c.ratingNames?.length ?? 0);
    for (let u = 0; u < c.users.length; u += 16) rows.encodeUser(enc, c, c.ptr[u]!, c.ptr[u + 1]!);
    return enc.finish().length;
  };
  let best = { ...SLIMR_DEFAULTS },
    bestBytes = trial(best);
  for (const [key, grid] of [
    ['tau', [40, 96, 144]],
    ['lambda', [128, 224, 244]],
  ] as const) {
    for (const v of grid) {
      const p = { ...best, [key]: v };
      const b = trial(p);
      if (b < bestBytes) [best, bestBytes] = [p, b];
    }
  }
  return best;
}
