// The layer-kind registry (src/nn/layers/): every kind is one file whose hooks the generic code
// calls; a kind without a step is refused by name (here: a tanh has no KvDecoder step).
import { describe, expect, it } from 'vitest';
import { testGpu } from './helpers.js';
import { LAYER_KINDS, layerKind } from '../src/nn/layers/index.js';
import { KvDecoder } from '../src/nn/decode.js';
import { Network } from '../src/nn/trainer.js';
import type { ModelSpec } from '../src/nn/model.js';

describe('layer kinds', () => {
  it('each registry entry is its kind; forward and backward come together, and a kind without them is always fused', () => {
    for (const [key, def] of Object.entries(LAYER_KINDS)) {
      expect(def.kind, key).toBe(key);
      expect(layerKind(key)).toBe(def);
      expect(!!def.forward, `${key} forward/backward`).toBe(!!def.backward);
      if (!def.forward) expect(def.fused, `${key} has no records, so it must be fused`).toBeTypeOf('function');
      if (def.kvCache) expect(def.decode, `${key} keeps a cache, so it decodes`).toBeTypeOf('function');
    }
    expect(layerKind('toString')).toBeUndefined();
    expect(layerKind('conv3d')).toBeUndefined();
  });

  it('a decoder refuses a node whose kind has no decoding step, naming it', async () => {
    const gpu = await testGpu();
    const spec: ModelSpec = {
      name: 'lm-tanh',
      input: [8],
      task: 'language',
      loss: 'softmax-ce',
      layers: [{ kind: 'embedding', vocab: 256, dim: 8, inputs: [-1] }, { kind: 'positions' }, { kind: 'tanh' }, { kind: 'dense', units: 256 }],
    };
    const net = Network.create(gpu, spec, 0);
    try {
      await expect(KvDecoder.create(net)).rejects.toThrow(/decode: layer 'tanh1' \(tanh\) has no decoding step/);
    } finally {
      net.dispose();
    }
  });
});
