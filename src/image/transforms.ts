// The codec's two transforms on the GPU, through slimgpu's kernels: analysis = conv2d (stride 2,
// padding 2, ReLU fused) ×3, synthesis = convTranspose2d (stride 2, padding 2, output padding 1,
// ReLU fused) ×3. Weights are uploaded once per model; each call runs one batch of dispatches and
// reads back only the result.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, run, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { conv2d } from '../kernels/conv2d.js';
import { convTranspose2d } from '../kernels/conv-transpose2d.js';
import type { ImageModel } from './model.js';

interface Layer {
  w: Tensor;
  b: Tensor;
  oc: number;
  g: { stride: number; padding: number; outputPadding: number };
}
const BALLE = { stride: 2, padding: 2, outputPadding: 1 };

export class ImageTransforms {
  private readonly a: Layer[];
  private readonly s: Layer[];

  constructor(
    private readonly gpu: Gpu,
    readonly model: ImageModel,
  ) {
    this.a = model.analysis.map((c) => ({
      w: createTensor(gpu, c.wShape, c.w),
      b: createTensor(gpu, [c.b.length], c.b),
      oc: c.wShape[0],
      g: c.geometry ?? BALLE,
    }));
    this.s = model.synthesis.map((c) => ({
      w: createTensor(gpu, c.wShape, c.w),
      b: createTensor(gpu, [c.b.length], c.b),
      oc: c.wShape[1],
      g: c.geometry ?? BALLE,
    }));
  }

  /** x (C, H, W) in [0, 1], H and W multiples of the model's factor → the latent (M, H/f, W/f). */
  async analysis(x: Float32Array, h: number, w: number): Promise<Float32Array> {
    return this.chain(x, [1, this.model.channels, h, w], this.a, async (inp, l, last) => {
      const [n, , ih, iw] = inp.shape as [number, number, number, number];
      const out = createTensor(this.gpu, [n, l.oc, ih / l.g.stride, iw / l.g.stride]);
      return [
        out,
        await conv2d(this.gpu, inp, l.w, out, { stride: l.g.stride, padding: l.g.padding, bias: l.b, activation: last ? 'none' : 'relu' }),
      ];
    });
  }

  /** The latent (M, h, w) → the image (C, 8h, 8w), unclamped. */
  async synthesis(y: Float32Array, h: number, w: number): Promise<Float32Array> {
    return this.chain(y, [1, this.model.m, h, w], this.s, async (inp, l, last) => {
      const [n, , ih, iw] = inp.shape as [number, number, number, number];
      const out = createTensor(this.gpu, [n, l.oc, ih * l.g.stride, iw * l.g.stride]);
      const { stride, padding, outputPadding } = l.g;
      return [out, await convTranspose2d(this.gpu, inp, l.w, out, { stride, padding, outputPadding, bias: l.b, activation: last ? 'none' : 'relu' })];
    });
  }

  private async chain(
    data: Float32Array,
    shape: number[],
    layers: Layer[],
    step: (inp: Tensor, l: Layer, last: boolean) => Promise<[Tensor, Dispatch[]]>,
  ): Promise<Float32Array> {
    const tensors: Tensor[] = [createTensor(this.gpu, shape, data)];
    const dispatches: Dispatch[] = [];
    try {
      for (const [i, l] of layers.entries()) {
        const [out, d] = await step(tensors[tensors.length - 1]!, l, i === layers.length - 1);
        tensors.push(out);
        dispatches.push(...d);
      }
      await run(this.gpu, dispatches);
      return (await tensors[tensors.length - 1]!.read()) as Float32Array;
    } finally {
      destroyDispatches(dispatches);
      for (const t of tensors) t.dispose();
    }
  }

  dispose(): void {
    for (const l of [...this.a, ...this.s]) {
      l.w.dispose();
      l.b.dispose();
    }
  }
}
