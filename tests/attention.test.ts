import { describe, expect, it } from 'vitest';
import { createTensor, ops } from '../src/index.js';
import { run } from '../src/gpu/dispatch.js';
import {
  attention,
  attentionBackward,
  attentionKernel,
  attentionSavedShape,
  attentionScratchShape,
  attentionVariant,
  DEFAULT_ATTENTION_VARIANT,
  type AttentionKernel,
  type AttentionVariant,
} from '../src/kernels/attention.js';
import { hasSubgroups8 } from '../src/kernels/matmul.js';
import { attentionBackwardCpu, attentionCpu, attentionDecodeCpu } from '../src/reference/attention.js';
import { expectClose, testGpu, uniform } from './helpers.js';

type Shape = { B: number; T: number; C: number; H: number };
// T = 1, primes, head sizes 1..64 that are not multiples of 4 or of the 32-key / 8-row tiles, B > 1,
// T across the 64-row workgroups, and one GPT-like shape.
const SHAPES: Shape[] = [
  { B: 1, T: 1, C: 4, H: 1 },
  { B: 3, T: 1, C: 6, H: 2 },
  { B: 2, T: 7, C: 12, H: 3 },
  { B: 3, T: 13, C: 10, H: 2 },
  { B: 2, T: 37, C: 52, H: 4 },
  { B: 1, T: 70, C: 24, H: 2 },
  { B: 2, T: 41, C: 96, H: 2 },
  { B: 2, T: 67, C: 128, H: 2 },
  { B: 1, T: 29, C: 7, H: 7 },
];
const VARIANTS: AttentionVariant[] = ['flash', 'unfused'];
const KERNELS: AttentionKernel[] = ['generic', 'sg8'];

const name = (s: Shape) => `B${s.B} T${s.T} C${s.C} H${s.H}`;
const qkvData = (s: Shape, seed: number) => uniform(s.B * s.T * 3 * s.C, seed, -1.5, 1.5);

for (const kernel of KERNELS)
  for (const variant of VARIANTS) {
    describe(`attention (${variant}, ${kernel} kernels) against the CPU reference`, () => {
      it('forward: out and the saved probabilities / logsumexp', async () => {
        const gpu = await testGpu();
        for (const s of SHAPES) {
          if (kernel === 'sg8' && !canSg8(gpu, s)) continue;
          const x = qkvData(s, s.T * 31 + s.C);
          const qkv = createTensor(gpu, [s.B * s.T, 3 * s.C], x);
          const { out, saved } = await ops.attention(qkv, { ...s, variant, kernel });
          const ref = attentionCpu(x, s);
          expectClose(await out.read(), ref.out, { atol: 2e-5, rtol: 1e-4 }, `out ${name(s)}`);
          expectClose(await saved.read(), variant === 'flash' ? ref.lse : ref.probs, { atol: 2e-5, rtol: 1e-4 }, `saved ${name(s)}`);
          qkv.dispose();
          out.dispose();
          saved.dispose();
        }
      });

      it('backward: dqkv', async () => {
        const gpu = await testGpu();
        for (const s of SHAPES) {
          if (kernel === 'sg8' && !canSg8(gpu, s)) continue;
          const x = qkvData(s, s.T * 17 + s.C),
            g = uniform(s.B * s.T * s.C, s.T + 5);
          const qkv = createTensor(gpu, [s.B * s.T, 3 * s.C], x),
            dout = createTensor(gpu, [s.B * s.T, s.C], g);
          const { out, saved } = await ops.attention(qkv, { ...s, variant, kernel });
          const dqkv = await ops.attentionBackward(qkv, out, saved, dout, { ...s, variant, kernel });
          expectClose(await dqkv.read(), attentionBackwardCpu(x, g, s), { atol: 5e-5, rtol: 2e-4 }, `dqkv ${name(s)}`);
          for (const t of [qkv, dout, out, saved, dqkv]) t.dispose();
        }
      });

      it('backward runs give the same bits every time', async () => {
        const gpu = await testGpu();
        const s = { B: 2, T: 45, C: 64, H: 2 };
        if (kernel === 'sg8' && !canSg8(gpu, s)) return;
        const qkv = createTensor(gpu, [s.B * s.T, 3 * s.C], qkvData(s, 3)),
          dout = createTensor(gpu, [s.B * s.T, s.C], uniform(s.B * s.T * s.C, 4));
        const { out, saved } = await ops.attention(qkv, { ...s, variant, kernel });
        const a = await (await ops.attentionBackward(qkv, out, saved, dout, { ...s, variant, kernel })).read();
        const b = await (await ops.attentionBackward(qkv, out, saved, dout, { ...s, variant, kernel })).read();
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      });
    });
  }

