import { describe, expect, it } from 'vitest';
import { createTensor, ops } from '../src/index.js';
import { hasSubgroups8, matmulVariant, type MatmulVariant } from '../src/kernels/matmul.js';
import { colsumCpu, matmulCpu } from '../src/reference/matmul.js';
import { expectClose, testGpu, uniform } from './helpers.js';

type Case = [M: number, N: number, K: number];
const SHAPES: Case[] = [
  [1, 1, 1],
  [1, 7, 3],
  [5, 1, 9],
  [37, 53, 29],
  [64, 64, 64],
  [65, 63, 67],
  [128, 10, 784],
  [3, 300, 784],
  [127, 129, 1],
  // multiples of 4 that are not multiples of the tiles (vec4 paths with partial tiles and k tails)
  [20, 36, 20],
  [33, 8, 52],
  [4, 4, 4],
  [12, 100, 28],
];

// Both kernels run on every adapter that can run them (lavapipe runs both).
const VARIANTS: MatmulVariant[] = ['cpu', 'gpu'];

for (const variant of VARIANTS)
  describe(`matmul (${variant} variant) against the CPU reference`, () => {
    for (const tA of [false, true])
      for (const tB of [false, true]) {
        it(`awkward shapes, transposeA=${tA} transposeB=${tB}`, async () => {
          const gpu = await testGpu();
          if (variant === 'cpu' && !hasSubgroups8(gpu)) return;
          for (const [M, N, K] of SHAPES) {
            const aShape: [number, number] = tA ? [K, M] : [M, K];
            const bShape: [number, number] = tB ? [N, K] : [K, N];
            const a = uniform(M * K, M * 7 + K),
              b = uniform(K * N, N * 13 + K);
            const ta = createTensor(gpu, aShape, a),
              tb = createTensor(gpu, bShape, b);
            const out = await ops.matmul(ta, tb, { transposeA: tA, transposeB: tB, variant });
            expect(out.shape).toEqual([M, N]);
            expectClose(
              await out.read(),
              matmulCpu(a, aShape, b, bShape, { transposeA: tA, transposeB: tB }),
              { atol: 1e-5 * K, rtol: 1e-4 },
              `matmul ${M}x${N}x${K}`,
            );
            ta.dispose();
            tb.dispose();
            out.dispose();
          }
        });
      }

    it('bias and relu epilogue', async () => {
      const gpu = await testGpu();
      if (variant === 'cpu' && !hasSubgroups8(gpu)) return;
      for (const [M, N, K] of [
        [1, 1, 1],
        [37, 53, 29],
        [128, 300, 784],
        [128, 10, 100],
        [20, 36, 20],
      ] as Case[]) {
        const a = uniform(M * K, 1),
          b = uniform(K * N, 2),
          bias = uniform(N, 3);
        const ta = createTensor(gpu, [M, K], a),
          tb = createTensor(gpu, [K, N], b),
          tbias = createTensor(gpu, [N], bias);
        const out = await ops.matmul(ta, tb, { bias: tbias, activation: 'relu', variant });
        const ref = matmulCpu(a, [M, K], b, [K, N], { bias, activation: 'relu' });
        expectClose(await out.read(), ref, { atol: 1e-5 * K, rtol: 1e-4 });
        if (M * N > 100) expect(ref.some((v) => v === 0)).toBe(true);
      }
    });

    it('the LeNet-300-100 training shapes (forward, weight gradient, input gradient)', async () => {
      const gpu = await testGpu();
      if (variant === 'cpu' && !hasSubgroups8(gpu)) return;
      const B = 128,
        I = 784,
        O = 300;
      const x = uniform(B * I, 31),
        w = uniform(I * O, 32),
        dy = uniform(B * O, 33);
      const tx = createTensor(gpu, [B, I], x),
        tw = createTensor(gpu, [I, O], w),
        tdy = createTensor(gpu, [B, O], dy);
      const dw = await (await ops.matmul(tx, tdy, { transposeA: true, variant })).read();
      expectClose(dw, matmulCpu(x, [B, I], dy, [B, O], { transposeA: true }), { atol: 1e-5 * B, rtol: 1e-4 }, 'dW = Xᵀ·dY');
      const dx = await (await ops.matmul(tdy, tw, { transposeB: true, variant })).read();
      expectClose(dx, matmulCpu(dy, [B, O], w, [I, O], { transposeB: true }), { atol: 1e-5 * O, rtol: 1e-4 }, 'dX = dY·Wᵀ');
      tx.dispose();
      tw.dispose();
      tdy.dispose();
    });

    it('large case 1024³', async () => {
      const gpu = await testGpu();
      if (variant === 'cpu' && !hasSubgroups8(gpu)) return;
      const n = 1024;
      const a = uniform(n * n, 11),
        b = uniform(n * n, 12);
      const ta = createTensor(gpu, [n, n], a),
        tb = createTensor(gpu, [n, n], b);
      const out = await ops.matmul(ta, tb, { variant });
      const got = await out.read();
      // check a sample of rows against the reference (the full CPU product takes seconds)
      const rows = [0, 1, 511, 1023];
      for (const r of rows) {
        const ref = matmulCpu(a.subarray(r * n, (r + 1) * n), [1, n], b, [n, n]);
        expectClose(got.subarray(r * n, (r + 1) * n), ref, { atol: 1e-3, rtol: 1e-4 }, `row ${r}`);
      }
    });

    it('finite differences: the gradients of L = Σ G⊙(A·B) are G·Bᵀ and Aᵀ·G', async () => {
      // Checks that the transposed matmuls give the gradients of the forward one.
      const gpu = await testGpu();
      const [M, N, K] = [5, 7, 3];
      const A = uniform(M * K, 21),
        B = uniform(K * N, 22),
        G = uniform(M * N, 23);
      const tA = createTensor(gpu, [M, K], A),
        tB = createTensor(gpu, [K, N], B),
        tG = createTensor(gpu, [M, N], G);
      if (variant === 'cpu' && !hasSubgroups8(gpu)) return;
      const dA = await (await ops.matmul(tG, tB, { transposeB: true, variant })).read();
      const dB = await (await ops.matmul(tA, tG, { transposeA: true, variant })).read();
      const L = (a: Float32Array, b: Float32Array) => {
        const c = matmulCpu(a, [M, K], b, [K, N]);
        let s = 0;
        for (let i = 0; i < c.length; i++) s += c[i]! * G[i]!;
        return s;
      };
      const h = 1e-2;
      const fd = (x: Float32Array, i: number, f: (x: Float32Array) => number) => {
        const xp = x.slice();
        xp[i]! += h;
        const xm = x.slice();
        xm[i]! -= h;
        return (f(xp) - f(xm)) / (2 * h);
      };
      expectClose(
        dA,
        Float32Array.from(A, (_, i) => fd(A, i, (a) => L(a, B))),
        { atol: 1e-3, rtol: 1e-3 },
        'dA',
      );
      expectClose(
        dB,
        Float32Array.from(B, (_, i) => fd(B, i, (b) => L(A, b))),
        { atol: 1e-3, rtol: 1e-3 },
        'dB',
      );
    });
  });

