// matmul bench entries: square sizes and the LeNet-300-100 training shapes (batch 128), for each
// kernel variant the adapter can run. Flops = 2·M·N·K.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { hasSubgroups8, matmul, type MatmulVariant } from '../../src/kernels/matmul.js';
import { matmulCpu } from '../../src/reference/matmul.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: boolean;
  relu?: boolean;
  quick: boolean;
}

const SHAPES: Shape[] = [
  { name: 'square', M: 256, N: 256, K: 256, quick: true },
  { name: 'square', M: 512, N: 512, K: 512, quick: true },
  { name: 'square', M: 1024, N: 1024, K: 1024, quick: true },
  // LeNet-300-100, batch 128: layer 1 (784 → 300)
  { name: 'fc1 fwd X·W+b→relu', M: 128, N: 300, K: 784, bias: true, relu: true, quick: true },
  { name: 'fc1 dW = Xᵀ·dY', M: 784, N: 300, K: 128, transposeA: true, quick: true },
  { name: 'fc1 dX = dY·Wᵀ', M: 128, N: 784, K: 300, transposeB: true, quick: true },
  // layers 2 (300 → 100) and 3 (100 → 10): small N
  { name: 'fc2 fwd', M: 128, N: 100, K: 300, bias: true, relu: true, quick: true },
  { name: 'fc3 fwd', M: 128, N: 10, K: 100, bias: true, quick: true },
  { name: 'fc3 dW', M: 100, N: 10, K: 128, transposeA: true, quick: false },
  { name: 'fc3 dX', M: 128, N: 100, K: 10, transposeB: true, quick: false },
  { name: 'square', M: 2048, N: 2048, K: 2048, quick: false },
];

/** Reference rows `rows` of op(a)·op(b) [+ bias] [→ relu]. */
function referenceRows(s: Shape, a: Float32Array, b: Float32Array, bias: Float32Array | undefined, rows: number[]): Float32Array {
  const { M, N, K } = s;
  const out = new Float32Array(rows.length * N);
  const bShape: [number, number] = s.transposeB ? [N, K] : [K, N];
  rows.forEach((r, i) => {
    const row = new Float32Array(K);
    for (let k = 0; k < K; k++) row[k] = s.transposeA ? a[k * M + r]! : a[r * K + k]!;
    out.set(matmulCpu(row, [1, K], b, bShape, { transposeB: s.transposeB, bias, activation: s.relu ? 'relu' : 'none' }), i * N);
  });
  return out;
}

export function matmulCases(gpu: Gpu): BenchCase[] {
  const variants: MatmulVariant[] = hasSubgroups8(gpu) ? ['cpu', 'gpu'] : ['gpu'];
  const cases: BenchCase[] = [];
  for (const s of SHAPES)
    for (const variant of variants) {
      const flags = `${s.transposeA ? ' tA' : ''}${s.transposeB ? ' tB' : ''}${s.bias ? ' +b' : ''}${s.relu ? ' relu' : ''}`;
      cases.push({
        kernel: 'matmul',
        variant,
        size: `${s.M}x${s.N}x${s.K}${flags} (${s.name})`,
        flops: 2 * s.M * s.N * s.K,
        quick: s.quick,
        async prepare(gpu) {
          const { M, N, K } = s;
          const a = uniform(M * K, 1 + M),
            b = uniform(K * N, 2 + N),
            biasData = s.bias ? uniform(N, 3) : undefined;
          const ta = createTensor(gpu, s.transposeA ? [K, M] : [M, K], a, { label: 'bench.matmul.a' });
          const tb = createTensor(gpu, s.transposeB ? [N, K] : [K, N], b, { label: 'bench.matmul.b' });
          const tbias = biasData ? createTensor(gpu, [N], biasData, { label: 'bench.matmul.bias' }) : undefined;
          const out = createTensor(gpu, [M, N], undefined, { label: 'bench.matmul.out' });
          const dispatches = await matmul(gpu, ta, tb, out, {
            transposeA: s.transposeA,
            transposeB: s.transposeB,
            bias: tbias,
            activation: s.relu ? 'relu' : 'none',
            variant,
          });
          return {
            dispatches,
            async validate() {
              const got = await out.read();
              // all rows when the reference is cheap, else a sample (first, last, a few inside)
              const rows =
                M * N * K <= 64e6 ? Array.from({ length: M }, (_, i) => i) : [...new Set([0, 1, M >> 2, M >> 1, (3 * M) >> 2, M - 2, M - 1])];
              const ref = referenceRows(s, a, b, biasData, rows);
              const gotRows = new Float32Array(rows.length * N);
              rows.forEach((r, i) => gotRows.set(got.subarray(r * N, (r + 1) * N), i * N));
              checkClose(`matmul ${variant} ${M}x${N}x${K}${flags}`, gotRows, ref, 1e-5 * K, 1e-4);
            },
            dispose: disposer([ta, tb, out, ...(tbias ? [tbias] : [])], dispatches),
          };
        },
      });
    }
  return cases;
}