function canSg8(gpu: Awaited<ReturnType<typeof testGpu>>, s: Shape): boolean {
  const hs = s.C / s.H;
  return hasSubgroups8(gpu) && hs <= 64 && hs % 4 === 0;
}

describe('attention gradients by finite differences', () => {
  // L = Σ G ⊙ attention(qkv): dL/dqkv from the GPU backward against central differences of the
  // CPU forward (f64 sums), for every input element.
  const s = { B: 2, T: 5, C: 6, H: 2 };
  const x = qkvData(s, 77),
    G = uniform(s.B * s.T * s.C, 78);
  const L = (v: Float32Array) => {
    const o = attentionCpu(v, s).out;
    let t = 0;
    for (let i = 0; i < o.length; i++) t += o[i]! * G[i]!;
    return t;
  };
  const h = 1e-2;
  const fd = Float32Array.from(x, (_, i) => {
    const xp = x.slice();
    xp[i]! += h;
    const xm = x.slice();
    xm[i]! -= h;
    return (L(xp) - L(xm)) / (2 * h);
  });
  it('the CPU reference backward matches', () => {
    expectClose(attentionBackwardCpu(x, G, s), fd, { atol: 2e-3, rtol: 2e-3 }, 'reference dqkv');
  });
  for (const variant of VARIANTS) {
    it(`the GPU backward (${variant}) matches`, async () => {
      const gpu = await testGpu();
      const qkv = createTensor(gpu, [s.B * s.T, 3 * s.C], x),
        dout = createTensor(gpu, [s.B * s.T, s.C], G);
      const { out, saved } = await ops.attention(qkv, { ...s, variant });
      const dqkv = await ops.attentionBackward(qkv, out, saved, dout, { ...s, variant });
      expectClose(await dqkv.read(), fd, { atol: 2e-3, rtol: 2e-3 }, `dqkv ${variant}`);
    });
  }
});

describe('attention decoding over a key/value cache', () => {
  it('step t equals row t of the causal forward, for every t', async () => {
    const gpu = await testGpu();
    for (const s of [
      { B: 2, T: 9, C: 12, H: 3 },
      { B: 1, T: 5, C: 64, H: 1 },
    ]) {
      const { B, T, C, H } = s;
      const Tmax = T + 3;
      const x = qkvData(s, 99);
      const full = attentionCpu(x, s).out;
      const kCache = createTensor(gpu, [B, Tmax, C]),
        vCache = createTensor(gpu, [B, Tmax, C]);
      for (let t = 0; t < T; t++) {
        const row = new Float32Array(B * 3 * C);
        for (let b = 0; b < B; b++) row.set(x.subarray((b * T + t) * 3 * C, (b * T + t + 1) * 3 * C), b * 3 * C);
        const qkv = createTensor(gpu, [B, 3 * C], row);
        const out = await (await ops.attentionDecode(qkv, kCache, vCache, t, { H })).read();
        const want = new Float32Array(B * C);
        for (let b = 0; b < B; b++) want.set(full.subarray((b * T + t) * C, (b * T + t + 1) * C), b * C);
        expectClose(out, want, { atol: 2e-5, rtol: 1e-4 }, `decode ${name(s)} t=${t}`);
        qkv.dispose();
      }
      // the caches hold k and v of every step
      const kc = await kCache.read();
      const ref = attentionDecodeCpu(x.subarray(0, 3 * C), kc, await vCache.read(), { B: 1, C, H, Tmax, pos: 0, qStride: 3 * C });
      expectClose(ref, full.subarray(0, C), { atol: 2e-5, rtol: 1e-4 }, 'cache row 0');
      expectClose(kc.subarray((T - 1) * C, T * C), x.subarray((T - 1) * 3 * C + C, (T - 1) * 3 * C + 2 * C), {}, 'k cache');
      kCache.dispose();
      vCache.dispose();
    }
  });

  it('a prefill of n tokens, then steps: every row equals the causal forward (B 3, primes, n 1..T)', async () => {
    const gpu = await testGpu();
    for (const [s, n] of [
      [{ B: 3, T: 11, C: 15, H: 5 }, 7],
      [{ B: 2, T: 6, C: 8, H: 2 }, 6],
      [{ B: 1, T: 4, C: 6, H: 3 }, 1],
    ] as const) {
      const { B, T, C, H } = s;
      const Tmax = T + 2;
      const x = qkvData(s, 41 + n);
      const full = attentionCpu(x, s).out;
      const kCache = createTensor(gpu, [B, Tmax, C]),
        vCache = createTensor(gpu, [B, Tmax, C]);
      const rows = (t0: number, m: number) => {
        const q = new Float32Array(B * m * 3 * C),
          want = new Float32Array(B * m * C);
        for (let b = 0; b < B; b++)
          for (let i = 0; i < m; i++) {
            q.set(x.subarray((b * T + t0 + i) * 3 * C, (b * T + t0 + i + 1) * 3 * C), (b * m + i) * 3 * C);
            want.set(full.subarray((b * T + t0 + i) * C, (b * T + t0 + i + 1) * C), (b * m + i) * C);
          }
        return { q, want };
      };
      const pre = rows(0, n);
      const qkv = createTensor(gpu, [B * n, 3 * C], pre.q);
      const out = await (await ops.attentionDecode(qkv, kCache, vCache, 0, { H })).read();
      expectClose(out, pre.want, { atol: 2e-5, rtol: 1e-4 }, `prefill ${name(s)} n=${n}`);
      // the CPU reference of the same call, from the caches the kernel filled
      const ref = attentionDecodeCpu(pre.q, await kCache.read(), await vCache.read(), { B, C, H, Tmax, pos: 0, n, qStride: 3 * C });
      expectClose(out, ref, { atol: 2e-5, rtol: 1e-4 }, `prefill reference ${name(s)}`);
      for (let t = n; t < T; t++) {
        const st = rows(t, 1);
        const o = await (await ops.attentionDecode(createTensor(gpu, [B, 3 * C], st.q), kCache, vCache, t, { H })).read();
        expectClose(o, st.want, { atol: 2e-5, rtol: 1e-4 }, `step after prefill ${name(s)} t=${t}`);
      }
      kCache.dispose();
      vCache.dispose();
      qkv.dispose();
    }
  });
});

