// Seeded randomness for data: a small PRNG (mulberry32) whose whole state is one u32, so a
// checkpoint can store it, plus the per-epoch shuffle used by the batcher.

/** Mixes a 32-bit value (the murmur3 finaliser): nearby seeds give unrelated streams. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function checkSeed(what: string, v: number): void {
  if (!Number.isInteger(v)) throw new RangeError(`slimgpu.data: ${what} must be an integer, got ${v}`);
}

/**
 * Mulberry32: 32 bits of state, period 2³², good enough for shuffles and synthetic data.
 * `state` is public and is all there is: `new Rng(0).state = saved` resumes a stream exactly.
 */
export class Rng {
  state: number;

  constructor(seed = 0) {
    checkSeed('seed', seed);
    this.state = seed >>> 0;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** An integer in [0, n), without modulo bias (n ≤ 2³²). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296)
      throw new RangeError(`slimgpu.data: Rng.int bound must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** A standard normal sample (Box–Muller; uses two uniforms, keeps no cached second value). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: log is finite
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** Mulberry32 as a plain function returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

/** `n` standard normal float32 values from a seeded stream. */
export function randnArray(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * r.normal();
  return out;
}

/**
 * A permutation of 0..n−1 (Fisher–Yates), fixed by (seed, epoch): the same arguments always give
 * the same order, and each epoch of a run gets its own order.
 */
export function shuffledIndices(n: number, seed: number, epoch = 0): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 4294967295)
    throw new RangeError(`slimgpu.data: shuffledIndices n must be an integer in [0, 2^32-1], got ${n}`);
  checkSeed('seed', seed);
  checkSeed('epoch', epoch);
  const rng = new Rng(mix32((seed >>> 0) ^ mix32(((epoch >>> 0) + 0x9e3779b9) >>> 0)));
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
