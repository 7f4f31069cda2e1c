// spmm (shaders/spmm.wgsl): y = act(x · Wᵀ + b) from a compressed W (csr or dense layout, b-bit
// codebook indices or f32 values) on awkward shapes, against the CPU reference and the dense
// product of the original weights; im2col against its reference; bad layouts refused on the CPU.
import { describe, expect, it } from 'vitest';
import { createTensor, run, type Gpu } from '../src/index.js';
import { gather, im2col, spmm, uploadMatrix } from '../src/kernels/spmm.js';
import {
  activate,
  buildMatrix,
  CompressedMatrixError,
  convOffsets,
  denseOf,
  gatherReference,
  im2colReference,
  spmmReference,
  type Activation,
  type MatrixFormat,
  type MatrixSource,
} from '../src/reference/spmm.js';
import { expectClose, randn, rng, testGpu } from './helpers.js';

/** A random sparse matrix source: density d, bits ≤ 16 (codebook of K) or 32 (f32 values). */
function source(
  rows: number,
  inDim: number,
  density: number,
  bits: number,
  seed: number,
  K = Math.min(2 ** bits, 1 << 12),
): { s: MatrixSource; w: Float32Array } {
  const r = rng(seed);
  const row: number[] = [],
    col: number[] = [],
    codes: number[] = [],
    values: number[] = [];
  const codebook = bits === 32 ? undefined : randn(K, seed + 1);
  const w = new Float32Array(rows * inDim);
  for (let o = 0; o < rows; o++)
    for (let c = 0; c < inDim; c++) {
      if (r() >= density) continue;
      row.push(o);
      col.push(c);
      if (codebook) {
        const a = Math.floor(r() * K);
        codes.push(a);
        w[o * inDim + c] = codebook[a]!;
      } else {
        const v = (r() - 0.5) * 2;
        values.push(v);
        w[o * inDim + c] = Math.fround(v);
      }
    }
  const s: MatrixSource = {
    rows,
    inDim,
    row: Uint32Array.from(row),
    col: Uint32Array.from(col),
    bias: randn(rows, seed + 2),
    ...(codebook ? { codes: Uint32Array.from(codes), codebook, bits } : { values: Float32Array.from(values) }),
  };
  return { s, w };
}

async function check(
  gpu: Gpu,
  rows: number,
  inDim: number,
  density: number,
  bits: number,
  B: number,
  format: MatrixFormat,
  act: Activation,
  seed: number,
  t: { xT?: boolean; yT?: boolean } = {},
): Promise<void> {
  const { s, w } = source(rows, inDim, density, bits, seed);
  const m = buildMatrix(s, format);
  expect(Array.from(denseOf(m))).toEqual(Array.from(w)); // the layout holds exactly the weights
  const x = randn(B * inDim, seed + 3);
  const g = uploadMatrix(gpu, m);
  const tx = createTensor(gpu, [B * inDim], x),
    ty = createTensor(gpu, [B * rows]);
  try {
    await run(gpu, await spmm(gpu, g, tx, ty, { B, act, ...t }));
    const got = await ty.read();
    const what = `${format} ${rows}x${inDim} d${density} b${bits} B${B} ${act} ${JSON.stringify(t)}`;
    expectClose(got, spmmReference(m, x, B, act, 1, t), { atol: 1e-4, rtol: 1e-4 }, what);
    if (t.xT || t.yT) return;
    // and against the plain dense product of the original weights
    const direct = new Float32Array(B * rows);
    for (let b = 0; b < B; b++)
      for (let o = 0; o < rows; o++) {
        let t = 0;
        for (let c = 0; c < inDim; c++) t += x[b * inDim + c]! * w[o * inDim + c]!;
        direct[b * rows + o] = activate(t + s.bias[o]!, act);
      }
    expectClose(got, direct, { atol: 1e-4, rtol: 1e-4 }, `${what} vs dense`);
  } finally {
    g.dispose();
    tx.dispose();
    ty.dispose();
  }
}

