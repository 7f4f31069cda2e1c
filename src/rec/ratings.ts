// RMSE when ratings are explicit: a rating head beside the ranking model.
//   r̂(u, i) = μ + b_u + b_i + p_u·q_i   (biased matrix factorisation, Koren 2008 / "Funk SVD"),
// fitted on the ratings of the protocol's training interactions (the same leave-last-out split as the
// ranking: per user the last interaction is the test rating, the one before it the validation rating;
// userOrders gives the identical order, so the three sets match RecSplit item for item).
//   baselines (always printed): the global mean μ of the training ratings; and μ + b_u + b_i with the
//   biases fitted by regularised alternating means (b_i = Σ(r − μ − b_u)/(λ_i + n_i), then b_u likewise,
//   a few rounds; λ_i = 25, λ_u = 10, Koren's values).
//   model: starts from the baseline's biases, p and q ~ N(0, 0.1²), then per epoch one pass of plain SGD
//   over the training ratings in a seeded shuffled order (lr 0.01, L2 0.05 on biases and factors; 50 epochs by default, `--rating-epochs`); the
//   epoch with the lowest validation RMSE is kept (and training stops 5 epochs after it). Predictions are clipped to the training ratings'
//   [min, max] (for all three), as rating predictors conventionally are.
// This runs on the CPU: the ratings are sparse triples (a few MB for MovieLens-1m) and one epoch is
// O(ratings × D) multiply-adds — about 0.45 s per million ratings at D 16 (1 s at D 64; 2 busy cores) —
// while the ranking model's full-softmax training is what needs the GPU. Implicit data (no rating column) gets "RMSE: n/a".
import type { InteractionLog } from '../data/interactions.js';
import { Rng, mix32, shuffledIndices } from '../data/random.js';
import { userOrders } from '../data/rec-split.js';

export interface RatingSet {
  user: Uint32Array;
  item: Uint32Array;
  rating: Float32Array;
}

export interface RatingSplit {
  train: RatingSet;
  valid: RatingSet;
  test: RatingSet;
  nUsers: number;
  nItems: number;
}

export interface RatingOptions {
  dim?: number;
  epochs?: number;
  lr?: number;
  reg?: number;
  seed?: number;
  /** Stop after this many epochs without a better validation RMSE. */
  patience?: number;
}

export const RATING_DEFAULTS = { dim: 16, epochs: 50, lr: 0.01, reg: 0.05, seed: 0, patience: 5 } as const;

export interface RatingResult {
  /** Test RMSE of the model, of μ + b_u + b_i, of μ. */
  test: { model: number; biases: number; mean: number; ratings: number };
  valid: { model: number; biases: number; mean: number; ratings: number };
  bestEpoch: number;
  /** Epochs run (≤ the option: early stopping). */
  epochs: number;
  dim: number;
  seconds: number;
}

/** The ratings of the leave-last-out split (undefined for implicit data). */
export function ratingSplit(log: InteractionLog, seed = 0): RatingSplit | undefined {
  const r = log.rating;
  if (!r) return undefined;
  const tr: number[] = [],
    va: number[] = [],
    te: number[] = [];
  for (const o of userOrders(log, seed)) {
    const m = o.length;
    if (m < 3) {
      for (const k of o) tr.push(k);
      continue;
    }
    for (let j = 0; j < m - 2; j++) tr.push(o[j]!);
    va.push(o[m - 2]!);
    te.push(o[m - 1]!);
  }
  const set = (ks: number[]): RatingSet => ({
    user: Uint32Array.from(ks, (k) => log.user[k]!),
    item: Uint32Array.from(ks, (k) => log.item[k]!),
    rating: Float32Array.from(ks, (k) => r[k]!),
  });
  return { train: set(tr), valid: set(va), test: set(te), nUsers: log.users.length, nItems: log.items.length };
}

/** The biased-MF parameters (the baseline is the same with p = q = 0). */
export interface RatingParams {
  mu: number;
  bu: Float32Array;
  bi: Float32Array;
  P: Float32Array;
  Q: Float32Array;
  D: number;
  lo: number;
  hi: number;
}

export function predictRating(m: RatingParams, u: number, i: number): number {
  let s = m.mu + m.bu[u]! + m.bi[i]!;
  const D = m.D;
  for (let d = 0; d < D; d++) s += m.P[u * D + d]! * m.Q[i * D + d]!;
  return Math.min(m.hi, Math.max(m.lo, s));
}

export function rmse(m: RatingParams, s: RatingSet): number {
  let e = 0;
  for (let k = 0; k < s.rating.length; k++) {
    const d = s.rating[k]! - predictRating(m, s.user[k]!, s.item[k]!);
    e += d * d;
  }
  return Math.sqrt(e / Math.max(1, s.rating.length));
}

