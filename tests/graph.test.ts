import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testGpu } from './helpers.js';
import { Network, uploadDataset } from '../src/nn/trainer.js';
import { StepPlan } from '../src/nn/plan.js';
import { modelFromName, resolveModel, ModelError, type ModelSpec } from '../src/nn/model.js';
import { loadData } from '../src/run/run.js';
import { matmulVariant } from '../src/kernels/matmul.js';

// The graph compiler keeps every Sequential preset's step plan exactly as it was before the graph
// (tests/fixtures/plan-dispatches.json: labels, pipelines, workgroups recorded from the list
// compiler on lavapipe; on another adapter only the kernel sequence is compared).
describe('graph nn', () => {
  it('Sequential presets compile to the same dispatches as before the graph', async () => {
    const gpu = await testGpu();
    const want = JSON.parse(readFileSync(new URL('./fixtures/plan-dispatches.json', import.meta.url), 'utf8')) as Record<
      string,
      Record<string, string[]>
    >;
    const same = matmulVariant(gpu) === 'cpu' && gpu.features.has('subgroups');
    const norm = (x: string) => (same ? x : x.split(' | ')[0]!.replace(/ (cpu|gpu)$/, ''));
    const { train } = await loadData('mnist', { trainSize: 256 });
    for (const name of ['lenet-300-100', 'lenet-5', 'mlp:784-32-16-10', 'autoencoder:784-64-16']) {
      const spec = modelFromName(name, { input: [784], numClasses: 10 });
      const net = Network.create(gpu, spec, 0);
      const data = uploadDataset(gpu, train, spec.task === 'autoencoder' ? 'unit' : 'standard');
      const names = net.arena.prunable().map((v) => v.name);
      for (const [mode, prune] of [
        ['layer', names.map((n) => ({ names: [n] }))],
        ['global', [{ names }]],
      ] as const) {
        const plan = await StepPlan.build(gpu, spec, net.layers, net.arena, data, 32, { prune });
        const f = (ds: { label: string; workgroups: readonly number[]; pipeline: GPUComputePipeline }[]) =>
          ds.map((d) => norm(`${d.label} | ${d.pipeline.label} | ${d.workgroups.join(',')}`));
        const w = want[`${name} ${mode}`]!;
        expect(f(plan.train), `${name} ${mode} train`).toEqual(w.train!.map(norm));
        expect(f(plan.trainPrune), `${name} ${mode} trainPrune`).toEqual(w.trainPrune!.map(norm));
        expect(f(plan.evalStep), `${name} ${mode} eval`).toEqual(w.evalStep!.map(norm));
        plan.destroy();
      }
      data.dispose();
      net.dispose();
    }
  });

  it('graph errors name the node: bad inputs, shape mismatch of an add, duplicate names, a tie to a non-embedding', () => {
    const base = (layers: ModelSpec['layers']): ModelSpec => ({ name: 'g', input: [8], layers, loss: 'mse', task: 'regression' });
    expect(() =>
      resolveModel(
        base([
          { kind: 'dense', units: 4 },
          { kind: 'add', inputs: [0, 3] },
        ]),
      ),
    ).toThrow(/layer 1 \(add1\): inputs must be 2 indexes of earlier layers/);
    expect(() =>
      resolveModel(
        base([
          { kind: 'dense', units: 4 },
          { kind: 'add', inputs: [0, -1] },
        ]),
      ),
    ).toThrow(/both inputs must have the same shape, got \[4\] and \[8\]/);
    expect(() =>
      resolveModel(
        base([
          { kind: 'dense', units: 4, name: 'a' },
          { kind: 'dense', units: 4, name: 'a' },
        ]),
      ),
    ).toThrow(/the name 'a' is used twice/);
    expect(() => resolveModel(base([{ kind: 'dense', units: 4 }, { kind: 'layerNorm' }]))).toThrow(ModelError);
    const r = resolveModel(base([{ kind: 'dense', units: 8 }, { kind: 'relu' }, { kind: 'add', inputs: [1, -1] }, { kind: 'dense', units: 2 }]));
    expect(r[0]!.fusedActivation).toBe('relu');
    expect(r[2]!.inputs).toEqual([1, -1]);
    expect(r[1]!.consumers).toEqual([2]);
  });
});
