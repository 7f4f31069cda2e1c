// Canonical Huffman coding of a symbol stream (Deep Compression's third stage), the byte layout of a
// "huffman" section (see layout.ts):
//   table:  A code lengths of 4 bits each (symbol 0 first), packed LSB first, ⌈A·4/8⌉ bytes;
//           0 = the symbol does not occur, 1..15 = its code length
//   stream: the codes of the N symbols, starting on the byte after the table; bits are packed LSB
//           first into bytes (as in packBits) and each code is written most significant bit first;
//           unused high bits of the last byte are 0 and no byte follows
// Codes are canonical (as in deflate, RFC 1951 §3.2.2): symbols sorted by (length, symbol) get
// consecutive codes. The code is complete (Kraft sum exactly 1), except that a single used symbol
// gets length 1 and code 0. N = 0 is written as zero bytes (no table).
// The decoder treats the section as hostile: lengths, completeness, truncation, trailing bytes and
// padding are all checked, and every byte read is bounds-checked; errors are CompressedModelErrors
// naming the section.
import { CompressedModelError } from './errors.js';

export const HUFFMAN_MAX_LENGTH = 15;
/** Largest alphabet a section may declare (15-bit symbols: any code over it fits in 15 bits). */
export const HUFFMAN_MAX_ALPHABET = 1 << 15;

/** Code lengths (0 = unused) for symbol counts, limited to HUFFMAN_MAX_LENGTH. */
export function huffmanLengths(counts: ArrayLike<number>): Uint8Array {
  const A = counts.length;
  const lengths = new Uint8Array(A);
  const used: number[] = [];
  for (let s = 0; s < A; s++) if (counts[s]! > 0) used.push(s);
  if (used.length === 0) return lengths;
  if (used.length === 1) {
    lengths[used[0]!] = 1;
    return lengths;
  }
  // Huffman's algorithm on (weight, node) with a sorted queue pair (two-queue merge: O(n log n) for the sort)
  for (let scale = 0; ; scale++) {
    // counts flattened by 2^scale when the limit is exceeded (keeps every used symbol ≥ 1)
    const w = used.map((s) => Math.max(1, Math.floor(counts[s]! / 2 ** scale)));
    const order = used.map((_, i) => i).sort((a, b) => w[a]! - w[b]! || used[a]! - used[b]!);
    const n = used.length;
    const parent = new Int32Array(2 * n - 1).fill(-1);
    const weight = new Float64Array(2 * n - 1);
    for (let i = 0; i < n; i++) weight[i] = w[order[i]!]!;
    let leaf = 0,
      inner = n,
      next = n;
    const take = (): number => (leaf < n && (inner >= next || weight[leaf]! <= weight[inner]!) ? leaf++ : inner++);
    while (next < 2 * n - 1) {
      const a = take(),
        b = take();
      weight[next] = weight[a]! + weight[b]!;
      parent[a] = next;
      parent[b] = next;
      next++;
    }
    const depth = new Int32Array(2 * n - 1);
    for (let i = 2 * n - 3; i >= 0; i--) depth[i] = depth[parent[i]!]! + 1;
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, depth[i]!);
    if (max <= HUFFMAN_MAX_LENGTH) {
      for (let i = 0; i < n; i++) lengths[used[order[i]!]!] = depth[i]!;
      return lengths;
    }
  }
}

/** Canonical codes: first code and first sorted position per length, and symbols sorted by (length, symbol). */
interface Canonical {
  count: Uint32Array;
  first: Uint32Array;
  offset: Uint32Array;
  sorted: Uint32Array;
  codes: Uint32Array;
}

function canonical(lengths: Uint8Array): Canonical {
  const L = HUFFMAN_MAX_LENGTH;
  const count = new Uint32Array(L + 1);
  for (const l of lengths) count[l]!++;
  count[0] = 0;
  const first = new Uint32Array(L + 2),
    offset = new Uint32Array(L + 2);
  let code = 0,
    pos = 0;
  for (let l = 1; l <= L; l++) {
    first[l] = code;
    offset[l] = pos;
    code = (code + count[l]!) * 2;
    pos += count[l]!;
  }
  const sorted = new Uint32Array(pos);
  const codes = new Uint32Array(lengths.length);
  const fill = offset.slice();
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s]!;
    if (l === 0) continue;
    codes[s] = first[l]! + (fill[l]! - offset[l]!);
    sorted[fill[l]!++] = s;
  }
  return { count, first, offset, sorted, codes };
}

/** Exact byte size of the huffman section for these counts and lengths (table + stream). */
export function huffmanSectionBytes(counts: ArrayLike<number>, lengths: Uint8Array): number {
  let total = 0,
    bits = 0;
  for (let s = 0; s < counts.length; s++) {
    total += counts[s]!;
    bits += counts[s]! * lengths[s]!;
  }
  return total === 0 ? 0 : Math.ceil((counts.length * 4) / 8) + Math.ceil(bits / 8);
}

/** Symbol histogram over an alphabet of A. */
export function histogram(symbols: ArrayLike<number>, A: number, count = symbols.length): Uint32Array {
  const h = new Uint32Array(A);
  for (let i = 0; i < count; i++) h[symbols[i]!]!++;
  return h;
}