describe('matmul: colsum, variant choice and bad input', () => {
  it('colsum gives the bias gradient', async () => {
    const gpu = await testGpu();
    for (const [M, N] of [
      [1, 1],
      [37, 53],
      [128, 300],
      [1000, 3],
    ]) {
      const dy = uniform(M * N, M + N);
      const out = await ops.colsum(createTensor(gpu, [M, N], dy));
      expectClose(await out.read(), colsumCpu(dy, M, N), { atol: 1e-5 * M, rtol: 1e-4 });
    }
  });

  it('picks the cpu kernel on lavapipe and honours SLIMGPU_MATMUL_VARIANT', async () => {
    const gpu = await testGpu();
    const old = process.env.SLIMGPU_MATMUL_VARIANT;
    try {
      delete process.env.SLIMGPU_MATMUL_VARIANT;
      if (gpu.info.isFallbackAdapter && hasSubgroups8(gpu)) expect(matmulVariant(gpu)).toBe('cpu');
      process.env.SLIMGPU_MATMUL_VARIANT = 'gpu';
      expect(matmulVariant(gpu)).toBe('gpu');
      expect(matmulVariant(gpu, 'gpu')).toBe('gpu');
      process.env.SLIMGPU_MATMUL_VARIANT = 'fast';
      expect(() => matmulVariant(gpu)).toThrow(/SLIMGPU_MATMUL_VARIANT must be 'cpu', 'gpu' or 'auto', got 'fast'/);
    } finally {
      if (old === undefined) delete process.env.SLIMGPU_MATMUL_VARIANT;
      else process.env.SLIMGPU_MATMUL_VARIANT = old;
    }
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const a = createTensor(gpu, [3, 4]),
      b = createTensor(gpu, [5, 6]);
    await expect(ops.matmul(a, b)).rejects.toThrow(/inner dimensions differ: op\(a\) is \[3, 4\] and op\(b\) is \[5, 6\]/);
    await expect(ops.matmul(a, createTensor(gpu, [4]))).rejects.toThrow(/b must be 2-D/);
    await expect(ops.matmul(a, createTensor(gpu, [4, 2]), { bias: createTensor(gpu, [3]) })).rejects.toThrow(/bias must have shape \[2\], got \[3\]/);
    await expect(ops.matmul(a, createTensor(gpu, [4, 2]), { activation: 'gelu' as 'relu' })).rejects.toThrow(/activation must be/);
    await expect(ops.matmul(a, createTensor(gpu, [4, 2]), { variant: 'fast' as 'cpu' })).rejects.toThrow(
      /variant must be 'auto', 'cpu' or 'gpu', got 'fast'/,
    );
  });
});
