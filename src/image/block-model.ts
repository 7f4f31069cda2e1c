// The block codec's model file (img:dct presets; scripts/train-block-codec.ts writes them):
//   blk.colour  F32 (P, P)   orthonormal colour transform (P = 1 or 3 planes)
//   blk.steps   F32 (L)      quantisation step of each quality index (0 = finest), pixels in [0, 1];
//                            L = the number of qualities, 1..15 (img:dct, img:dct-g: 8; img:dct-g2: 15);
//                            every per-quality tensor below has L entries
//   blk.pad     F32 (1)      optional, encoder only: 1 = mirrored edge padding (src/image/block-pad.ts), else replicated
//   blk.round   F32 (8)      the encoder's rounding offset (0.5 = nearest; smaller = a dead zone)
//   blk.recon   F32 (8)      the decoder's reconstruction: ŷ = sign(q)·(|q| − recon)·step for q ≠ 0
//   blk.tail    F32 (8)      the encoder's trailing-ones threshold: a block's last non-zero AC coefficients
//                            that are ±1 with |y|/step below it are dropped (a rate-distortion choice)
//   blk.iso     F32 (8)      the same for isolated ±1s (their four frequency neighbours in the block are 0)
//   blk.chroma  F32 (8)      step multiplier of planes 1 and 2 (encoder and decoder)
//   blk.deblock F32 (8)      the decoder's deblocking strength (src/image/deblock.ts; 0 = off)
//   blk.p.<q>   U16 (BLOCK_CONTEXTS)  initial P(1) of every context of the block coder at quality index q
//   blk.n.<q>   U8  (BLOCK_CONTEXTS)  its initial count (confidence)
// Parsed as untrusted input. The transform weights are not stored: they follow from blk.colour and
// the DCT (src/image/block-transform.ts).
import { parseSafetensors, serializeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { BLOCK_CONTEXTS, BlockDecoder, BlockEncoder, codeBlocks, type ContextInit } from './block-coder.js';
import { BLOCK, blockWeights, COEFS, INV_ZIGZAG, ZIGZAG } from './block-transform.js';
import { ImageError } from './raw.js';

export const BLOCK_QUALITIES = 8;
/** The most qualities a block model may have (the .slimg quality field is 4 bits, 0 unused). */
export const MAX_BLOCK_QUALITIES = 15;

export interface BlockModel {
  planes: number;
  colour: Float32Array;
  steps: Float32Array;
  round: Float32Array;
  recon: Float32Array;
  tail: Float32Array;
  iso: Float32Array;
  chroma: Float32Array;
  deblock: Float32Array;
  init: ContextInit[];
  /** Encoder only: mirror the image into the padding of its last block row / column (else replicate the edge). */
  mirror?: boolean;
}

export function isBlockModelFile(t: Record<string, SafeTensor>): boolean {
  return 'blk.colour' in t;
}

function f32(t: Record<string, SafeTensor>, name: string, where: string, n: number): Float32Array {
  const v = t[name];
  if (!v) throw new ImageError(`${where}: tensor '${name}' is missing`);
  if (v.dtype !== 'F32' || v.data.length !== n) throw new ImageError(`${where}: '${name}' must be F32 with ${n} values`);
  if (!(v.data as Float32Array).every((x) => Number.isFinite(x))) throw new ImageError(`${where}: '${name}' has a non-finite value`);
  return v.data as Float32Array;
}

export function parseBlockModel(t: Record<string, SafeTensor>, where: string): BlockModel {
  const c = t['blk.colour'];
  const planes = c?.shape[0] ?? 0;
  if (planes !== 1 && planes !== 3) throw new ImageError(`${where}: blk.colour must be 1x1 or 3x3`);
  const colour = f32(t, 'blk.colour', where, planes * planes);
  const levels = t['blk.steps']?.data.length ?? 0;
  if (levels < 1 || levels > MAX_BLOCK_QUALITIES)
    throw new ImageError(`${where}: blk.steps must have 1..${MAX_BLOCK_QUALITIES} qualities, has ${levels}`);
  const steps = f32(t, 'blk.steps', where, levels),
    round = f32(t, 'blk.round', where, levels),
    recon = f32(t, 'blk.recon', where, levels),
    tail = f32(t, 'blk.tail', where, levels),
    iso = f32(t, 'blk.iso', where, levels),
    chroma = f32(t, 'blk.chroma', where, levels),
    deblock = f32(t, 'blk.deblock', where, levels),
    mirror = 'blk.pad' in t ? f32(t, 'blk.pad', where, 1)[0] === 1 : false;
  if (chroma.some((s) => !(s > 0))) throw new ImageError(`${where}: blk.chroma must be positive`);
  if (steps.some((s) => !(s > 0))) throw new ImageError(`${where}: blk.steps must be positive`);
  const init: ContextInit[] = [];
  for (let q = 0; q < levels; q++) {
    const p = t[`blk.p.${q}`],
      n = t[`blk.n.${q}`];
    if (p?.dtype !== 'U16' || n?.dtype !== 'U8' || p.data.length !== BLOCK_CONTEXTS || n.data.length !== BLOCK_CONTEXTS)
      throw new ImageError(`${where}: blk.p.${q} (U16) and blk.n.${q} (U8) must have ${BLOCK_CONTEXTS} entries each`);
    init.push({ p: p.data as Uint16Array, n: n.data as Uint8Array });
  }
  return { planes, colour, steps, round, recon, tail, iso, chroma, deblock, init, mirror };
}

export function serializeBlockModel(m: BlockModel, metadata: Record<string, string> = {}): Uint8Array {
  const L = m.steps.length;
  const t: Record<string, SafeTensor> = {
    'blk.colour': { dtype: 'F32', shape: [m.planes, m.planes], data: m.colour },
    'blk.steps': { dtype: 'F32', shape: [L], data: m.steps },
    'blk.round': { dtype: 'F32', shape: [L], data: m.round },
    'blk.recon': { dtype: 'F32', shape: [L], data: m.recon },
    'blk.tail': { dtype: 'F32', shape: [L], data: m.tail },
    'blk.iso': { dtype: 'F32', shape: [L], data: m.iso },
    'blk.chroma': { dtype: 'F32', shape: [L], data: m.chroma },
    'blk.deblock': { dtype: 'F32', shape: [L], data: m.deblock },
  };
  if (m.mirror) t['blk.pad'] = { dtype: 'F32', shape: [1], data: Float32Array.of(1) };
  for (const [q, s] of m.init.entries()) {
    t[`blk.p.${q}`] = { dtype: 'U16', shape: [BLOCK_CONTEXTS], data: s.p };
    t[`blk.n.${q}`] = { dtype: 'U8', shape: [BLOCK_CONTEXTS], data: s.n };
  }
  return serializeSafetensors(t, metadata);
}

export function blockModelFromBytes(bytes: Uint8Array, where: string): BlockModel {
  return parseBlockModel(parseSafetensors(bytes).tensors, where);
}

/** The analysis conv weights (P·64, P, 8, 8) (the synthesis reads the same array as (P·64, P, 8, 8) transposed-conv weights). */
export function blockModelWeights(m: BlockModel): Float32Array {
  return blockWeights(m.colour, m.planes);
}

/** The step of plane p at quality index qi. */
export const blockStep = (m: BlockModel, qi: number, p: number): number => m.steps[qi]! * (p > 0 ? m.chroma[qi]! : 1);

/** Coefficients (P·64, bh, bw), `plane` = bh·bw → integers at quality index `qi` (AC: dead-zone rounding |q| = ⌊|y|/step + round⌋, DC: nearest), then the rate-distortion drops. */
export function blockQuantise(y: Float32Array, m: BlockModel, qi: number, plane: number): Int32Array {
  const r = m.round[qi]!;
  const q = Int32Array.from(y, (v, i) => {
    const ch = Math.floor(i / plane),
      a = Math.floor(Math.abs(v) / blockStep(m, qi, Math.floor(ch / COEFS)) + (ch % COEFS === 0 ? 0.5 : r));
    return v < 0 ? -a : a;
  });
  for (let p = 0; p < m.planes; p++) dropOnes(q, y, p, plane, 1 / blockStep(m, qi, p), m.tail[qi]!, m.iso[qi]!);
  return q;
}

/** Zeroes a block's trailing ±1s with |y|/step < tail and isolated ±1s with |y|/step < iso. */
function dropOnes(q: Int32Array, y: Float32Array, p: number, plane: number, inv: number, tail: number, iso: number): void {
  const at = (k: number, i: number) => (p * COEFS + k) * plane + i;
  for (let i = 0; i < plane; i++) {
    for (let k = COEFS - 1; k > 0; k--) {
      const idx = at(k, i);
      if (q[idx] === 0) continue;
      if (Math.abs(q[idx]!) !== 1 || Math.abs(y[idx]!) * inv >= tail) break;
      q[idx] = 0;
    }
    if (!(iso > 0)) continue;
    for (let k = 1; k < COEFS; k++) {
      const idx = at(k, i);
      if (Math.abs(q[idx]!) !== 1 || Math.abs(y[idx]!) * inv >= iso) continue;
      const u = Math.floor(ZIGZAG[k]! / BLOCK),
        v = ZIGZAG[k]! % BLOCK;
      const nb = (uu: number, vv: number) => (uu < 0 || vv < 0 || uu >= BLOCK || vv >= BLOCK ? 0 : q[at(INV_ZIGZAG[uu * BLOCK + vv]!, i)]!);
      if (nb(u - 1, v) === 0 && nb(u + 1, v) === 0 && nb(u, v - 1) === 0 && nb(u, v + 1) === 0) q[idx] = 0;
    }
  }
}

/** Integers → coefficients: ŷ = sign(q)·(|q| − recon)·step; the DC coefficients (k = 0) are not pulled toward 0. */
export function blockDequantise(q: Int32Array, m: BlockModel, qi: number, plane: number): Float32Array {
  const d = m.recon[qi]!;
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const v = q[i]!,
      ch = Math.floor(i / plane),
      step = blockStep(m, qi, Math.floor(ch / COEFS));
    const dc = ch % COEFS === 0;
    out[i] = v === 0 ? 0 : dc ? v * step : (v > 0 ? v - d : v + d) * step;
  }
  return out;
}

/** One payload for all tiles (row-major): the context states carry over from tile to tile. */
export function encodeBlockTiles(m: BlockModel, qi: number, tiles: { q: Int32Array; bh: number; bw: number }[]): Uint8Array {
  const enc = new BlockEncoder(m.init[qi]!);
  for (const t of tiles) codeBlocks(enc, t.q, m.planes, t.bh, t.bw);
  return enc.enc.finish();
}

/** The inverse of encodeBlockTiles; damaged or truncated payloads are CodecErrors. */
export function decodeBlockTiles(m: BlockModel, qi: number, payload: Uint8Array, tiles: { bh: number; bw: number }[], where: string): Int32Array[] {
  const dec = new BlockDecoder(m.init[qi]!, payload, where);
  const out = tiles.map((t) => {
    const q = new Int32Array(m.planes * COEFS * t.bh * t.bw);
    codeBlocks(dec, q, m.planes, t.bh, t.bw);
    return q;
  });
  dec.dec.end();
  return out;
}
