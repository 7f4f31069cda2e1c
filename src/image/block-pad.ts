// Padding of an image edge up to the block size (encoder side only: the decoder crops the padding).
// Mirrored padding (x[n + i] = x[n − 1 − i]) makes a block that is half image, half padding
// symmetric about its centre, so its odd-frequency DCT coefficients along that axis vanish: a 28×28
// Fashion-MNIST image (3.5 blocks) codes its last block row and column with about half the
// coefficients of the replicated edge (measured in docs/images.md). Used by img:dct-g2.

/** Source index of padded index i of an axis with n samples: i itself inside, mirrored beyond (clamped to 0 when the padding outgrows the image). */
export function padMirror(i: number, n: number): number {
  return i < n ? i : Math.max(0, 2 * n - 1 - i);
}

/** Source index with the last sample replicated (the padding of every other model). */
export function padEdge(i: number, n: number): number {
  return Math.min(i, n - 1);
}
