// CPU reference of the factorised entropy model (shaders/factorized-prior.wgsl; Ballé et al. 2018):
// per channel a monotone MLP 1-3-3-3-1 gives the logit of the CDF; the likelihood of y is the mass
// of [y − ½, y + ½] and bits = −log2(max(lik, 1e-9)). theta (C, 43) = per channel H0 b0 f0 H1 b1 f1
// H2 b2 f2 H3 b3 (raw: softplus of H, tanh of f are applied here). Computed in f64 (the shader in
// f32); the backward is the analytic gradient, which the tests check against finite differences.

export const FP_PARAMS = 43;
const LIK_MIN = 1e-9;
/** Offsets of each block in a channel's 43 parameters. */
export const FP_LAYOUT = { h0: 0, b0: 3, f0: 6, h1: 9, b1: 18, f1: 21, h2: 24, b2: 33, f2: 36, h3: 39, b3: 42 } as const;

const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

interface Layer {
  h: number[][]; // softplus(H) [out][in]
  rawH: number[][];
  b: number[];
  t: number[]; // tanh(f) (empty for the last layer)
}

function layers(theta: ArrayLike<number>, c: number): Layer[] {
  const o = c * FP_PARAMS;
  const at = (k: number) => theta[o + k]!;
  const mat = (off: number, rows: number, cols: number, f: (v: number) => number) =>
    Array.from({ length: rows }, (_, j) => Array.from({ length: cols }, (_, k) => f(at(off + j * cols + k))));
  const vec = (off: number, n: number, f: (v: number) => number = (v) => v) => Array.from({ length: n }, (_, j) => f(at(off + j)));
  const L = FP_LAYOUT;
  const id = (v: number) => v;
  return [
    { h: mat(L.h0, 3, 1, softplus), rawH: mat(L.h0, 3, 1, id), b: vec(L.b0, 3), t: vec(L.f0, 3, Math.tanh) },
    { h: mat(L.h1, 3, 3, softplus), rawH: mat(L.h1, 3, 3, id), b: vec(L.b1, 3), t: vec(L.f1, 3, Math.tanh) },
    { h: mat(L.h2, 3, 3, softplus), rawH: mat(L.h2, 3, 3, id), b: vec(L.b2, 3), t: vec(L.f2, 3, Math.tanh) },
    { h: mat(L.h3, 1, 3, softplus), rawH: mat(L.h3, 1, 3, id), b: vec(L.b3, 1), t: [] },
  ];
}

/** The activations of one evaluation: inputs of each layer (acts[i]) and pre-activations z[i]. */
function mlp(ls: Layer[], v: number): { inputs: number[][]; z: number[][]; out: number } {
  const inputs: number[][] = [];
  const z: number[][] = [];
  let a = [v];
  for (const l of ls) {
    inputs.push(a);
    const zi = l.h.map((row, j) => row.reduce((s, w, k) => s + w * a[k]!, 0) + l.b[j]!);
    z.push(zi);
    a = l.t.length ? zi.map((x, j) => x + l.t[j]! * Math.tanh(x)) : zi;
  }
  return { inputs, z, out: a[0]! };
}

/** The CDF logit of channel c at v. */
export function factorizedLogitCpu(theta: ArrayLike<number>, c: number, v: number): number {
  return mlp(layers(theta, c), v).out;
}

interface Bin {
  lik: number;
  /** ∂lik/∂up and ∂lik/∂lo (0 where the floor applies). */
  dUp: number;
  dLo: number;
}

function bin(ls: Layer[], v: number): Bin {
  const lo = mlp(ls, v - 0.5).out,
    up = mlp(ls, v + 0.5).out;
  const s = -Math.sign(lo + up);
  const d = sigmoid(s * up) - sigmoid(s * lo);
  const lik = Math.abs(d);
  if (lik < LIK_MIN) return { lik, dUp: 0, dLo: 0 };
  const su = sigmoid(s * up),
    sl = sigmoid(s * lo);
  return { lik, dUp: Math.sign(d) * s * su * (1 - su), dLo: -Math.sign(d) * s * sl * (1 - sl) };
}

