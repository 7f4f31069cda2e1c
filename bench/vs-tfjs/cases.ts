// The LeNet-era comparison cases of bench/vs-tfjs/index.ts: matmul, the LeNet-5 convolutions (forward,
// backward data, backward filter) and one SGD-momentum training step of LeNet-300-100 / LeNet-5,
// each side validated against the other (and the CPU) before timing. Browser-safe.
import * as tf from '@tensorflow/tfjs-core';
import type { Gpu } from '../../src/gpu/device.js';
import { destroyDispatches, type Dispatch } from '../../src/gpu/dispatch.js';
import { createTensor, type Tensor } from '../../src/gpu/tensor.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter } from '../../src/kernels/conv2d.js';
import { matmul } from '../../src/kernels/matmul.js';
import { matmulCpu } from '../../src/reference/matmul.js';
import { checkClose, uniform } from '../util.js';
import { hwioToOihw, nchwToNhwc, nhwcToNchw, oihwToHwio, runSlim, tfSync, worstRel, type Case } from './core.js';

export { syntheticBatch, trainCases } from './train-step.js';

export function matmulCase(gpu: Gpu, n: number): Case {
  const a = uniform(n * n, 1 + n),
    b = uniform(n * n, 2 + n);
  let ta: Tensor | undefined, tb: Tensor | undefined, tc: Tensor | undefined;
  let dispatches: Dispatch[] = [];
  const A = tf.tensor2d(a, [n, n]),
    B = tf.tensor2d(b, [n, n]);
  let last: tf.Tensor | undefined;
  const c: Case = {
    group: 'matmul',
    name: 'matmul',
    size: `${n}x${n}x${n}`,
    flops: 2 * n * n * n,
    slim: { run: (k) => runSlim(gpu, dispatches, k, `vs.matmul ${n}`) },
    tf: {
      async run(k) {
        for (let i = 0; i < k; i++) {
          last?.dispose();
          last = tf.matMul(A, B);
        }
        await tfSync(gpu);
      },
    },
    async validate() {
      ta = createTensor(gpu, [n, n], a, { label: 'vs.matmul.a' });
      tb = createTensor(gpu, [n, n], b, { label: 'vs.matmul.b' });
      tc = createTensor(gpu, [n, n], undefined, { label: 'vs.matmul.c' });
      dispatches = await matmul(gpu, ta, tb, tc);
      await c.slim.run(1);
      await c.tf.run(1);
      const mine = await tc.read();
      const theirs = (await last!.data()) as Float32Array;
      // both against the CPU reference on a few rows, and against each other everywhere
      const rows = [...new Set([0, n >> 1, n - 1])];
      for (const r of rows) {
        const ref = matmulCpu(a.subarray(r * n, (r + 1) * n), [1, n], b, [n, n]);
        checkClose(`slimgpu matmul ${n} row ${r}`, mine.subarray(r * n, (r + 1) * n), ref, 1e-5 * n, 1e-4);
        checkClose(`TF.js matmul ${n} row ${r}`, theirs.subarray(r * n, (r + 1) * n), ref, 1e-5 * n, 1e-4);
      }
      checkClose(`slimgpu vs TF.js matmul ${n}`, mine, theirs, 2e-5 * n, 1e-4);
      return `C agree (max |Δ|/max|C| ${worstRel(mine, theirs).toExponential(1)}; rows ${rows.join(',')} vs CPU)`;
    },
    dispose() {
      destroyDispatches(dispatches);
      for (const t of [ta, tb, tc]) t?.dispose();
      A.dispose();
      B.dispose();
      last?.dispose();
      last = undefined;
    },
  };
  return c;
}

type S4 = [number, number, number, number];

interface ConvShape {
  name: string;
  x: S4;
  w: S4;
}

/** The LeNet-5 (Caffe) convolutions: x (B,1,28,28) ⊛ 20×5×5, then (B,20,12,12) ⊛ 50×5×5. */
export function lenetConvShapes(B: number): ConvShape[] {
  return [
    { name: 'conv1', x: [B, 1, 28, 28], w: [20, 1, 5, 5] },
    { name: 'conv2', x: [B, 20, 12, 12], w: [50, 20, 5, 5] },
  ];
}

export type ConvKind = 'fwd' | 'bwd-data' | 'bwd-filter';

