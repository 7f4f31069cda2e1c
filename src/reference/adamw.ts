// CPU references for adamw and gradNorm (same operands as src/kernels/adamw.ts, on arrays;
// float32 rounding after each operation, like the GPU up to fused multiply-adds).

/** Σ (g·mask)² in float64 and its square root. */
export function gradNormCpu(g: ArrayLike<number>, mask?: ArrayLike<number>): { sumSq: number; norm: number } {
  let s = 0;
  for (let i = 0; i < g.length; i++) {
    const x = mask ? g[i]! * mask[i]! : g[i]!;
    s += x * x;
  }
  return { sumSq: s, norm: Math.sqrt(s) };
}

/** The clip factor min(1, clip/(norm + 1e-6)) for clip > 0, else 1 (torch.nn.utils.clip_grad_norm_). */
export function clipScaleCpu(norm: number, clip?: number): number {
  return clip !== undefined && clip > 0 ? Math.min(1, clip / (norm + 1e-6)) : 1;
}

/**
 * One AdamW step in place (torch.optim.AdamW): g ← g·gradScale; w ← w·(1 − lr·wd) (i < decayEnd);
 * m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; w ← w − (lr/bc1)·m/(sqrt(v)/sqrt(bc2) + eps),
 * bc = 1 − β^step; masked entries: w = m = v = 0.
 */
export function adamwCpu(
  params: { w: Float32Array; g: ArrayLike<number>; m: Float32Array; v: Float32Array; mask?: ArrayLike<number> },
  hyper: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number; decayEnd?: number },
  gradScale = 1,
): void {
  const { w, g, m, v, mask } = params;
  const f = Math.fround;
  const n = w.length;
  const decayEnd = hyper.decayEnd ?? n;
  const lr = f(hyper.lr),
    b1 = f(hyper.beta1),
    b2 = f(hyper.beta2),
    eps = f(hyper.eps),
    wd = f(hyper.weightDecay);
  const bc1 = f(1 - hyper.beta1 ** hyper.step),
    sbc2 = f(Math.sqrt(f(1 - hyper.beta2 ** hyper.step)));
  const decay = f(1 - f(lr * wd)),
    stepSize = f(lr / bc1),
    s = f(gradScale);
  for (let i = 0; i < n; i++) {
    const gi = gradScale === 1 ? g[i]! : f(g[i]! * s);
    const mi = f(f(b1 * m[i]!) + f(f(1 - b1) * gi));
    const vi = f(f(b2 * v[i]!) + f(f(f(1 - b2) * gi) * gi));
    const denom = f(f(f(Math.sqrt(vi)) / sbc2) + eps);
    const nw = f((i < decayEnd ? f(w[i]! * decay) : w[i]!) - f(f(stepSize * mi) / denom));
    if (mask && mask[i] === 0) {
      w[i] = 0;
      m[i] = 0;
      v[i] = 0;
    } else {
      w[i] = nw;
      m[i] = mi;
      v[i] = vi;
    }
  }
}
