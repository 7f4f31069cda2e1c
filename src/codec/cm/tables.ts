// Fixed tables of the context-mixing (CM) model, all built at load time by integer arithmetic only
// (no Math.exp/Math.log: their last bit may differ between JavaScript engines, and both sides of the
// coder must derive bit-identical tables).
//
// Units. Probabilities of a 1 bit are 12-bit integers p ∈ [1, 4095] (p/4096). The logistic domain
// ("stretch", ln(p/(1−p))) is an integer d ∈ [−2047, 2047] in steps of 1/256 nat.
//
// Bit histories. A hashed context slot keeps, per binary-tree node, one byte: a state standing for
// a pair of bounded counts (n0, n1) of the zeros and ones seen in that context. When a bit arrives
// its count grows and a large opposite count is partly forgotten (favouring recent behaviour on
// non-stationary text); pairs outside the allowed set are pulled back into it. States are numbered
// by n0 + n1 so that a state's number also ranks how much a slot has seen (used for replacement).

/** round(4096 / (1 + e^(−x/4))) for x = −32..32 (steps of 64 in the stretch domain). */
const SQUASH_KNOTS = [
  1, 2, 2, 3, 4, 5, 6, 8, 10, 13, 17, 21, 27, 35, 45, 58, 74, 94, 120, 153, 194, 246, 311, 391, 488, 606, 747, 912, 1102, 1314, 1546, 1793, 2048,
  2303, 2550, 2782, 2994, 3184, 3349, 3490, 3608, 3705, 3785, 3850, 3902, 3943, 3976, 4002, 4022, 4038, 4051, 4061, 4069, 4075, 4079, 4083, 4086,
  4088, 4090, 4091, 4092, 4093, 4094, 4094, 4095,
];

/** SQUASH[d + 2048] = 4096/(1 + e^(−d/256)) by linear interpolation of the knots, d ∈ [−2048, 2047]. */
export const SQUASH = (() => {
  const t = new Int32Array(4096);
  for (let i = 0; i < 4096; i++) {
    const k = i >> 6,
      f = i & 63;
    const v = SQUASH_KNOTS[k]! + (((SQUASH_KNOTS[k + 1]! - SQUASH_KNOTS[k]!) * f) >> 6);
    t[i] = v < 1 ? 1 : v > 4095 ? 4095 : v;
  }
  return t;
})();

/** squash(d) for any integer d (clamped to the table). */
export function squash(d: number): number {
  if (d > 2047) d = 2047;
  if (d < -2047) d = -2047;
  return SQUASH[d + 2048]!;
}

/** STRETCH[p] = the smallest d with squash(d) ≥ p: the inverse of squash, p ∈ [0, 4095]. */
export const STRETCH = (() => {
  const t = new Int32Array(4096);
  let pi = 0;
  for (let d = -2047; d <= 2047; d++) {
    const v = SQUASH[d + 2048]!;
    for (let p = pi; p <= v; p++) t[p] = d;
    pi = v + 1;
  }
  for (let p = pi; p < 4096; p++) t[p] = 2047;
  return t;
})();

/** Allowed bit-history pairs: min(n0, n1) = k needs max(n0, n1) ≤ LIMIT[k]. */
const LIMIT = [40, 28, 16, 11, 8, 6, 5];

function allowed(a: number, b: number): boolean {
  const k = a < b ? a : b,
    m = a < b ? b : a;
  return k < LIMIT.length && m <= LIMIT[k]!;
}

/** One observed bit on the pair (n0, n1): grow its count, partly forget the other, stay allowed. */
function nextPair(n0: number, n1: number, y: number): [number, number] {
  let grow = y ? n1 : n0,
    other = y ? n0 : n1;
  grow++;
  if (other > 2) other = (other >> 1) + 1;
  if (grow > LIMIT[0]!) grow = LIMIT[0]!;
  while (!(y ? allowed(other, grow) : allowed(grow, other))) other--;
  return y ? [other, grow] : [grow, other];
}

export interface StateTable {
  /** Number of states (≤ 256; state 0 = nothing seen). */
  count: number;
  /** NEXT[2·s + y]: the state after bit y in state s. */
  next: Uint8Array;
  /** N0[s], N1[s]: the counts state s stands for. */
  n0: Uint8Array;
  n1: Uint8Array;
}

export const STATES: StateTable = (() => {
  const pairs: [number, number][] = [];
  for (let total = 0; total <= 2 * LIMIT[0]!; total++) {
    for (let b = 0; b <= total; b++) if (allowed(total - b, b)) pairs.push([total - b, b]);
  }
  if (pairs.length > 256) throw new Error(`cm tables: ${pairs.length} bit-history states do not fit a byte`);
  const index = new Map<number, number>();
  pairs.forEach(([a, b], i) => index.set(a * 256 + b, i));
  const next = new Uint8Array(2 * pairs.length);
  const n0 = new Uint8Array(pairs.length),
    n1 = new Uint8Array(pairs.length);
  pairs.forEach(([a, b], i) => {
    n0[i] = a;
    n1[i] = b;
    for (let y = 0; y < 2; y++) {
      const [c, d] = nextPair(a, b, y);
      next[2 * i + y] = index.get(c * 256 + d)!;
    }
  });
  return { count: pairs.length, next, n0, n1 };
})();

/** RECIP[n] = ⌊2^16 / (n + 1.5)⌋: the adaptation rate of a counter that has seen n updates. */
export const RECIP = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 1024; n++) t[n] = Math.floor(131072 / (2 * n + 3));
  return t;
})();
