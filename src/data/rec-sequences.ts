// Item sequences for the sequential recommender rec:seq (SASRec over the GPT stack): token ids are
// item ids 0..nItems−1 and PAD = nItems, which is also the start token. A user's known items in the
// split's order (timestamps, ties by file order; without timestamps the split's seeded random order)
// are read as next-item pairs: input token t is the item before target t (PAD before the first item).
//   trainingWindows: every user's training items as windows of T pairs, cut from the end (the last T
//                    pairs, then the T before them, ...), left-padded: input PAD, target NO_TARGET;
//   evalTokens:      per evaluated user, the last T tokens of [PAD, known items] (known = training
//                    items; for the test also the validation item), left-padded with PAD — the model's
//                    output at position T − 1 is its prediction of the held-out item;
//   reshuffledTraining: without timestamps, each epoch a fresh seeded order of every user's
//                    training items (rec:seq's default for untimed logs).
// An item id outside [0, nItems) is a SeqDataError (never a silent wrong token).
import { DataError } from './dataset.js';
import { Rng, mix32 } from './random.js';
import type { RecSplit } from './rec-split.js';

/** A target slot that predicts nothing (padding). */
export const NO_TARGET = 0xffffffff;

export class SeqDataError extends DataError {
  constructor(message: string) {
    super(message);
    this.name = 'SeqDataError';
  }
}

export interface SeqWindows {
  /** Windows (rows of T). */
  n: number;
  T: number;
  /** Input tokens (n·T): item ids, PAD = nItems. */
  tokens: Uint32Array;
  /** Next-item targets (n·T): item ids, NO_TARGET where nothing is predicted. */
  targets: Uint32Array;
  /** Pairs with a target (Σ over users of their training items). */
  pairs: number;
}

function checkT(T: number): void {
  if (!Number.isInteger(T) || T < 1 || T > 4096) throw new SeqDataError(`slimgpu.data: sequence length T must be an integer in [1, 4096], got ${T}`);
}

function checkItems(items: ArrayLike<number>, nItems: number, what: string): void {
  for (let j = 0; j < items.length; j++) {
    const i = items[j]!;
    if (!Number.isInteger(i) || i < 0 || i >= nItems)
      throw new SeqDataError(`slimgpu.data: ${what}: item id ${i} at position ${j} is not a known item (ids 0..${nItems - 1})`);
  }
}

/** The items known before `target` for user u: training items, plus the validation item for the test. */
export function knownItems(split: RecSplit, u: number, target: 'valid' | 'test'): Uint32Array {
  if (!Number.isInteger(u) || u < 0 || u >= split.nUsers) throw new SeqDataError(`slimgpu.data: unknown user id ${u} (users 0..${split.nUsers - 1})`);
  const train = split.trainItems.subarray(split.trainPtr[u]!, split.trainPtr[u + 1]!);
  if (target === 'valid' || split.valid[u]! < 0) return train.slice();
  const out = new Uint32Array(train.length + 1);
  out.set(train);
  out[train.length] = split.valid[u]!;
  return out;
}

/** The last T tokens of [PAD, ...items], left-padded with PAD (PAD = nItems). */
export function contextTokens(items: ArrayLike<number>, nItems: number, T: number): Uint32Array {
  checkT(T);
  checkItems(items, nItems, 'sequence');
  const out = new Uint32Array(T).fill(nItems);
  const n = Math.min(items.length, T);
  for (let j = 0; j < n; j++) out[T - n + j] = items[items.length - n + j]!;
  return out;
}

/** Every user's training items as next-item windows of T pairs (see the file comment). */
export function trainingWindows(split: RecSplit, T: number): SeqWindows {
  checkT(T);
  const PAD = split.nItems;
  checkItems(split.trainItems, split.nItems, `${split.name}: training items`);
  let n = 0;
  for (let u = 0; u < split.nUsers; u++) n += Math.ceil((split.trainPtr[u + 1]! - split.trainPtr[u]!) / T);
  const tokens = new Uint32Array(n * T).fill(PAD),
    targets = new Uint32Array(n * T).fill(NO_TARGET);
  let w = 0;
  for (let u = 0; u < split.nUsers; u++) {
    const s = split.trainItems.subarray(split.trainPtr[u]!, split.trainPtr[u + 1]!);
    // windows of pairs [lo, hi) from the end; pair j: input s[j − 1] (PAD for j = 0), target s[j]
    for (let hi = s.length; hi > 0; hi -= T) {
      const lo = Math.max(0, hi - T);
      const off = w * T + T - (hi - lo);
      for (let j = lo; j < hi; j++) {
        tokens[off + j - lo] = j === 0 ? PAD : s[j - 1]!;
        targets[off + j - lo] = s[j]!;
      }
      w++;
    }
  }
  return { n, T, tokens, targets, pairs: split.trainItems.length };
}

/**
 * The split with each user's training items in a fresh seeded order (epoch e): for a log without
 * timestamps, whose order is a random permutation anyway, every epoch then shows the model other
 * prefixes of the same sets. Validation and test items are unchanged.
 */
export function reshuffledTraining(split: RecSplit, seed: number, epoch: number): RecSplit {
  const items = split.trainItems.slice();
  for (let u = 0; u < split.nUsers; u++) {
    const lo = split.trainPtr[u]!,
      n = split.trainPtr[u + 1]! - lo;
    const rng = new Rng(mix32((seed >>> 0) ^ mix32(u + 0x5e9 * (epoch + 1))));
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = items[lo + i]!;
      items[lo + i] = items[lo + j]!;
      items[lo + j] = t;
    }
  }
  return { ...split, trainItems: items };
}

/** Per user of `users`: the context tokens (users.length·T) that predict its `target` item. */
export function evalTokens(split: RecSplit, users: ArrayLike<number>, target: 'valid' | 'test', T: number): Uint32Array {
  checkT(T);
  const out = new Uint32Array(users.length * T);
  for (let r = 0; r < users.length; r++) out.set(contextTokens(knownItems(split, users[r]!, target), split.nItems, T), r * T);
  return out;
}

/** The windows `order` names, in that order (whole windows move), padded with empty windows to a multiple of B. */
export function batchedWindows(w: SeqWindows, order: ArrayLike<number>, B: number, PAD: number): { tokens: Uint32Array; targets: Uint32Array } {
  const T = w.T;
  const rows = Math.max(1, Math.ceil(order.length / B)) * B;
  const tokens = new Uint32Array(rows * T).fill(PAD),
    targets = new Uint32Array(rows * T).fill(NO_TARGET);
  for (let r = 0; r < order.length; r++) {
    const k = order[r]!;
    tokens.set(w.tokens.subarray(k * T, (k + 1) * T), r * T);
    targets.set(w.targets.subarray(k * T, (k + 1) * T), r * T);
  }
  return { tokens, targets };
}

/** Targets as a CSR of one row per slot (0 or 1 item each): the operand of rec-softmax's softmax_xent. */
export function targetCsr(targets: Uint32Array): { rowptr: Uint32Array; items: Uint32Array } {
  const rowptr = new Uint32Array(targets.length + 1);
  let k = 0;
  for (let r = 0; r < targets.length; r++) {
    if (targets[r] !== NO_TARGET) k++;
    rowptr[r + 1] = k;
  }
  const items = new Uint32Array(Math.max(1, k));
  k = 0;
  for (let r = 0; r < targets.length; r++) if (targets[r] !== NO_TARGET) items[k++] = targets[r]!;
  return { rowptr, items };
}