/** bits[i] = −log2 max(lik(y[i]), 1e-9) for y (N, C, HW) flattened. */
export function factorizedBitsCpu(y: ArrayLike<number>, theta: ArrayLike<number>, C: number, HW: number): Float64Array {
  const out = new Float64Array(y.length);
  const ls = Array.from({ length: C }, (_, c) => layers(theta, c));
  for (let i = 0; i < y.length; i++) out[i] = -Math.log2(Math.max(bin(ls[Math.floor(i / HW) % C]!, y[i]!).lik, LIK_MIN));
  return out;
}

/** Adds ∂(gout·logit(v))/∂theta to g (one channel's 43 entries); returns ∂(gout·logit)/∂v. */
function mlpBackward(ls: Layer[], v: number, gout: number, g: Float64Array): number {
  const { inputs, z } = mlp(ls, v);
  const L = FP_LAYOUT;
  const offs = [
    [L.h0, L.b0, L.f0],
    [L.h1, L.b1, L.f1],
    [L.h2, L.b2, L.f2],
    [L.h3, L.b3, -1],
  ];
  let da = [gout];
  for (let i = ls.length - 1; i >= 0; i--) {
    const l = ls[i]!,
      [oh, ob, of] = offs[i]!;
    const dz = da.map((d, j) => {
      if (!l.t.length) return d;
      const tz = Math.tanh(z[i]![j]!);
      g[of! + j] += d * tz * (1 - l.t[j]! * l.t[j]!);
      return d * (1 + l.t[j]! * (1 - tz * tz));
    });
    const a = inputs[i]!;
    const next = new Array<number>(a.length).fill(0);
    dz.forEach((d, j) => {
      g[ob! + j] += d;
      a.forEach((ak, k) => {
        g[oh! + j * a.length + k] += d * ak * sigmoid(l.rawH[j]![k]!);
        next[k] += l.h[j]![k]! * d;
      });
    });
    da = next;
  }
  return da[0]!;
}

/** dy = dbits·∂bits/∂y and dtheta (C, 43) = Σ dbits·∂bits/∂theta, for y (N, C, HW) flattened. */
export function factorizedBitsBackwardCpu(
  y: ArrayLike<number>,
  theta: ArrayLike<number>,
  dbits: ArrayLike<number>,
  C: number,
  HW: number,
): { dy: Float64Array; dtheta: Float64Array } {
  const dy = new Float64Array(y.length),
    dtheta = new Float64Array(C * FP_PARAMS);
  const ls = Array.from({ length: C }, (_, c) => layers(theta, c));
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / HW) % C;
    const b = bin(ls[c]!, y[i]!);
    if (b.lik < LIK_MIN) continue;
    const q = -dbits[i]! / (b.lik * Math.LN2);
    const g = dtheta.subarray(c * FP_PARAMS, (c + 1) * FP_PARAMS);
    dy[i] = mlpBackward(ls[c]!, y[i]! + 0.5, q * b.dUp, g) + mlpBackward(ls[c]!, y[i]! - 0.5, q * b.dLo, g);
  }
  return { dy, dtheta };
}

/** Ballé's initialisation of theta (C, 43) for an initial scale (the reference code's init_scale 10). */
export function factorizedInit(C: number, initScale = 10, seed = 1): Float32Array {
  const theta = new Float32Array(C * FP_PARAMS);
  const scale = initScale ** (1 / 4);
  const fan = [1, 3, 3, 3, 1];
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  const L = FP_LAYOUT;
  const hs = [L.h0, L.h1, L.h2, L.h3],
    bs = [L.b0, L.b1, L.b2, L.b3];
  for (let c = 0; c < C; c++) {
    const o = c * FP_PARAMS;
    for (let i = 0; i < 4; i++) {
      const init = Math.log(Math.expm1(1 / scale / fan[i + 1]!));
      for (let k = 0; k < fan[i + 1]! * fan[i]!; k++) theta[o + hs[i]! + k] = init;
      for (let k = 0; k < fan[i + 1]!; k++) theta[o + bs[i]! + k] = rnd();
    }
  }
  return theta;
}
