// The `rowprefix` and `colprefix` indices (docs/format.md §4): a weight seen as a matrix [R, C]
// (R = shape[0], C = the rest) whose kept positions are, per row, its first len[r] columns
// (rowprefix, R lengths ≤ C) or, per column, its first len[c] rows (colprefix, C lengths ≤ R) —
// the masks of per-frequency mixed dimensions (src/rec/mixed.ts), stored as the lengths instead of
// one entry per kept position. The lengths are E = R (or C) values of r bits, packed or
// huffman-coded over 2^r, as a relative index's entries are.
import { CompressedModelError } from './errors.js';

export type PrefixIndex = 'rowprefix' | 'colprefix';

/** [R, C] of a weight's shape. */
export function prefixDims(shape: readonly number[]): { R: number; C: number } {
  const R = shape[0] ?? 1;
  const n = shape.reduce((a, b) => a * b, 1);
  return { R, C: R === 0 ? 0 : n / R };
}

/** The lengths whose prefix pattern is exactly `positions` (ascending), or undefined when it is not such a pattern. */
export function prefixLengths(positions: Uint32Array, shape: readonly number[], kind: PrefixIndex): Uint32Array | undefined {
  const { R, C } = prefixDims(shape);
  if (R === 0 || C === 0) return undefined;
  const len = new Uint32Array(kind === 'rowprefix' ? R : C);
  for (const p of positions) {
    const r = Math.floor(p / C),
      c = p - r * C;
    const k = kind === 'rowprefix' ? r : c;
    if ((kind === 'rowprefix' ? c : r) !== len[k]) return undefined;
    len[k]!++;
  }
  return len;
}

/** Bits per length: the smallest r ≥ 1 with 2^r > max(len). */
export function prefixBits(len: Uint32Array): number {
  let max = 0;
  for (const l of len) max = Math.max(max, l);
  let r = 1;
  while (2 ** r <= max) r++;
  return r;
}

/** Positions (ascending) of the prefix pattern, checking the lengths against the shape and their sum against kept. */
export function positionsFromPrefix(len: Uint32Array, shape: readonly number[], kind: PrefixIndex, kept: number, what: string): Uint32Array {
  const { R, C } = prefixDims(shape);
  const L = kind === 'rowprefix' ? R : C,
    lim = kind === 'rowprefix' ? C : R;
  if (len.length !== L) throw new CompressedModelError(`${what}: ${len.length} lengths, the ${kind} index of a [${R}, ${C}] weight has ${L}`);
  let sum = 0;
  for (let k = 0; k < L; k++) {
    if (len[k]! > lim)
      throw new CompressedModelError(`${what}: length ${k} is ${len[k]}, more than the ${lim} ${kind === 'rowprefix' ? 'columns' : 'rows'}`);
    sum += len[k]!;
  }
  if (sum !== kept) throw new CompressedModelError(`${what}: the lengths add up to ${sum} kept positions, the metadata says ${kept}`);
  const out = new Uint32Array(kept);
  let j = 0;
  if (kind === 'rowprefix') {
    for (let r = 0; r < R; r++) for (let c = 0; c < len[r]!; c++) out[j++] = r * C + c;
  } else {
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) if (r < len[c]!) out[j++] = r * C + c;
  }
  return out;
}
