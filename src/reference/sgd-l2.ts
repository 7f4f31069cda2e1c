// CPU reference for sgdL2 (same operands as src/kernels/sgd-l2.ts, on arrays; float32 rounding
// after each operation, like the GPU up to fused multiply-adds). Updates w and v in place:
//   g' = g + l2·w (i < decayEnd), v = momentum·v + g', w = (w − lr·v)·mask (masked → exactly 0).
export function sgdL2Cpu(
  params: { w: Float32Array; g: ArrayLike<number>; v: Float32Array; mask?: ArrayLike<number> },
  hyper: { lr: number; momentum: number; l2: number; decayEnd?: number },
  /** Gradient scale (the global-norm clip factor, see clipScaleCpu); default 1. */
  gradScale = 1,
): void {
  const { w, g, v, mask } = params;
  const f = Math.fround;
  const n = w.length;
  const decayEnd = hyper.decayEnd ?? n;
  const lr = f(hyper.lr),
    mu = f(hyper.momentum),
    l2 = f(hyper.l2);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    const gi = gradScale === 1 ? g[i]! : f(g[i]! * f(gradScale));
    const gp = i < decayEnd ? f(gi + f(l2 * wi)) : gi;
    const vi = f(f(mu * v[i]!) + gp);
    v[i] = vi;
    const nw = f(wi - f(lr * vi));
    if (mask) {
      const m = mask[i]!;
      w[i] = m !== 0 ? nw * m : 0;
    } else {
      w[i] = nw;
    }
  }
}
