// gelu / add bench entries at a GPT MLP size (N = 8192 rows × 4C = 512): memory-bound, bytes =
// reads + writes (gelu: x, y; backward: x, dy, dx; add: x, y, out).
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { add, gelu, geluBackward } from '../../src/kernels/elementwise.js';
import { addCpu, geluBackwardCpu, geluCpu } from '../../src/reference/elementwise.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer, uniform } from '../util.js';

export function geluCases(_gpu: Gpu): BenchCase[] {
  const n = 8192 * 512;
  const variants = [
    { variant: 'forward', ins: 1, build: gelu, ref: (x: Float32Array) => geluCpu(x) },
    { variant: 'backward', ins: 2, build: geluBackward, ref: (x: Float32Array, y: Float32Array) => geluBackwardCpu(x, y) },
    { variant: 'add', ins: 2, build: add, ref: (x: Float32Array, y: Float32Array) => addCpu(x, y) },
  ] as const;
  return variants.map((v) => ({
    kernel: v.variant === 'add' ? 'add' : 'gelu',
    variant: v.variant === 'add' ? '-' : v.variant,
    size: `n=${n}`,
    bytes: 4 * n * (v.ins + 1),
    quick: true,
    async prepare(gpu: Gpu) {
      const x = uniform(n, 1, -4, 4),
        y = uniform(n, 2);
      const tx = createTensor(gpu, [n], x, { label: 'bench.gelu.x' }),
        ty = createTensor(gpu, [n], y, { label: 'bench.gelu.y' });
      const out = createTensor(gpu, [n], undefined, { label: 'bench.gelu.out' });
      const dispatches = v.ins === 1 ? await gelu(gpu, tx, out) : await (v.build as typeof add)(gpu, tx, ty, out);
      return {
        dispatches,
        async validate() {
          checkClose(`${v.variant} out`, await out.read(), v.ref(x, y), 1e-6, 1e-5);
        },
        dispose: disposer([tx, ty, out], dispatches),
      };
    },
  }));
}