describe('attention: variant choice, dispatch records and bad input', () => {
  it('honours the option and SLIMGPU_ATTENTION_VARIANT', async () => {
    const gpu = await testGpu();
    const old = process.env.SLIMGPU_ATTENTION_VARIANT;
    try {
      delete process.env.SLIMGPU_ATTENTION_VARIANT;
      expect(attentionVariant()).toBe(DEFAULT_ATTENTION_VARIANT);
      process.env.SLIMGPU_ATTENTION_VARIANT = 'unfused';
      expect(attentionVariant()).toBe('unfused');
      expect(attentionVariant('flash')).toBe('flash');
      process.env.SLIMGPU_ATTENTION_VARIANT = 'fast';
      expect(() => attentionVariant()).toThrow(/SLIMGPU_ATTENTION_VARIANT must be 'unfused', 'flash' or 'auto', got 'fast'/);
    } finally {
      if (old === undefined) delete process.env.SLIMGPU_ATTENTION_VARIANT;
      else process.env.SLIMGPU_ATTENTION_VARIANT = old;
    }
    expect(() => attentionKernel(gpu, 128, 'sg8')).toThrow(/kernel 'sg8' needs 8-lane subgroups and a head size ≤ 64/);
    expect(attentionKernel(gpu, 128)).toBe('generic');
  });

  it('wrappers take caller-owned tensors (as a step plan records them)', async () => {
    const gpu = await testGpu();
    const s = { B: 2, T: 6, C: 8, H: 2 },
      N = 12;
    for (const variant of VARIANTS) {
      const x = qkvData(s, 5),
        g = uniform(N * s.C, 6);
      const qkv = createTensor(gpu, [N, 24], x),
        out = createTensor(gpu, [N, 8]),
        dout = createTensor(gpu, [N, 8], g);
      const saved = createTensor(gpu, attentionSavedShape(s, variant)),
        scratch = createTensor(gpu, attentionScratchShape(s, variant));
      const dqkv = createTensor(gpu, [N, 24], new Float32Array(N * 24).fill(7)); // every element is overwritten
      await run(gpu, [
        ...(await attention(gpu, qkv, out, saved, { ...s, variant })),
        ...(await attentionBackward(gpu, { qkv, out, saved, dout, scratch, dqkv }, { ...s, variant })),
      ]);
      expectClose(await out.read(), attentionCpu(x, s).out, { atol: 2e-5 }, 'out');
      expectClose(await dqkv.read(), attentionBackwardCpu(x, g, s), { atol: 5e-5, rtol: 2e-4 }, 'dqkv');
    }
  });

  it('bad input throws naming the argument and the expected shape', async () => {
    const gpu = await testGpu();
    const qkv = createTensor(gpu, [12, 24]);
    await expect(ops.attention(qkv, { B: 2, T: 5, H: 2 })).rejects.toThrow(/qkv must have B·T = 2·5 = 10 rows, got shape \[12,24\]/);
    await expect(ops.attention(qkv, { B: 2, T: 6, H: 3 })).rejects.toThrow(/C = 8 must be a multiple of H = 3/);
    await expect(ops.attention(createTensor(gpu, [12, 25]), { B: 2, T: 6, H: 1 })).rejects.toThrow(/qkv must have 3C columns/);
    await expect(ops.attention(qkv, { B: 2, T: 6, H: 0 })).rejects.toThrow(/H must be a positive integer, got 0/);
    await expect(ops.attention(qkv, { B: 2, T: 6, H: 2, variant: 'fast' as 'flash' })).rejects.toThrow(
      /variant must be 'auto', 'unfused' or 'flash', got 'fast'/,
    );
    await expect(ops.attention(createTensor(gpu, [12, 900]), { B: 2, T: 6, H: 1 })).rejects.toThrow(
      /head size C\/H = 300 is above the supported 256/,
    );
    const out = createTensor(gpu, [12, 8]);
    await expect(attention(gpu, qkv, out, createTensor(gpu, [2, 2, 6]), { B: 2, T: 6, H: 2, variant: 'unfused' })).rejects.toThrow(
      /saved must have shape \[2,2,6,6\] \(B, H, T, T\) for the unfused variant, got \[2,2,6\]/,
    );
    await expect(
      attention(gpu, qkv, createTensor(gpu, [12, 9]), createTensor(gpu, [2, 2, 6]), { B: 2, T: 6, H: 2, variant: 'flash' }),
    ).rejects.toThrow(/out must have shape \[12,8\] \(B·T, C\), got \[12,9\]/);
    await expect(attention(gpu, qkv, qkv, createTensor(gpu, [2, 2, 6]), { B: 2, T: 6, H: 2, variant: 'flash' })).rejects.toThrow(
      /out must have shape/,
    );
    const saved = createTensor(gpu, [2, 2, 6]);
    await expect(
      attentionBackward(
        gpu,
        { qkv, out, saved, dout: out, scratch: saved, dqkv: createTensor(gpu, [12, 24]) },
        { B: 2, T: 6, H: 2, variant: 'flash' },
      ),
    ).rejects.toThrow(/must be in different GPU buffers/);
    await expect(ops.attentionBackward(qkv, out, saved, createTensor(gpu, [12, 7]), { B: 2, T: 6, H: 2, variant: 'flash' })).rejects.toThrow(
      /dout must have shape \[12,8\] \(B·T, C\), got \[12,7\]/,
    );
    const kc = createTensor(gpu, [2, 4, 8]);
    await expect(ops.attentionDecode(createTensor(gpu, [2, 24]), kc, createTensor(gpu, [2, 4, 8]), 4, { H: 2 })).rejects.toThrow(
      /position must be an integer in \[0, 3\]/,
    );
    await expect(ops.attentionDecode(createTensor(gpu, [2, 24]), kc, createTensor(gpu, [2, 5, 8]), 0, { H: 2 })).rejects.toThrow(
      /vCache must have shape \[2,4,8\] \(B, Tmax, C\), like kCache, got \[2,5,8\]/,
    );
    await expect(ops.attentionDecode(createTensor(gpu, [5, 24]), kc, createTensor(gpu, [2, 4, 8]), 0, { H: 2 })).rejects.toThrow(
      /qkv must have B·n rows \(n new tokens for each of kCache's B = 2 batch rows\), got shape \[5,24\]/,
    );
    await expect(ops.attentionDecode(createTensor(gpu, [6, 24]), kc, createTensor(gpu, [2, 4, 8]), 2, { H: 2 })).rejects.toThrow(
      /position must be an integer in \[0, 1\] \(Tmax = kCache.shape\[1\] = 4, n = 3 new tokens\)/,
    );
  });
});
