// The block codec's in-loop-free deblocking (decoder side, CPU, after the GPU synthesis): across every
// 8-pixel block edge of every plane, where the step over the edge is small enough to be a coding
// artefact (|p0 − q0| < 3T, |p1 − p0| < T, |q1 − q0| < T), the two edge pixels move toward each other
// by d = (4(q0 − p0) + (p1 − q1)) / 8, clamped to ±T (H.264's normal filter). T = strength · step / 4,
// with the strength per quality in the model (blk.deblock, fitted by scripts/train-block-codec.ts).
// f32/f64 arithmetic: the image (not the latent) may differ in the last bit across engines.
import { BLOCK } from './block-transform.js';

function edge(x: Float32Array, a: number, s: number, t: number): void {
  const p1 = x[a - 2 * s]!,
    p0 = x[a - s]!,
    q0 = x[a]!,
    q1 = x[a + s]!;
  if (Math.abs(p0 - q0) >= 3 * t || Math.abs(p1 - p0) >= t || Math.abs(q1 - q0) >= t) return;
  const d = Math.min(Math.max((4 * (q0 - p0) + (p1 - q1)) / 8, -t), t);
  x[a - s] = p0 + d;
  x[a] = q0 - d;
}

/** Filters planes x (C, h, w) in place (h, w multiples of 8); T as above, in the planes' units. */
export function deblock(x: Float32Array, channels: number, h: number, w: number, t: number): void {
  if (!(t > 0)) return;
  for (let c = 0; c < channels; c++) {
    const o = c * h * w;
    for (let y = 0; y < h; y++) for (let bx = BLOCK; bx < w; bx += BLOCK) edge(x, o + y * w + bx, 1, t);
    for (let by = BLOCK; by < h; by += BLOCK) for (let xx = 0; xx < w; xx++) edge(x, o + by * w + xx, w, t);
  }
}