/** TF.js's side of a convolution case, on the NHWC / HWIO copies. */
function tfConv(kind: ConvKind, s: ConvShape, tx: tf.Tensor4D, tw: tf.Tensor4D, tdy: tf.Tensor4D): tf.Tensor {
  const [N, C, H, W] = s.x,
    [OC, , KH, KW] = s.w;
  if (kind === 'fwd') return tf.conv2d(tx, tw, 1, 'valid');
  if (kind === 'bwd-data') {
    return tf
      .engine()
      .runKernel(
        'Conv2DBackpropInput',
        { dy: tdy, filter: tw },
        { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', inputShape: [N, H, W, C] },
      ) as tf.Tensor;
  }
  return tf
    .engine()
    .runKernel(
      'Conv2DBackpropFilter',
      { x: tx, dy: tdy },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [KH, KW, C, OC] },
    ) as tf.Tensor;
}

export function convCase(gpu: Gpu, s: ConvShape, kind: ConvKind, seed: number): Case {
  const [N, C, H, W] = s.x,
    [OC, , KH, KW] = s.w;
  const OH = H - KH + 1,
    OW = W - KW + 1;
  const yShape: S4 = [N, OC, OH, OW];
  const xd = uniform(N * C * H * W, seed),
    wd = uniform(OC * C * KH * KW, seed + 1, -0.3, 0.3);
  const dyd = uniform(N * OC * OH * OW, seed + 2);
  // TF.js NHWC / HWIO copies, made once outside the timed region
  const tx = tf.tensor4d(nchwToNhwc(xd, s.x), [N, H, W, C]);
  const tw = tf.tensor4d(oihwToHwio(wd, s.w), [KH, KW, C, OC]);
  const tdy = tf.tensor4d(nchwToNhwc(dyd, yShape), [N, OH, OW, OC]);
  const owned: Tensor[] = [];
  let dispatches: Dispatch[] = [];
  let out: Tensor | undefined;
  let last: tf.Tensor | undefined;
  const tfOp = (): tf.Tensor => tfConv(kind, s, tx, tw, tdy);
  const flops = 2 * N * OC * OH * OW * C * KH * KW;
  const c: Case = {
    group: 'conv2d',
    name: `${s.name} ${kind}`,
    size: `x${s.x.join('x')} w${s.w.join('x')}`,
    flops,
    slim: { run: (k) => runSlim(gpu, dispatches, k, `vs.conv ${s.name} ${kind}`) },
    tf: {
      async run(k) {
        for (let i = 0; i < k; i++) {
          last?.dispose();
          last = tfOp();
        }
        await tfSync(gpu);
      },
    },
    async validate() {
      const mk = (shape: S4, data: Float32Array | undefined, label: string) => {
        const t = createTensor(gpu, shape, data, { label });
        owned.push(t);
        return t;
      };
      if (kind === 'fwd') {
        out = mk(yShape, undefined, 'vs.conv.y');
        dispatches = await conv2d(gpu, mk(s.x, xd, 'vs.conv.x'), mk(s.w, wd, 'vs.conv.w'), out);
      } else if (kind === 'bwd-data') {
        out = mk(s.x, undefined, 'vs.conv.dx');
        dispatches = await conv2dBackwardData(gpu, mk(yShape, dyd, 'vs.conv.dy'), mk(s.w, wd, 'vs.conv.w'), out);
      } else {
        out = mk(s.w, undefined, 'vs.conv.dw');
        dispatches = await conv2dBackwardFilter(gpu, mk(s.x, xd, 'vs.conv.x'), mk(yShape, dyd, 'vs.conv.dy'), out);
      }
      await c.slim.run(1);
      await c.tf.run(1);
      const mine = await out.read();
      const theirsRaw = (await last!.data()) as Float32Array;
      // TF.js result back in slimgpu's layout
      const theirs = kind === 'fwd' ? nhwcToNchw(theirsRaw, yShape) : kind === 'bwd-data' ? nhwcToNchw(theirsRaw, s.x) : hwioToOihw(theirsRaw, s.w);
      const terms = kind === 'fwd' ? C * KH * KW : kind === 'bwd-data' ? OC * KH * KW : N * OH * OW;
      checkClose(`slimgpu vs TF.js ${s.name} ${kind}`, mine, theirs, 2e-6 * terms, 1e-4);
      return `agree (max |Δ|/max ${worstRel(mine, theirs).toExponential(1)})`;
    },
    dispose() {
      destroyDispatches(dispatches);
      for (const t of owned) t.dispose();
      tx.dispose();
      tw.dispose();
      tdy.dispose();
      last?.dispose();
      last = undefined;
    },
  };
  return c;
}
