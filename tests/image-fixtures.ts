// Fixtures of the image codec tests: random integer tables, a small random model file, smooth test images.
import { serializeSafetensors, type TensorMap } from '../src/io/safetensors.js';
import { QUALITIES } from '../src/image/model.js';
import { BLOCK_CONTEXTS } from '../src/image/block-coder.js';
import { serializeBlockModel, type BlockModel } from '../src/image/block-model.js';
import { principalColours } from '../src/image/block-transform.js';
import type { RawImage } from '../src/image/raw.js';
import { rng, uniform } from './helpers.js';

/** Random frequencies (channels × 256, each ≥ 1, rows summing to 2^16), peaked near symbol 127. */
export function randomFreq(m: number, seed: number): Uint16Array {
  const r = rng(seed),
    f = new Uint16Array(m * 256);
  for (let c = 0; c < m; c++) {
    let sum = 0;
    for (let s = 0; s < 256; s++) {
      const v = 1 + Math.floor(2000 * Math.exp(-Math.abs(s - 127) / (1 + 3 * r())));
      f[c * 256 + s] = v;
      sum += v;
    }
    const scale = (65536 - 256) / (sum - 256);
    sum = 0;
    for (let s = 0; s < 256; s++) sum += f[c * 256 + s] = 1 + Math.floor((f[c * 256 + s]! - 1) * scale);
    f[c * 256 + 127] += 65536 - sum;
  }
  return f;
}

/** A small random model file (C image channels, N filters, M latent channels). */
export function tinyModelBytes(C: number, N: number, M: number, seed: number): Uint8Array {
  const t: TensorMap = {};
  const shapes: [string, number[]][] = [
    ['a0', [N, C, 5, 5]],
    ['a1', [N, N, 5, 5]],
    ['a2', [M, N, 5, 5]],
    ['s0', [M, N, 5, 5]],
    ['s1', [N, N, 5, 5]],
    ['s2', [N, C, 5, 5]],
  ];
  for (const [i, [name, s]] of shapes.entries()) {
    t[`${name}.w`] = {
      dtype: 'F32',
      shape: s,
      data: uniform(
        s.reduce((a, b) => a * b),
        seed + i,
        -0.2,
        0.2,
      ),
    };
    const oc = name.startsWith('s') ? s[1]! : s[0]!;
    t[`${name}.b`] = { dtype: 'F32', shape: [oc], data: uniform(oc, seed + 10 + i, 0, 0.1) };
  }
  t['ent.steps'] = { dtype: 'F32', shape: [QUALITIES], data: Float32Array.from({ length: QUALITIES }, (_, q) => 0.05 * 1.5 ** q) };
  for (let q = 0; q < QUALITIES; q++) {
    t[`ent.offset.${q}`] = { dtype: 'I32', shape: [M], data: Int32Array.from({ length: M }, (_, c) => (c % 3) - 1) };
    t[`ent.freq.${q}`] = { dtype: 'U16', shape: [M, 256], data: randomFreq(M, seed + 100 + q) };
  }
  return serializeSafetensors(t);
}

export function randomImage(w: number, h: number, c: number, seed: number): RawImage {
  const r = rng(seed),
    data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) data[(y * w + x) * c + k] = Math.round(127 + 90 * Math.sin(x / 5 + k) * Math.cos(y / 7) + 20 * r());
  return { width: w, height: h, channels: c, data };
}

/** A block-codec model (img:dct; img:dct-g2: 15 levels, mirrored padding) with flat initial context states. */
export function flatBlockModel(planes: number, levels = 8, mirror = false): BlockModel {
  const colour = planes === 3 ? Float32Array.from(principalColours(uniform(300, 4, 0, 1))) : Float32Array.of(1);
  const f = (v: number) => new Float32Array(levels).fill(v);
  const init = Array.from({ length: levels }, () => ({ p: new Uint16Array(BLOCK_CONTEXTS).fill(32768), n: new Uint8Array(BLOCK_CONTEXTS) }));
  const steps =
    levels === 8
      ? Float32Array.from([0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3])
      : Float32Array.from({ length: levels }, (_, i) => 0.01 * 1.3 ** i);
  return { planes, colour, steps, round: f(0.3), recon: f(0.1), tail: f(0.9), iso: f(0), chroma: f(1), deblock: f(1), init, mirror };
}

export const flatBlockModelBytes = (planes: number, levels = 8, mirror = false): Uint8Array =>
  serializeBlockModel(flatBlockModel(planes, levels, mirror));
