import { describe, expect, it } from 'vitest';
import { createTensor, ops, run, type Gpu } from '../src/index.js';
import { embedding, embeddingBackward } from '../src/kernels/embedding.js';
import { embeddingBackwardCpu, embeddingCpu } from '../src/reference/embedding.js';
import { expectClose, randn, rng, testGpu } from './helpers.js';

/** Tokens in [0, V) skewed towards small ids (like bytes of text), plus `bad` ids ≥ V. */
function tokensOf(N: number, V: number, seed: number, bad = 0): Uint32Array {
  const r = rng(seed);
  const t = Uint32Array.from({ length: N }, () => Math.min(V - 1, Math.floor(V * r() ** 3)));
  for (let i = 0; i < bad; i++) t[Math.floor(r() * N)] = V + i * 1000;
  return t;
}

/** The sums in the kernel's order with float32 rounding after every add (exact-bits reference). */
function backwardF32(tokens: Uint32Array, dout: Float32Array, V: number, C: number, T: number): { dtable: Float32Array; dpos: Float32Array } {
  const N = tokens.length,
    f = Math.fround;
  const dtable = new Float32Array(V * C),
    dpos = new Float32Array(T * C);
  for (let n = 0; n < N; n++) {
    const t = tokens[n]!;
    if (t < V) for (let c = 0; c < C; c++) dtable[t * C + c] = f(dtable[t * C + c]! + dout[n * C + c]!);
  }
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) dpos[(n % T) * C + c] = f(dpos[(n % T) * C + c]! + dout[n * C + c]!);
  return { dtable, dpos };
}

async function backward(gpu: Gpu, tokens: Uint32Array, dout: Float32Array, V: number, C: number, T: number, init?: [Float32Array, Float32Array]) {
  const N = tokens.length;
  const tt = createTensor(gpu, [N], tokens, { dtype: 'u32' }),
    td = createTensor(gpu, [N, C], dout);
  const dtable = createTensor(gpu, [V, C], init?.[0]),
    dpos = createTensor(gpu, [T, C], init?.[1]);
  const plan = await embeddingBackward(gpu, { tokens: tt, dout: td, dtable, dpos, accumulate: !!init });
  await run(gpu, plan.dispatches);
  const out = { dtable: await dtable.read(), dpos: await dpos.read() };
  for (const t of [tt, td, dtable, dpos, ...plan.scratch]) t.dispose();
  return out;
}

