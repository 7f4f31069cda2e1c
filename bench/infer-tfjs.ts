// TF.js (WebGPU backend on slimgpu's own device) running a model's dense weights: the baseline of
// bench/infer.ts, what a web developer gets today from a pruned model (dense fp32 after loading).
// Sequential models of dense, conv2d, maxPool2d, flatten, relu, sigmoid, tanh; images kept NHWC
// (TF.js's layout) and flattened in slimgpu's (C, H, W) order. Browser-safe (demo/infer.ts uses it too).
import * as tf from '@tensorflow/tfjs-core';
import type { Gpu } from '../src/gpu/device.js';
import type { ModelSpec } from '../src/nn/model.js';
import { resolveModel } from '../src/nn/model.js';
import { useSharedTfBackend } from './vs-tfjs/core.js';

export async function tfDenseRunner(
  gpu: Gpu,
  spec: ModelSpec,
  values: Map<string, Float32Array>,
): Promise<{ run: (x: Float32Array, B: number) => Promise<Float32Array>; dispose(): void }> {
  await useSharedTfBackend(gpu); // in Node, after bench/vs-tfjs/node.ts installNodeShims()
  const layers = resolveModel(spec);
  const w = new Map<string, tf.Tensor>();
  for (const l of layers) {
    const W = values.get(`${l.name}.weight`),
      b = values.get(`${l.name}.bias`);
    if (l.spec.kind === 'dense') w.set(l.name, tf.tensor2d(W!, l.weightShape as [number, number]));
    else if (l.spec.kind === 'conv2d') w.set(l.name, tf.transpose(tf.tensor4d(W!, l.weightShape as [number, number, number, number]), [2, 3, 1, 0]));
    else if (!['relu', 'sigmoid', 'tanh', 'maxPool2d', 'flatten'].includes(l.spec.kind))
      throw new Error(`bench infer (tfjs): layer kind ${l.spec.kind} not supported`);
    if (b) w.set(`${l.name}.bias`, tf.tensor1d(b));
  }
  const forward = (x: tf.Tensor): tf.Tensor => {
    let h = x.rank === 4 ? tf.transpose(x, [0, 2, 3, 1]) : x;
    for (const l of layers) {
      const s = l.spec;
      if (s.kind === 'dense') h = tf.add(tf.matMul(h as tf.Tensor2D, w.get(l.name) as tf.Tensor2D), w.get(`${l.name}.bias`)!);
      else if (s.kind === 'conv2d') {
        const p = s.padding ?? 0;
        h = tf.add(
          tf.conv2d(
            h as tf.Tensor4D,
            w.get(l.name) as tf.Tensor4D,
            s.stride ?? 1,
            p
              ? [
                  [0, 0],
                  [p, p],
                  [p, p],
                  [0, 0],
                ]
              : 'valid',
          ),
          w.get(`${l.name}.bias`)!,
        );
      } else if (s.kind === 'maxPool2d') h = tf.maxPool(h as tf.Tensor4D, s.size ?? 2, s.stride ?? s.size ?? 2, 'valid');
      else if (s.kind === 'flatten') h = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [h.shape[0]!, -1]);
      else if (s.kind === 'relu') h = tf.relu(h);
      else if (s.kind === 'sigmoid') h = tf.sigmoid(h);
      else if (s.kind === 'tanh') h = tf.tanh(h);
    }
    return h;
  };
  return {
    async run(x, B) {
      const y = tf.tidy(() => forward(tf.tensor(x, [B, ...spec.input])));
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return out;
    },
    dispose() {
      for (const t of w.values()) t.dispose();
    },
  };
}
