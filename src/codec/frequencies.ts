// The one function that turns a model's next-byte logits into the integer frequencies the range
// coder uses — shared by the encoder and the decoder, so both sides derive bit-identical tables from
// bit-identical logits.
//   logits: 256 values (one row of the model's (N, 256) output) → cum: Uint32Array(257), cum[0] = 0,
//   cum[256] = FREQ_TOTAL = 2^16, freq(s) = cum[s+1] − cum[s] ≥ 1 for every byte s (no byte is ever
//   uncodable, whatever the model says).
//
// Determinism: after one quantisation step everything is integer arithmetic. A logit x becomes
// q = round((max − x)·256) (steps of 1/256 nat, clamped to 24 nats); its weight is a table entry
// EXP[q] ≈ 2^28·e^(−q/256) built at load time by an integer recurrence (no Math.exp, whose last bit
// may differ between JavaScript engines); frequencies are exact integer divisions of the weights.
// Subtraction, multiplication and Math.round are exactly rounded IEEE operations, so the same
// logits give the same table on every engine.

export const FREQ_BITS = 16;
export const FREQ_TOTAL = 1 << FREQ_BITS;
export const SYMBOLS = 256;

/** Quantisation steps per nat of logit difference. */
const STEPS = 256;
/** Differences beyond 24 nats (e^−24 ≈ 4e−11 ≪ 2^−16) all get weight of the floor. */
const MAX_Q = 24 * STEPS;
/** round(2^24 · e^(−1/256)): one step of the recurrence (a literal, not Math.exp). */
const STEP_FACTOR = 16711808;
const ONE = 2 ** 28;
const SPREAD = FREQ_TOTAL - SYMBOLS;

/** EXP[q] ≈ 2^28 · e^(−q/256), q = 0..MAX_Q; products stay below 2^53 (exact in doubles). */
const EXP = (() => {
  const t = new Float64Array(MAX_Q + 1);
  t[0] = ONE;
  for (let q = 1; q <= MAX_Q; q++) t[q] = Math.floor((t[q - 1]! * STEP_FACTOR) / 2 ** 24 + 0.5);
  return t;
})();

/** floor(a / b) for non-negative integers a < 2^53, b ≥ 1, exactly. */
function idiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

const qScratch = new Int32Array(SYMBOLS);

/**
 * Fills `cum` (length ≥ 257) with the cumulative frequencies of the row logits[offset, offset+256).
 * NaN counts as −∞; +∞ logits share the top weight; a row of only −∞/NaN gives the uniform table.
 */
export function frequencies(logits: ArrayLike<number>, offset: number, cum: Uint32Array): Uint32Array {
  let m = -Infinity;
  for (let s = 0; s < SYMBOLS; s++) {
    const x = logits[offset + s]!;
    if (x > m) m = x; // NaN never compares greater
  }
  let top = -1;
  if (m === -Infinity) {
    qScratch.fill(0);
    top = 0;
  } else {
    for (let s = 0; s < SYMBOLS; s++) {
      const x = logits[offset + s]!;
      let q: number;
      if (!(x > -Infinity))
        q = MAX_Q; // −∞ or NaN
      else if (m === Infinity) q = x === Infinity ? 0 : MAX_Q;
      else q = Math.min(MAX_Q, Math.round((m - x) * STEPS));
      qScratch[s] = q;
      if (q === 0 && top < 0) top = s;
    }
  }
  let total = 0;
  for (let s = 0; s < SYMBOLS; s++) total += EXP[qScratch[s]!]!;
  let used = 0;
  for (let s = 0; s < SYMBOLS; s++) {
    const f = 1 + idiv(EXP[qScratch[s]!]! * SPREAD, total);
    cum[s + 1] = f; // frequencies for now, summed below
    used += f;
  }
  cum[top + 1]! += FREQ_TOTAL - used; // the rounding remainder (< 256) goes to the most likely byte
  cum[0] = 0;
  for (let s = 0; s < SYMBOLS; s++) cum[s + 1]! += cum[s]!;
  return cum;
}

const eScratch = new Float64Array(SYMBOLS);

/**
 * frequencies() of the logits l/256 for integer l (a model's logits in 1/256 nat), computed without
 * the doubles: (max − x)·256 is exactly max_l − l there, so q = min(MAX_Q, max_l − l) and every
 * table is identical to frequencies(l/256) (tests/frequencies-int.test.ts). |l| < 2^31.
 */
export function frequenciesOfInts(logits: Int32Array, offset: number, cum: Uint32Array): Uint32Array {
  let m = logits[offset]!,
    top = 0;
  for (let s = 1; s < SYMBOLS; s++) {
    const x = logits[offset + s]!;
    if (x > m) {
      m = x;
      top = s;
    }
  }
  let total = 0;
  for (let s = 0; s < SYMBOLS; s++) {
    const d = m - logits[offset + s]!;
    const e = EXP[d < MAX_Q ? d : MAX_Q]!;
    eScratch[s] = e;
    total += e;
  }
  // floor(e·SPREAD / total) by a multiplication, corrected to the exact quotient (products < 2^53)
  const inv = SPREAD / total;
  let used = 0;
  for (let s = 0; s < SYMBOLS; s++) {
    const e = eScratch[s]!,
      a = e * SPREAD;
    let q = Math.floor(e * inv);
    if (q * total > a) q--;
    else if ((q + 1) * total <= a) q++;
    cum[s + 1] = 1 + q;
    used += 1 + q;
  }
  cum[top + 1]! += FREQ_TOTAL - used;
  cum[0] = 0;
  for (let s = 0; s < SYMBOLS; s++) cum[s + 1]! += cum[s]!;
  return cum;
}

/** The byte s with cum[s] ≤ v < cum[s+1] (v in [0, FREQ_TOTAL)). */
export function symbolOf(cum: Uint32Array, v: number): number {
  let lo = 0,
    hi = SYMBOLS; // cum[lo] ≤ v < cum[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! <= v) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** −log2 of the coded probability of byte s under the table: its ideal code length in bits. */
export function codeBits(cum: Uint32Array, s: number): number {
  return FREQ_BITS - Math.log2(cum[s + 1]! - cum[s]!);
}
