// Fixed-width bit streams and the sparse index encodings (full, bitmask, relative) of layout.ts,
// and the choice of the smallest index for a set of kept positions (with the relative entries
// packed or huffman-coded).
import { CompressedModelError } from './errors.js';
import { histogram, huffmanEncode, huffmanLengths, huffmanSectionBytes, huffmanDecode, HUFFMAN_MAX_ALPHABET } from './huffman.js';
import { MAX_INDEX_BITS, packedBytes, type IndexEncoding, type SectionCoding } from './layout.js';
import { prefixBits, prefixLengths, type PrefixIndex } from './prefix.js';

/** `count` values of `width` bits (1..24) packed LSB first into ⌈count·width/8⌉ bytes. */
export function packBits(values: ArrayLike<number>, width: number, count = values.length): Uint8Array {
  const out = new Uint8Array(packedBytes(count, width));
  let acc = 0,
    nacc = 0,
    o = 0;
  const lim = 2 ** width;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v < lim) || !Number.isInteger(v))
      throw new CompressedModelError(`slimgpu.export: internal: value ${v} does not fit in ${width} bits`);
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
  const need = packedBytes(count, width);
  if (bytes.length !== need)
    throw new CompressedModelError(`${what}: ${count} values of ${width} bits need ${need} bytes, the tensor holds ${bytes.length}`);
  const out = new Uint32Array(count);
  const base = 2 ** width;
  // acc holds < width + 8 bits (≤ 40): exact in a double
  let acc = 0,
    nacc = 0,
    o = 0;
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

/** Entries of the relative encoding of `positions` with r-bit entries (fillers included). */
export function relativeEntries(positions: Uint32Array, r: number): number {
  const M = 2 ** r - 1;
  let prev = -1,
    e = 0;
  for (let i = 0; i < positions.length; i++) {
    const g = positions[i]! - prev;
    e += 1 + Math.floor((g - 1) / M);
    prev = positions[i]!;
  }
  return e;
}

/** The relative entries (gaps, 0 = filler of 2^r − 1) of `positions`. */
export function relativeSymbols(positions: Uint32Array, r: number): Uint32Array {
  const M = 2 ** r - 1;
  const vals = new Uint32Array(relativeEntries(positions, r));
  let prev = -1,
    j = 0;
  for (let i = 0; i < positions.length; i++) {
    let g = positions[i]! - prev;
    while (g > M) {
      vals[j++] = 0;
      g -= M;
    }
    vals[j++] = g;
    prev = positions[i]!;
  }
  return vals;
}

export function encodeRelative(positions: Uint32Array, r: number): { bytes: Uint8Array; entries: number } {
  const vals = relativeSymbols(positions, r);
  return { bytes: packBits(vals, r), entries: vals.length };
}

/** Positions from relative entries, checking every position against n and the count against kept. */
export function positionsFromRelative(vals: Uint32Array, r: number, n: number, kept: number, what: string): Uint32Array {
  const M = 2 ** r - 1;
  const out = new Uint32Array(kept);
  let pos = -1,
    k = 0;
  for (let j = 0; j < vals.length; j++) {
    if (k === kept)
      throw new CompressedModelError(`${what}: relative index entry ${j} follows the last of the ${kept} kept positions (entries ${vals.length})`);
    const e = vals[j]!;
    if (e === 0) {
      pos += M;
      if (pos >= n - 1)
        throw new CompressedModelError(`${what}: relative index filler entry ${j} moves to position ${pos}, past the last position ${n - 1}`);
      continue;
    }
    pos += e;
    if (pos >= n) throw new CompressedModelError(`${what}: relative index entry ${j} gives position ${pos}, beyond the ${n} weights`);
    out[k++] = pos;
  }
  if (k !== kept) throw new CompressedModelError(`${what}: the relative index decodes to ${k} kept positions, the metadata says ${kept}`);
  return out;
}

/** Packed relative index → positions. */
export function decodeRelative(bytes: Uint8Array, entries: number, r: number, n: number, kept: number, what: string): Uint32Array {
  return positionsFromRelative(unpackBits(bytes, entries, r, what), r, n, kept, what);
}

/** Huffman-coded relative index → positions. */
export function decodeRelativeHuffman(bytes: Uint8Array, entries: number, r: number, n: number, kept: number, what: string): Uint32Array {
  return positionsFromRelative(huffmanDecode(bytes, 2 ** r, entries, what), r, n, kept, what);
}

export function encodeBitmask(positions: Uint32Array, n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  for (const p of positions) out[p >> 3]! |= 1 << (p & 7);
  return out;
}

