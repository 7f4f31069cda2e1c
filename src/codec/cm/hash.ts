// 32-bit integer hashing for the CM model's contexts (Math.imul: exact, engine-independent).

/** Mixes two 32-bit integers into a well-spread 32-bit hash (a signed int32: no heap numbers). */
export function hash2(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae3d);
  h ^= h >>> 13;
  return h | 0;
}
