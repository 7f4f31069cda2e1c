// The block codec's transform (img:dct presets, docs/images.md): an orthonormal colour transform
// (the principal axes of the training pixels, 3×3; identity for grayscale) followed by the 8×8 DCT-II,
// folded into ONE convolution with kernel 8, stride 8: latent channel p·64 + k is zigzag coefficient k
// of colour plane p. The synthesis is the transposed convolution with the same weights (the
// transform is orthonormal, so it is its own inverse's transpose). Both run on the GPU through
// conv2d / convTranspose2d (src/image/transforms.ts); the CPU versions here are the reference and the
// trainer's fast path.
export const BLOCK = 8;
export const COEFS = BLOCK * BLOCK;

/** ZIGZAG[k] = u·8 + v of the k-th coefficient in JPEG's zigzag order. */
export const ZIGZAG: Int32Array = (() => {
  const out = new Int32Array(COEFS);
  let k = 0;
  for (let d = 0; d < 2 * BLOCK - 1; d++) {
    const cells: number[] = [];
    for (let u = 0; u < BLOCK; u++) {
      const v = d - u;
      if (v >= 0 && v < BLOCK) cells.push(u * BLOCK + v);
    }
    if (d % 2 === 0) cells.reverse();
    for (const c of cells) out[k++] = c;
  }
  return out;
})();

/** INV_ZIGZAG[u·8 + v] = zigzag index. */
export const INV_ZIGZAG: Int32Array = (() => {
  const inv = new Int32Array(COEFS);
  for (let k = 0; k < COEFS; k++) inv[ZIGZAG[k]!] = k;
  return inv;
})();

/** Orthonormal 1-D DCT-II basis: B[f·8 + x]. */
function dctBasis(): Float64Array {
  const b = new Float64Array(COEFS);
  for (let f = 0; f < BLOCK; f++) {
    const s = f === 0 ? Math.sqrt(1 / BLOCK) : Math.sqrt(2 / BLOCK);
    for (let x = 0; x < BLOCK; x++) b[f * BLOCK + x] = s * Math.cos(((2 * x + 1) * f * Math.PI) / (2 * BLOCK));
  }
  return b;
}

/**
 * The convolution weights (P·64, P, 8, 8) of colour matrix `colour` (P×P, row p = plane p's
 * weights on the image channels) and the zigzag-ordered DCT. Used as conv2d weights (analysis) and,
 * read as (C_in = P·64, C_out = P, 8, 8), as convTranspose2d weights (synthesis).
 */
export function blockWeights(colour: ArrayLike<number>, planes: number): Float32Array {
  const b = dctBasis(),
    w = new Float32Array(planes * COEFS * planes * COEFS);
  for (let p = 0; p < planes; p++)
    for (let k = 0; k < COEFS; k++) {
      const u = Math.floor(ZIGZAG[k]! / BLOCK),
        v = ZIGZAG[k]! % BLOCK;
      for (let c = 0; c < planes; c++)
        for (let y = 0; y < BLOCK; y++)
          for (let x = 0; x < BLOCK; x++)
            w[(((p * COEFS + k) * planes + c) * BLOCK + y) * BLOCK + x] = colour[p * planes + c]! * b[u * BLOCK + y]! * b[v * BLOCK + x]!;
    }
  return w;
}

/** CPU analysis: x (P, H, W), H and W multiples of 8 → latent (P·64, H/8, W/8). */
export function blockAnalysisCpu(x: Float32Array, planes: number, h: number, w: number, weights: Float32Array): Float32Array {
  const bh = h / BLOCK,
    bw = w / BLOCK,
    out = new Float32Array(planes * COEFS * bh * bw),
    n = planes * COEFS;
  for (let by = 0; by < bh; by++)
    for (let bx = 0; bx < bw; bx++)
      for (let o = 0; o < n; o++) {
        let s = 0;
        for (let c = 0; c < planes; c++)
          for (let y = 0; y < BLOCK; y++) {
            const row = (c * h + by * BLOCK + y) * w + bx * BLOCK,
              wr = ((o * planes + c) * BLOCK + y) * BLOCK;
            for (let xx = 0; xx < BLOCK; xx++) s += weights[wr + xx]! * x[row + xx]!;
          }
        out[(o * bh + by) * bw + bx] = s;
      }
  return out;
}

