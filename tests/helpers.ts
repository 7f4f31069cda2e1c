// Test helpers: one GPU per test file, deterministic random data, and closeness with the worst element.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createGpu, type Gpu } from '../src/index.js';

let gpuP: Promise<Gpu> | undefined;
export function testGpu(): Promise<Gpu> {
  gpuP ??= createGpu();
  return gpuP;
}

/** Mulberry32: a small seeded PRNG. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12),
      v = r();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** Throws with the worst element when |a - e| > atol + rtol·|e| anywhere. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol?: number; rtol?: number } = {},
  what = 'result',
): void {
  const atol = tol.atol ?? 1e-5,
    rtol = tol.rtol ?? 1e-4;
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  let worst = -1,
    worstExcess = 0,
    bad = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0)) {
      bad++;
      if (worst < 0 || !(excess <= worstExcess)) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad > 0) {
    throw new Error(
      `${what}: ${bad}/${actual.length} elements outside atol ${atol} + rtol ${rtol}·|ref|; worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}`,
    );
  }
}

/** Runs bin/slimgpu.js with `args`; never throws on a non-zero exit. */
const exec = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../bin/slimgpu.js');

export async function cli(args: string[], opts: { timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { timeout: opts.timeout ?? 300_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