describe('embedding (token + position lookup, deterministic backward)', () => {
  it('forward matches the CPU reference on awkward shapes; tokens ≥ V read a zero row', async () => {
    const gpu = await testGpu();
    for (const [N, C, V, T, bad] of [
      [1, 1, 1, 1, 0],
      [7, 3, 5, 7, 1],
      [13, 12, 17, 5, 2],
      [300, 8, 256, 0, 3],
      [1031, 20, 256, 128, 0],
    ] as const) {
      const tokens = tokensOf(N, V, N + C, bad);
      const table = randn(V * C, V),
        pos = T ? randn(T * C, T + 1) : undefined;
      const tt = createTensor(gpu, [N], tokens, { dtype: 'u32' }),
        ttab = createTensor(gpu, [V, C], table);
      const tp = pos ? createTensor(gpu, [T, C], pos) : undefined;
      const out = await ops.embedding(tt, ttab, tp);
      expect(out.shape).toEqual([N, C]);
      expectClose(await out.read(), embeddingCpu(tokens, table, pos, C), { atol: 0, rtol: 0 }, `embedding N=${N} C=${C} V=${V} T=${T}`);
      for (const t of [tt, ttab, tp, out]) t?.dispose();
    }
  });

  it('backward: the exact float32 sums in ascending token order, and the same bits on every run', async () => {
    const gpu = await testGpu();
    for (const [N, C, V, T] of [
      [1, 1, 1, 1],
      [5, 3, 2, 5],
      [130, 7, 3, 13],
      [1000, 12, 256, 100],
      [4096, 64, 256, 128],
    ] as const) {
      const tokens = tokensOf(N, V, 7 * N + C, N > 100 ? 2 : 0),
        dout = randn(N * C, N + 3);
      const got = await backward(gpu, tokens, dout, V, C, T);
      const exact = backwardF32(tokens, dout, V, C, T);
      expectClose(got.dtable, exact.dtable, { atol: 0, rtol: 0 }, `dtable bits N=${N} C=${C} V=${V}`);
      expectClose(got.dpos, exact.dpos, { atol: 0, rtol: 0 }, `dpos bits N=${N} C=${C} T=${T}`);
      const ref = embeddingBackwardCpu(tokens, dout, V, C, T); // plain reference (other order)
      expectClose(got.dtable, ref.dtable, { atol: 1e-4, rtol: 1e-4 }, 'dtable vs reference');
      expectClose(got.dpos, ref.dpos, { atol: 1e-4, rtol: 1e-4 }, 'dpos vs reference');
      if (N === 4096) {
        const again = await backward(gpu, tokens, dout, V, C, T);
        expect(Buffer.from(again.dtable.buffer).equals(Buffer.from(got.dtable.buffer))).toBe(true);
        expect(Buffer.from(again.dpos.buffer).equals(Buffer.from(got.dpos.buffer))).toBe(true);
      }
    }
  });

  it('accumulate adds to dtable and dpos; a reused scratch gives the same result', async () => {
    const gpu = await testGpu();
    const N = 200,
      C = 16,
      V = 40,
      T = 50;
    const tokens = tokensOf(N, V, 5),
      dout = randn(N * C, 6);
    const t0 = randn(V * C, 7),
      p0 = randn(T * C, 8);
    const got = await backward(gpu, tokens, dout, V, C, T, [t0, p0]);
    const ex = backwardF32(tokens, dout, V, C, T);
    expectClose(
      got.dtable,
      ex.dtable.map((s, i) => Math.fround(t0[i]! + s)),
      { atol: 0, rtol: 0 },
      'dtable += sum',
    );
    expectClose(
      got.dpos,
      ex.dpos.map((s, i) => Math.fround(p0[i]! + s)),
      { atol: 0, rtol: 0 },
      'dpos += sum',
    );
    // a plan built with the scratch of a larger one
    const big = await embeddingBackward(gpu, {
      tokens: createTensor(gpu, [N * 3], undefined, { dtype: 'u32' }),
      dout: createTensor(gpu, [N * 3, C]),
      dtable: createTensor(gpu, [V * 2, C]),
    });
    const tt = createTensor(gpu, [N], tokens, { dtype: 'u32' }),
      td = createTensor(gpu, [N, C], dout),
      dt = createTensor(gpu, [V, C]);
    const plan = await embeddingBackward(gpu, { tokens: tt, dout: td, dtable: dt, scratch: big.scratch });
    expect(plan.scratch).toEqual(big.scratch);
    expect(plan.dispatches.length).toBe(4);
    await run(gpu, plan.dispatches);
    expectClose(await dt.read(), ex.dtable, { atol: 0, rtol: 0 }, 'dtable with reused scratch');
  });

  it('finite differences: the backward is the gradient of Σ G ⊙ embedding(tokens, table, pos)', async () => {
    const gpu = await testGpu();
    const N = 11,
      C = 5,
      V = 4,
      T = 3;
    const tokens = tokensOf(N, V, 21),
      table = randn(V * C, 22),
      pos = randn(T * C, 23),
      G = randn(N * C, 24);
    const L = (tab: Float64Array, ps: Float64Array) => {
      let s = 0;
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) s += G[n * C + c]! * (tab[tokens[n]! * C + c]! + ps[(n % T) * C + c]!);
      return s;
    };
    const fd = (which: 0 | 1) => {
      const tab = Float64Array.from(table),
        ps = Float64Array.from(pos),
        a = which === 0 ? tab : ps,
        h = 1e-3;
      return Float64Array.from(a, (v, i) => {
        a[i] = v + h;
        const lp = L(tab, ps);
        a[i] = v - h;
        const lm = L(tab, ps);
        a[i] = v;
        return (lp - lm) / (2 * h);
      });
    };
    const tt = createTensor(gpu, [N], tokens, { dtype: 'u32' }),
      tg = createTensor(gpu, [N, C], G);
    const { dtable, dpos } = await ops.embeddingBackward(tt, tg, { V, T });
    expectClose(await dtable.read(), fd(0), { atol: 1e-4, rtol: 1e-4 }, 'dtable vs FD');
    expectClose(await dpos!.read(), fd(1), { atol: 1e-4, rtol: 1e-4 }, 'dpos vs FD');
  });

  it('bad input throws naming the argument', async () => {
    const gpu = await testGpu();
    const tokens = createTensor(gpu, [6], undefined, { dtype: 'u32' }),
      table = createTensor(gpu, [10, 4]);
    await expect(ops.embedding(createTensor(gpu, [6]), table)).rejects.toThrow(/embedding: tokens must have dtype u32, got f32/);
    await expect(ops.embedding(createTensor(gpu, [2, 3], undefined, { dtype: 'u32' }), table)).rejects.toThrow(
      /tokens must be 1-D \(N\), got shape \[2,3\]/,
    );
    await expect(ops.embedding(tokens, createTensor(gpu, [40]))).rejects.toThrow(/table must be 2-D \(V, C\), got shape \[40\]/);
    await expect(ops.embedding(tokens, table, createTensor(gpu, [6, 5]))).rejects.toThrow(/pos must have shape \(T, 4\) like table's C, got \[6,5\]/);
    await expect(embedding(gpu, tokens, table, undefined, createTensor(gpu, [6, 5]))).rejects.toThrow(
      /embedding: out must have shape \[6,4\], got \[6,5\]/,
    );
    const dout = createTensor(gpu, [6, 4]);
    await expect(embeddingBackward(gpu, { tokens, dout: createTensor(gpu, [5, 4]), dtable: table })).rejects.toThrow(
      /embeddingBackward: dout must have shape \[6,4\], got \[5,4\]/,
    );
    await expect(embeddingBackward(gpu, { tokens, dout, dtable: createTensor(gpu, [10, 3]) })).rejects.toThrow(/dout must have shape \[6,3\]/);
    await expect(embeddingBackward(gpu, { tokens, dout, dtable: table, dpos: createTensor(gpu, [3, 5]) })).rejects.toThrow(
      /pos must have shape \(T, 4\)/,
    );
    await expect(embeddingBackward(gpu, { tokens, dout, dtable: dout.reshape([6, 4]) })).rejects.toThrow(
      /dout and dtable must be in different GPU buffers/,
    );
    await expect(ops.embeddingBackward(tokens, dout, { V: 0 })).rejects.toThrow(/embeddingBackward: V must be a positive integer, got 0/);
  });
});