export function decodeBitmask(bytes: Uint8Array, n: number, kept: number, what: string): Uint32Array {
  if (bytes.length !== Math.ceil(n / 8))
    throw new CompressedModelError(`${what}: a bitmask of ${n} positions needs ${Math.ceil(n / 8)} bytes, the tensor holds ${bytes.length}`);
  const out = new Uint32Array(kept);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (bytes[i >> 3]! & (1 << (i & 7))) {
      if (k === kept) throw new CompressedModelError(`${what}: the bitmask marks more than the ${kept} kept positions of the metadata`);
      out[k++] = i;
    }
  }
  if (n % 8 !== 0 && bytes[bytes.length - 1]! >> (n % 8))
    throw new CompressedModelError(`${what}: the bitmask's padding bits after position ${n - 1} are not 0`);
  if (k !== kept) throw new CompressedModelError(`${what}: the bitmask marks ${k} kept positions, the metadata says ${kept}`);
  return out;
}

export interface ChosenIndex {
  index: IndexEncoding;
  /** Relative: bits per entry (else 0). */
  bits: number;
  /** Relative: entries incl. fillers (else 0). */
  entries: number;
  coding: SectionCoding;
  bytes: Uint8Array;
}

/**
 * The smallest index for `positions` of n: full (all kept), bitmask, or relative with the best r,
 * packed or (when `huffman`) huffman-coded. Ties go to the simpler encoding.
 */
export function chooseIndex(positions: Uint32Array, n: number, opts: { huffman?: boolean; prefixShape?: readonly number[] } = {}): ChosenIndex {
  if (positions.length === n) return { index: 'full', bits: 0, entries: 0, coding: 'packed', bytes: new Uint8Array(0) };
  const best = chooseClassic(positions, n, opts);
  return opts.prefixShape ? (choosePrefix(positions, opts.prefixShape, best, opts.huffman) ?? best) : best;
}

/** A rowprefix or colprefix index (prefix.ts) when the positions form such a pattern and it is smaller than `than`. */
function choosePrefix(positions: Uint32Array, shape: readonly number[], than: ChosenIndex, huffman?: boolean): ChosenIndex | undefined {
  let best: ChosenIndex | undefined;
  for (const kind of ['rowprefix', 'colprefix'] as PrefixIndex[]) {
    const len = prefixLengths(positions, shape, kind);
    if (!len) continue;
    const r = prefixBits(len);
    const cands: ChosenIndex[] = [{ index: kind, bits: r, entries: len.length, coding: 'packed', bytes: packBits(len, r) }];
    if (huffman && 2 ** r <= HUFFMAN_MAX_ALPHABET)
      cands.push({ index: kind, bits: r, entries: len.length, coding: 'huffman', bytes: huffmanEncode(len, 2 ** r) });
    for (const c of cands) if (c.bytes.length < (best ?? than).bytes.length) best = c;
  }
  return best;
}

function chooseClassic(positions: Uint32Array, n: number, opts: { huffman?: boolean }): ChosenIndex {
  let best = { size: packedBytes(n, 1), r: 0, coding: 'packed' as SectionCoding };
  for (let r = 1; r <= MAX_INDEX_BITS; r++) {
    const size = packedBytes(relativeEntries(positions, r), r);
    if (size < best.size) best = { size, r, coding: 'packed' };
  }
  if (opts.huffman) {
    for (let r = 1; r <= MAX_INDEX_BITS && 2 ** r <= HUFFMAN_MAX_ALPHABET; r++) {
      const vals = relativeSymbols(positions, r);
      const counts = histogram(vals, 2 ** r);
      const size = huffmanSectionBytes(counts, huffmanLengths(counts));
      if (size < best.size) best = { size, r, coding: 'huffman' };
    }
  }
  if (best.r === 0) return { index: 'bitmask', bits: 0, entries: 0, coding: 'packed', bytes: encodeBitmask(positions, n) };
  const vals = relativeSymbols(positions, best.r);
  const bytes = best.coding === 'packed' ? packBits(vals, best.r) : huffmanEncode(vals, 2 ** best.r);
  if (bytes.length !== best.size) throw new CompressedModelError('slimgpu.export: internal: relative index size mismatch');
  return { index: 'relative', bits: best.r, entries: vals.length, coding: best.coding, bytes };
}

/** Codebook indices packed in b bits or huffman-coded over K, whichever is smaller (ties: packed). */
export function chooseValues(
  assignments: ArrayLike<number>,
  kept: number,
  bits: number,
  K: number,
  opts: { huffman?: boolean } = {},
): { coding: SectionCoding; bytes: Uint8Array } {
  const packed = packBits(assignments, bits, kept);
  if (!opts.huffman) return { coding: 'packed', bytes: packed };
  const counts = histogram(assignments, K, kept);
  if (huffmanSectionBytes(counts, huffmanLengths(counts)) >= packed.length) return { coding: 'packed', bytes: packed };
  return { coding: 'huffman', bytes: huffmanEncode(assignments, K, kept) };
}
