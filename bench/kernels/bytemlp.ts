// bytemlp bench entries: the shipped byte model's integer forward (issue 22) at its shipped shape
// (CTX 16, D 16, H 192): R = 16 rows (one decoding step of 16 streams) and R = 2048 (encoding, many
// positions at once). Bytes: the weights read once per row (tables rows, W2, W3 as i32) + logits.
import type { Gpu } from '../../src/gpu/device.js';
import { createTensor } from '../../src/gpu/tensor.js';
import { byteMlpForward, ByteMlpWeights } from '../../src/kernels/bytemlp.js';
import { ByteMlpCpu, randomByteMlp } from '../../src/reference/bytemlp.js';
import type { BenchCase } from './case.js';
import { checkClose, disposer } from '../util.js';

export function byteMlpCases(_gpu: Gpu): BenchCase[] {
  const CTX = 16,
    D = 16,
    H = 192;
  return (
    [
      [16, true],
      [2048, false],
    ] as const
  ).map(([R, quick]): BenchCase => ({
    kernel: 'bytemlp',
    variant: 'forward',
    size: `R=${R} CTX=${CTX} D=${D} H=${H}`,
    bytes: 4 * R * (CTX * H + H * H + 256 * H + 256),
    quick,
    async prepare(gpu: Gpu) {
      const m = randomByteMlp(7, CTX, D, H);
      const ctx = Uint32Array.from({ length: R * CTX }, (_, i) => (i * 2654435761) >>> 24);
      const w = ByteMlpWeights.upload(gpu, m);
      const rows = createTensor(gpu, [R, CTX], ctx, { dtype: 'u32', label: 'bench.bytemlp.rows' });
      const out = createTensor(gpu, [R, 256], undefined, { dtype: 'i32', label: 'bench.bytemlp.out' });
      const dispatches = await byteMlpForward(gpu, w, rows, out, R);
      return {
        dispatches,
        async validate() {
          const net = new ByteMlpCpu(m);
          const want = new Int32Array(R * 256);
          for (let r = 0; r < R; r++) net.logits(ctx, r * CTX, want, r * 256);
          checkClose('bytemlp logits', await out.read(), want, 0, 0);
        },
        dispose: () => {
          disposer([rows, out], dispatches)();
          w.dispose();
        },
      };
    },
  }));
}
