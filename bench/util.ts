// Helpers shared by bench entries: seeded data, comparison with the CPU reference.
import { destroyDispatches, type Dispatch } from '../src/gpu/dispatch.js';
import type { Tensor } from '../src/gpu/tensor.js';

/** Uniform values in [lo, hi) from a seeded generator (mulberry32). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export class MismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MismatchError';
  }
}

/** Throws a MismatchError naming the worst element when |got − ref| > atol + rtol·|ref| anywhere. */
export function checkClose(what: string, got: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number): void {
  if (got.length !== ref.length) throw new MismatchError(`${what}: ${got.length} values, reference has ${ref.length}`);
  let bad = 0,
    worst = -1,
    worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i]! - ref[i]!) - (atol + rtol * Math.abs(ref[i]!));
    if (!(excess <= 0)) {
      bad++;
      if (worst < 0 || !(excess <= worstExcess)) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad)
    throw new MismatchError(
      `${what}: ${bad}/${got.length} values differ from the CPU reference; worst [${worst}] got ${got[worst]}, expected ${ref[worst]}`,
    );
}

/** dispose() for a Prepared: destroys the tensors and the dispatches' owned buffers. */
export function disposer(tensors: Tensor[], dispatches: Dispatch[]): () => void {
  return () => {
    destroyDispatches(dispatches);
    for (const t of tensors) t.dispose();
  };
}