/** The huffman section of `count` symbols (each < A). */
export function huffmanEncode(symbols: ArrayLike<number>, A: number, count = symbols.length): Uint8Array {
  if (!Number.isInteger(A) || A < 1 || A > HUFFMAN_MAX_ALPHABET)
    throw new CompressedModelError(`slimgpu.export: internal: huffman alphabet ${A} is outside [1, ${HUFFMAN_MAX_ALPHABET}]`);
  if (count === 0) return new Uint8Array(0);
  for (let i = 0; i < count; i++) {
    const s = symbols[i]!;
    if (!(Number.isInteger(s) && s >= 0 && s < A))
      throw new CompressedModelError(`slimgpu.export: internal: symbol ${s} at ${i} is outside the alphabet of ${A}`);
  }
  const counts = histogram(symbols, A, count);
  const lengths = huffmanLengths(counts);
  const { codes } = canonical(lengths);
  const out = new Uint8Array(huffmanSectionBytes(counts, lengths));
  for (let s = 0; s < A; s++) out[s >> 1]! |= lengths[s]! << ((s & 1) * 4);
  let o = Math.ceil((A * 4) / 8),
    acc = 0,
    nacc = 0;
  for (let i = 0; i < count; i++) {
    const s = symbols[i]!,
      l = lengths[s]!,
      c = codes[s]!;
    for (let b = l - 1; b >= 0; b--) {
      acc |= ((c >>> b) & 1) << nacc;
      if (++nacc === 8) {
        out[o++] = acc;
        acc = 0;
        nacc = 0;
      }
    }
  }
  if (nacc > 0) out[o++] = acc;
  if (o !== out.length) throw new CompressedModelError(`slimgpu.export: internal: huffman section is ${o} bytes, expected ${out.length}`);
  return out;
}

/** Reads the A code lengths of a section's table and checks they form a complete code. */
export function readHuffmanTable(bytes: Uint8Array, A: number, what: string): Uint8Array {
  const tableBytes = Math.ceil((A * 4) / 8);
  if (bytes.length < tableBytes)
    throw new CompressedModelError(
      `${what}: the huffman section holds ${bytes.length} bytes, fewer than its ${tableBytes}-byte code-length table for ${A} symbols (truncated)`,
    );
  const lengths = new Uint8Array(A);
  let used = 0,
    kraft = 0;
  for (let s = 0; s < A; s++) {
    const l = (bytes[s >> 1]! >> ((s & 1) * 4)) & 15;
    lengths[s] = l;
    if (l > 0) {
      used++;
      kraft += 2 ** (HUFFMAN_MAX_LENGTH - l);
    }
  }
  if (A % 2 === 1 && bytes[tableBytes - 1]! >> 4)
    throw new CompressedModelError(`${what}: the padding bits of the huffman code-length table are not 0`);
  if (used === 0) throw new CompressedModelError(`${what}: the huffman code-length table gives no symbol a code`);
  const full = 2 ** HUFFMAN_MAX_LENGTH;
  if (used === 1) {
    if (kraft !== full / 2) throw new CompressedModelError(`${what}: a huffman table with a single symbol must give it length 1`);
  } else if (kraft > full) {
    throw new CompressedModelError(`${what}: the huffman code lengths are over-subscribed (Kraft sum ${kraft / full} > 1): not a prefix code`);
  } else if (kraft < full) {
    throw new CompressedModelError(`${what}: the huffman code lengths are incomplete (Kraft sum ${kraft / full} < 1)`);
  }
  return lengths;
}

/** Decodes exactly `count` symbols (each < A) from a huffman section; refuses truncation, trailing bytes and non-zero padding. */
export function huffmanDecode(bytes: Uint8Array, A: number, count: number, what: string): Uint32Array {
  if (!Number.isInteger(A) || A < 1 || A > HUFFMAN_MAX_ALPHABET)
    throw new CompressedModelError(`${what}: huffman alphabet ${A} is outside [1, ${HUFFMAN_MAX_ALPHABET}]`);
  if (!Number.isSafeInteger(count) || count < 0) throw new CompressedModelError(`${what}: symbol count ${count} is not a non-negative integer`);
  const out = new Uint32Array(count);
  if (count === 0) {
    if (bytes.length !== 0) throw new CompressedModelError(`${what}: a huffman section of 0 symbols must be empty, it holds ${bytes.length} bytes`);
    return out;
  }
  const lengths = readHuffmanTable(bytes, A, what);
  const { count: perLen, first, offset, sorted } = canonical(lengths);
  // every code is ≥ 1 bit: more symbols than stream bits cannot be valid (refused before decoding)
  const start = Math.ceil((A * 4) / 8);
  const streamBits = (bytes.length - start) * 8;
  if (count > streamBits)
    throw new CompressedModelError(`${what}: ${count} symbols cannot fit in the ${bytes.length - start}-byte huffman stream (truncated)`);
  let o = start,
    byte = 0,
    nbits = 0;
  for (let i = 0; i < count; i++) {
    let code = 0,
      len = 0;
    for (;;) {
      if (nbits === 0) {
        if (o >= bytes.length) throw new CompressedModelError(`${what}: the huffman stream ends after ${i} of ${count} symbols (truncated)`);
        byte = bytes[o++]!;
        nbits = 8;
      }
      code = code * 2 + (byte & 1);
      byte >>= 1;
      nbits--;
      len++;
      const k = code - first[len]!;
      if (k >= 0 && k < perLen[len]!) {
        out[i] = sorted[offset[len]! + k]!;
        break;
      }
      // a complete code always resolves within HUFFMAN_MAX_LENGTH bits; the single-symbol code "0" may meet a 1 bit
      if (len >= HUFFMAN_MAX_LENGTH || (perLen[len]! > 0 && sorted.length === 1)) {
        throw new CompressedModelError(`${what}: symbol ${i} of the huffman stream is not a valid code`);
      }
    }
  }
  if (o !== bytes.length)
    throw new CompressedModelError(
      `${what}: ${bytes.length - o} bytes follow the last of the ${count} huffman-coded symbols (corrupt, or the metadata's count is wrong)`,
    );
  if (byte !== 0) throw new CompressedModelError(`${what}: the padding bits after the last huffman code are not 0`);
  return out;
}