describe('spmm: inference from compressed weights', () => {
  it.each([
    [1, 1, 1, 1, 1, 'csr', 'none'],
    [7, 3, 0.6, 3, 1, 'csr', 'relu'],
    [65, 129, 0.1, 5, 13, 'csr', 'relu'],
    [33, 70, 0.05, 4, 64, 'csr', 'none'],
    [65, 129, 0.1, 5, 13, 'dense', 'sigmoid'],
    [10, 300, 0.3, 9, 9, 'csr', 'tanh'],
    [10, 300, 0.3, 9, 2, 'dense', 'none'],
    [17, 40, 0.2, 32, 5, 'csr', 'relu'],
    [17, 40, 0.2, 32, 3, 'dense', 'none'],
    [5, 200, 0.5, 16, 8, 'csr', 'none'],
    [3, 70_000, 0.001, 2, 2, 'csr', 'none'],
    [4, 8, 0, 4, 3, 'csr', 'relu'],
    [129, 64, 1, 8, 1, 'dense', 'relu'],
    [1, 1, 1, 1, 1, 'bitmask', 'none'],
    [65, 129, 0.25, 5, 1, 'bitmask', 'gelu'],
    [33, 70, 0.05, 4, 64, 'bitmask', 'relu'],
    [17, 40, 0.2, 32, 5, 'bitmask', 'tanh'],
    [4, 8, 0, 4, 3, 'bitmask', 'none'],
    [7, 96, 1, 3, 9, 'bitmask', 'sigmoid'],
    [10, 300, 0.3, 9, 2, 'csr', 'gelu'],
  ] as const)('rows %i, in %i, density %f, %i bits, B %i, %s, %s', async (rows, inDim, d, bits, B, format, act) => {
    await check(await testGpu(), rows, inDim, d, bits, B, format, act, rows * 31 + inDim);
  });

  it.each([
    [65, 129, 0.1, 5, 13, 'csr', { xT: true }],
    [33, 70, 0.05, 4, 64, 'csr', { xT: true, yT: true }],
    [10, 300, 0.3, 9, 9, 'dense', { yT: true }],
    [7, 40, 0.2, 32, 3, 'csr', { xT: true, yT: true }],
    [33, 70, 0.05, 4, 64, 'bitmask', { xT: true, yT: true }],
  ] as const)('transposed layouts: rows %i, in %i, density %f, %i bits, B %i, %s, %o', async (rows, inDim, d, bits, B, format, t) => {
    await check(await testGpu(), rows, inDim, d, bits, B, format, 'relu', rows + inDim, t);
  });

  it('a conv lowered to im2col + spmm writes (N, OC, OH, OW)', async () => {
    const gpu = await testGpu();
    const g = { N: 2, C: 3, H: 7, W: 6, KH: 3, KW: 2, S: 2, PAD: 1, OH: 4, OW: 4 };
    const x = randn(g.N * g.C * g.H * g.W, 5);
    const kk = g.C * g.KH * g.KW,
      P = g.OH * g.OW,
      OC = 5;
    const { s } = source(OC, kk, 0.5, 3, 9);
    const m = buildMatrix(s, 'csr');
    const tx = createTensor(gpu, [x.length], x),
      tp = createTensor(gpu, [g.N * P * kk]),
      ty = createTensor(gpu, [g.N * OC * P]);
    const gm = uploadMatrix(gpu, m);
    try {
      await run(gpu, [...(await im2col(gpu, tx, tp, g)), ...(await spmm(gpu, gm, tp, ty, { B: g.N * P, P, act: 'relu' }))]);
      const patches = im2colReference(x, g);
      expect(Array.from(await tp.read())).toEqual(Array.from(patches));
      expectClose(await ty.read(), spmmReference(m, patches, g.N * P, 'relu', P), { atol: 1e-4, rtol: 1e-4 }, 'conv');
      // the transposed lowering: patches (C·KH·KW, N·OH·OW), lanes along the pixels
      await run(gpu, [...(await im2col(gpu, tx, tp, g, true)), ...(await spmm(gpu, gm, tp, ty, { B: g.N * P, P, act: 'relu', xT: true }))]);
      expect(Array.from(await tp.read())).toEqual(Array.from(im2colReference(x, g, true)));
      expectClose(await ty.read(), spmmReference(m, patches, g.N * P, 'relu', P), { atol: 1e-4, rtol: 1e-4 }, 'conv, transposed');
    } finally {
      gm.dispose();
      tx.dispose();
      tp.dispose();
      ty.dispose();
    }
  });

  it.each(['csr', 'bitmask', 'dense'] as const)(
    '%s: a residual epilogue (y = act(x·Wᵀ + b) + r) and gather (rows of W, written or added)',
    async (format) => {
      const gpu = await testGpu();
      const rows = 37,
        inDim = 45,
        B = 3;
      const { s } = source(rows, inDim, 0.3, 5, 77);
      const m = buildMatrix(s, format);
      const g = uploadMatrix(gpu, m);
      const x = randn(B * inDim, 4),
        r = randn(B * rows, 6);
      const tx = createTensor(gpu, [B * inDim], x),
        tr = createTensor(gpu, [B * rows], r),
        ty = createTensor(gpu, [B * rows]);
      const idx = Uint32Array.of(36, 0, 17, 99); // 99: beyond the rows, gives 0
      const ti = createTensor(gpu, [4], idx, { dtype: 'u32' }),
        tOff = createTensor(gpu, [1], [20], { dtype: 'u32' }),
        tg = createTensor(gpu, [4 * inDim]);
      try {
        await run(gpu, await spmm(gpu, g, tx, ty, { B, act: 'gelu', resid: tr }));
        expectClose(await ty.read(), spmmReference(m, x, B, 'gelu', 1, { resid: r }), { atol: 1e-4, rtol: 1e-4 }, `${format} resid`);
        await run(gpu, await gather(gpu, g, ti, tg, { B: 4 }));
        const got = await tg.read();
        expect(Array.from(got)).toEqual(Array.from(gatherReference(m, [36, 0, 17, 99])));
        await run(gpu, await gather(gpu, g, tOff, tg, { B: 4, add: true, offset: true }));
        expect(Array.from(await tg.read())).toEqual(Array.from(gatherReference(m, [20, 21, 22, 23], got)));
        await expect(gather(gpu, g, ti, tg, { B: 3 })).rejects.toThrow(/ridx must hold B = 3 row indices, got 4/);
        await expect(spmm(gpu, g, tx, ty, { B, resid: tx })).rejects.toThrow(/resid needs P = 1, no yT and B·rows = 111 values, got 135/);
      } finally {
        for (const t of [tx, tr, ty, ti, tOff, tg]) t.dispose();
        g.dispose();
      }
    },
  );

  it.each([
    ['csr', 1, 5],
    ['bitmask', 2, 13],
  ] as const)('a direct conv (%s filters as offsets, stride %i, batch %i) equals im2col + spmm', async (format, S, N) => {
    const gpu = await testGpu();
    const C = 3,
      H = 9,
      W = 8,
      KH = 3,
      KW = 2,
      OC = 7;
    const OH = Math.floor((H - KH) / S) + 1,
      OW = Math.floor((W - KW) / S) + 1,
      P = OH * OW;
    const g = { N, C, H, W, KH, KW, S, PAD: 0, OH, OW };
    const x = randn(N * C * H * W, 8);
    const m = buildMatrix(source(OC, C * KH * KW, 0.4, 5, 3).s, format);
    const gm = uploadMatrix(gpu, convOffsets(m, { C, H, W, KH, KW }));
    const tx = createTensor(gpu, [x.length], x),
      ty = createTensor(gpu, [N * OC * P]);
    try {
      await run(gpu, await spmm(gpu, gm, tx, ty, { B: N * P, P, act: 'relu', conv: { C, H, W, OW, S } }));
      expectClose(await ty.read(), spmmReference(m, im2colReference(x, g), N * P, 'relu', P), { atol: 1e-4, rtol: 1e-4 }, 'direct conv');
      await expect(spmm(gpu, gm, tx, ty, { B: N * P, P, conv: { C: C + 1, H, W, OW, S } })).rejects.toThrow(/x must hold N·C·H·W/);
    } finally {
      gm.dispose();
      tx.dispose();
      ty.dispose();
    }
  });

  it('refuses inconsistent layouts on the CPU, before any GPU buffer', () => {
    const { s } = source(4, 5, 0.5, 3, 1);
    const bad = (patch: Partial<MatrixSource>, re: RegExp) => expect(() => buildMatrix({ ...s, ...patch }, 'csr')).toThrow(re);
    expect(() => buildMatrix({ ...s, codes: s.codes!.map((_, i) => (i === 0 ? 8 : 0)) }, 'csr')).toThrow(CompressedMatrixError);
    bad({ codes: s.codes!.map((_, i) => (i === 0 ? 8 : 0)) }, /codebook index 8 is beyond the 8 entries/);
    bad({ col: s.col.map((c, i) => (i === 1 ? 99 : c)) }, /lies outside the 4×5 matrix/);
    bad({ row: s.row.slice().reverse() }, /not after the previous one/);
    bad({ bias: new Float32Array(3) }, /bias has 3 values/);
    bad({ codebook: new Float32Array(9) }, /3-bit codebook holds 1\.\.8 entries, got 9/);
  });
});