/** CPU synthesis: latent (P·64, bh, bw) → image (P, 8·bh, 8·bw) (the transpose of the analysis). */
export function blockSynthesisCpu(y: Float32Array, planes: number, bh: number, bw: number, weights: Float32Array): Float32Array {
  const h = bh * BLOCK,
    w = bw * BLOCK,
    out = new Float32Array(planes * h * w),
    n = planes * COEFS;
  for (let by = 0; by < bh; by++)
    for (let bx = 0; bx < bw; bx++)
      for (let o = 0; o < n; o++) {
        const v = y[(o * bh + by) * bw + bx]!;
        if (v === 0) continue;
        for (let c = 0; c < planes; c++)
          for (let yy = 0; yy < BLOCK; yy++) {
            const row = (c * h + by * BLOCK + yy) * w + bx * BLOCK,
              wr = ((o * planes + c) * BLOCK + yy) * BLOCK;
            for (let xx = 0; xx < BLOCK; xx++) out[row + xx] += v * weights[wr + xx]!;
          }
      }
  return out;
}

/** The principal axes of RGB samples (rows, largest variance first, sign fixed so each row sums ≥ 0): an orthonormal 3×3. */
export function principalColours(rgb: ArrayLike<number>): Float64Array {
  const n = rgb.length / 3,
    mean = [0, 0, 0],
    cov = new Float64Array(9);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) mean[c]! += rgb[3 * i + c]! / n;
  for (let i = 0; i < n; i++)
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) cov[a * 3 + b]! += ((rgb[3 * i + a]! - mean[a]!) * (rgb[3 * i + b]! - mean[b]!)) / n;
  // Jacobi eigenvalue iterations on the symmetric 3×3
  const v = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let sweep = 0; sweep < 50; sweep++)
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const apq = cov[p * 3 + q]!;
      if (Math.abs(apq) < 1e-15) continue;
      const th = (cov[q * 3 + q]! - cov[p * 3 + p]!) / (2 * apq),
        t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1)),
        c = 1 / Math.sqrt(t * t + 1),
        s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = cov[k * 3 + p]!,
          akq = cov[k * 3 + q]!;
        cov[k * 3 + p] = c * akp - s * akq;
        cov[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = cov[p * 3 + k]!,
          aqk = cov[q * 3 + k]!;
        cov[p * 3 + k] = c * apk - s * aqk;
        cov[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k * 3 + p]!,
          vkq = v[k * 3 + q]!;
        v[k * 3 + p] = c * vkp - s * vkq;
        v[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  const order = [0, 1, 2].sort((a, b) => cov[b * 3 + b]! - cov[a * 3 + a]!);
  const out = new Float64Array(9);
  for (const [r, e] of order.entries()) {
    const sign = v[e]! + v[3 + e]! + v[6 + e]! >= 0 ? 1 : -1;
    for (let c = 0; c < 3; c++) out[r * 3 + c] = sign * v[c * 3 + e]!;
  }
  return out;
}

/** The same analysis, separably (colour per pixel, then row and column DCTs): O(8) per coefficient instead of O(64·P). */
export function blockAnalysisFast(x: Float32Array, colour: ArrayLike<number>, planes: number, h: number, w: number): Float32Array {
  const b = dctBasis(),
    bh = h / BLOCK,
    bw = w / BLOCK,
    hw = h * w,
    plane = bh * bw,
    out = new Float32Array(planes * COEFS * plane),
    cx = new Float64Array(planes * hw),
    tmp = new Float64Array(COEFS);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < hw; i++) {
      let s = 0;
      for (let c = 0; c < planes; c++) s += colour[p * planes + c]! * x[c * hw + i]!;
      cx[p * hw + i] = s;
    }
  for (let p = 0; p < planes; p++)
    for (let by = 0; by < bh; by++)
      for (let bx = 0; bx < bw; bx++) {
        const o = p * hw + by * BLOCK * w + bx * BLOCK;
        for (let y = 0; y < BLOCK; y++)
          for (let v = 0; v < BLOCK; v++) {
            let s = 0;
            for (let xx = 0; xx < BLOCK; xx++) s += b[v * BLOCK + xx]! * cx[o + y * w + xx]!;
            tmp[y * BLOCK + v] = s;
          }
        for (let k = 0; k < COEFS; k++) {
          const u = Math.floor(ZIGZAG[k]! / BLOCK),
            v = ZIGZAG[k]! % BLOCK;
          let s = 0;
          for (let y = 0; y < BLOCK; y++) s += b[u * BLOCK + y]! * tmp[y * BLOCK + v]!;
          out[(p * COEFS + k) * plane + by * bw + bx] = s;
        }
      }
  return out;
}
