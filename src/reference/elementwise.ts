// CPU references for the element-wise kernels (same operands as src/kernels/elementwise.ts, on arrays).
export function reluBackwardCpu(y: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return Float32Array.from(dy, (d, i) => (y[i]! > 0 ? d : 0));
}

export function sigmoidCpu(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
}

/** From the sigmoid output y. */
export function sigmoidBackwardCpu(y: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return Float32Array.from(dy, (d, i) => d * y[i]! * (1 - y[i]!));
}

export function tanhCpu(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => Math.tanh(v));
}

/** From the tanh output y. */
export function tanhBackwardCpu(y: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return Float32Array.from(dy, (d, i) => d * (1 - y[i]! * y[i]!));
}

export function fillCpu(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}

export function scaleCpu(x: ArrayLike<number>, a: number): Float32Array {
  return Float32Array.from(x, (v) => a * v);
}

/** Returns y + a·x (the GPU updates y in place). */
export function axpyCpu(a: number, x: ArrayLike<number>, y: ArrayLike<number>): Float32Array {
  return Float32Array.from(y, (v, i) => v + a * x[i]!);
}

export function copyCpu(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x);
}

export function reluCpu(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => (v > 0 ? v : 0));
}

const GELU_K0 = Math.sqrt(2 / Math.PI),
  GELU_K1 = 0.044715;

/** GPT-2's GELU (tanh approximation). */
export function geluCpu(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(GELU_K0 * (v + GELU_K1 * v ** 3))));
}

/** dy · gelu'(x), from the gelu input x. */
export function geluBackwardCpu(x: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return Float32Array.from(dy, (d, i) => {
    const v = x[i]!,
      t = Math.tanh(GELU_K0 * (v + GELU_K1 * v ** 3));
    return d * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_K0 * (1 + 3 * GELU_K1 * v * v));
  });
}

export function addCpu(x: ArrayLike<number>, y: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v, i) => v + y[i]!);
}
