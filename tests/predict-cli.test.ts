// `slimgpu predict --compressed F --data D --check`: the compressed form's predictions on a test
// split are identical to the dense model's (what `eval` runs), outputs within float tolerance.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeCompressed } from '../src/io/export.js';
import { modelFromName } from '../src/nn/model.js';
import { prunedShared } from './compressed-fixtures.js';
import { cli } from './helpers.js';

describe('slimgpu predict', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimgpu-predict-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('LeNet-5 file on mnist-10k: identical predictions to the dense model, accuracy, latency and weight bytes in JSON', async () => {
    const file = join(dir, 'lenet5.slim.safetensors');
    const inp = prunedShared(modelFromName('lenet-5', { input: [1, 28, 28], numClasses: 10 }), 0.9, 5, 8);
    for (const [k, v] of inp.values)
      if (!inp.masks!.has(k))
        v.forEach((_, i) => {
          v[i] = ((i * 5) % 11) * 0.02 - 0.1;
        });
    await writeFile(file, serializeCompressed(inp));
    const r = await cli(['predict', '--compressed', file, '--data', 'mnist-10k', '--test-size', '300', '--latency', '5', '--check', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ model: 'lenet-5', samples: 300, batch: 64 });
    expect(j.check.samePredictions).toBe(true);
    expect(j.check.maxAbsDiff).toBeLessThan(1e-3);
    expect(j.accuracy).toBeGreaterThanOrEqual(0);
    expect(j.weightBytes * 8).toBeLessThan(j.denseWeightBytes);
    expect(j.latencyMsBatch1).toBeGreaterThan(0);
  });

  it('a missing file or a bad flag is a clear error', async () => {
    const r = await cli(['predict', '--compressed', join(dir, 'nope.slim.safetensors'), '--data', 'mnist-10k']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/nope\.slim\.safetensors/);
    const b = await cli(['predict', '--compressed', 'x', '--batch', '0']);
    expect(b.stderr).toMatch(/--batch must be a positive integer, got '0'/);
  });
});