/** μ and the regularised biases (see the file comment); P = Q = empty (D = 0). */
export function fitBaseline(rs: RatingSplit, rounds = 5, lambdaI = 25, lambdaU = 10): RatingParams {
  const { user, item, rating } = rs.train;
  const n = rating.length;
  let mu = 0,
    lo = Infinity,
    hi = -Infinity;
  for (let k = 0; k < n; k++) {
    mu += rating[k]!;
    lo = Math.min(lo, rating[k]!);
    hi = Math.max(hi, rating[k]!);
  }
  mu /= Math.max(1, n);
  const bu = new Float32Array(rs.nUsers),
    bi = new Float32Array(rs.nItems);
  const sum = new Float64Array(Math.max(rs.nUsers, rs.nItems)),
    cnt = new Float64Array(sum.length);
  for (let round = 0; round < rounds; round++) {
    for (const [b, own, other, lambda] of [
      [bi, item, user, lambdaI],
      [bu, user, item, lambdaU],
    ] as const) {
      const ob = b === bi ? bu : bi;
      sum.fill(0);
      cnt.fill(0);
      for (let k = 0; k < n; k++) {
        sum[own[k]!]! += rating[k]! - mu - ob[other[k]!]!;
        cnt[own[k]!]!++;
      }
      for (let x = 0; x < b.length; x++) b[x] = sum[x]! / (lambda + cnt[x]!);
    }
  }
  return { mu, bu, bi, P: new Float32Array(0), Q: new Float32Array(0), D: 0, lo: n ? lo : 0, hi: n ? hi : 0 };
}

/** One SGD epoch over the training ratings (in place). */
function sgdEpoch(m: RatingParams, s: RatingSet, order: Uint32Array, lr: number, reg: number): void {
  const D = m.D;
  for (const k of order) {
    const u = s.user[k]!,
      i = s.item[k]!;
    let pred = m.mu + m.bu[u]! + m.bi[i]!;
    for (let d = 0; d < D; d++) pred += m.P[u * D + d]! * m.Q[i * D + d]!;
    const e = s.rating[k]! - pred;
    m.bu[u] = m.bu[u]! + lr * (e - reg * m.bu[u]!);
    m.bi[i] = m.bi[i]! + lr * (e - reg * m.bi[i]!);
    for (let d = 0; d < D; d++) {
      const p = m.P[u * D + d]!,
        q = m.Q[i * D + d]!;
      m.P[u * D + d] = p + lr * (e * q - reg * p);
      m.Q[i * D + d] = q + lr * (e * p - reg * q);
    }
  }
}

const clone = (m: RatingParams): RatingParams => ({ ...m, bu: m.bu.slice(), bi: m.bi.slice(), P: m.P.slice(), Q: m.Q.slice() });

/** Fits the baseline and the model; the model's epoch is chosen by validation RMSE. */
export function fitRatings(rs: RatingSplit, opts: RatingOptions = {}): { model: RatingParams; baseline: RatingParams; result: RatingResult } {
  const o: Required<RatingOptions> = { ...RATING_DEFAULTS };
  for (const k of Object.keys(opts) as (keyof RatingOptions)[]) if (opts[k] !== undefined) o[k] = opts[k]!;
  const t0 = performance.now();
  const baseline = fitBaseline(rs);
  const mean: RatingParams = { ...baseline, bu: new Float32Array(rs.nUsers), bi: new Float32Array(rs.nItems) };
  const rng = new Rng(mix32((o.seed >>> 0) ^ 0x7a71e5));
  let model: RatingParams = {
    ...clone(baseline),
    D: o.dim,
    P: Float32Array.from({ length: rs.nUsers * o.dim }, () => 0.1 * rng.normal()),
    Q: Float32Array.from({ length: rs.nItems * o.dim }, () => 0.1 * rng.normal()),
  };
  let ran = 0;
  let best = { epoch: 0, valid: rmse(model, rs.valid), params: clone(model) };
  for (let e = 1; e <= o.epochs; e++) {
    sgdEpoch(model, rs.train, shuffledIndices(rs.train.rating.length, o.seed, e), o.lr, o.reg);
    const v = rmse(model, rs.valid);
    ran = e;
    if (v < best.valid) best = { epoch: e, valid: v, params: clone(model) };
    else if (e - best.epoch >= o.patience) break;
  }
  model = best.params;
  const on = (s: RatingSet) => ({ model: rmse(model, s), biases: rmse(baseline, s), mean: rmse(mean, s), ratings: s.rating.length });
  const result: RatingResult = {
    test: on(rs.test),
    valid: on(rs.valid),
    bestEpoch: best.epoch,
    epochs: ran,
    dim: o.dim,
    seconds: (performance.now() - t0) / 1000,
  };
  return { model, baseline, result };
}

/** The report's RMSE line(s): the model beside both baselines, or n/a for implicit data. */
export function ratingLines(r: RatingResult | undefined): string[] {
  if (!r) return ['RMSE: n/a (implicit data)'];
  const t = r.test;
  return [
    `RMSE (test, ${t.ratings} ratings): model ${t.model.toFixed(4)} | mean + biases ${t.biases.toFixed(4)} | global mean ${t.mean.toFixed(4)}` +
      `  (rating head μ + b_u + b_i + p_u·q_i, D ${r.dim}, CPU SGD, epoch ${r.bestEpoch} of ${r.epochs} run, by validation RMSE ${r.valid.model.toFixed(4)}, ${r.seconds.toFixed(1)} s)`,
  ];
}
