// CPU references for the losses (same operands as src/kernels/loss.ts, on arrays; float64 inside).
//   softmaxCrossEntropyCpu: logits (B, C), labels (B) → dlogits (B, C) = (softmax − onehot)/B and the
//     statistics the GPU adds to its stats buffer. A label ≥ C gives loss 0, a zero gradient row and
//     counts as wrong and as invalid.
//   mseCpu: pred, target (B·D) → dpred = 2(pred − target)/(B·D), lossSum = Σ (pred − target)²/D.

export interface LossStatsCpu {
  /** Σ per-sample loss (stats[0]). */
  lossSum: number;
  /** Rows whose first argmax equals the label (stats[1]). */
  correct: number;
  /** Rows seen (stats[2]). */
  count: number;
  /** Rows whose label is ≥ C (stats[3]). */
  invalidLabels: number;
}

export function softmaxCrossEntropyCpu(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  C: number,
): LossStatsCpu & { dlogits: Float32Array; losses: Float64Array } {
  const dlogits = new Float32Array(B * C);
  const losses = new Float64Array(B);
  let lossSum = 0,
    correct = 0,
    invalidLabels = 0;
  for (let r = 0; r < B; r++) {
    const base = r * C;
    const label = labels[r]!;
    let m = logits[base]!,
      arg = 0;
    for (let j = 1; j < C; j++)
      if (logits[base + j]! > m) {
        m = logits[base + j]!;
        arg = j;
      }
    if (!(label >= 0 && label < C)) {
      invalidLabels++;
      continue;
    }
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(logits[base + j]! - m);
    for (let j = 0; j < C; j++) dlogits[base + j] = (Math.exp(logits[base + j]! - m) / s - (j === label ? 1 : 0)) / B;
    losses[r] = Math.log(s) + m - logits[base + label]!;
    lossSum += losses[r]!;
    if (arg === label) correct++;
  }
  return { dlogits, losses, lossSum, correct, count: B, invalidLabels };
}

/** Mean cross-entropy over the batch (the loss whose gradient is dlogits), float64. */
export function softmaxCrossEntropyLossCpu(logits: ArrayLike<number>, labels: ArrayLike<number>, B: number, C: number): number {
  return softmaxCrossEntropyCpu(logits, labels, B, C).lossSum / B;
}

export function mseCpu(pred: ArrayLike<number>, target: ArrayLike<number>, B: number, D: number): LossStatsCpu & { dpred: Float32Array } {
  const n = B * D;
  const dpred = new Float32Array(n);
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i]! - target[i]!;
    dpred[i] = (2 * d) / n;
    sse += d * d;
  }
  return { dpred, lossSum: sse / D, correct: 0, count: B, invalidLabels: 0 };
}

/** Mean squared error over all elements (the loss whose gradient is dpred), float64. */
export function mseLossCpu(pred: ArrayLike<number>, target: ArrayLike<number>, B: number, D: number): number {
  return mseCpu(pred, target, B, D).lossSum / B;
}
