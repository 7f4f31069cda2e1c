// The side-by-side harness (bench/vs-tfjs/index.ts) at tiny sizes, validation only: TF.js's WebGPU
// backend on slimgpu's own Dawn device, both sides agree on matmul, the LeNet-5 convolutions
// (forward, backward data, backward filter) and one SGD-momentum training step of LeNet-300-100
// and LeNet-5 from the same weights, and one whole GPT step (gpt:2-16-2-8: loss, every gradient,
// the update); no TF.js tensor leaks. No timing assertions.
import { describe, expect, it } from 'vitest';
import { markdownTable, runVsTfjs, TF_BACKEND, TINY_GPT_PRESET, TINY_PRESET, tfBackend } from '../bench/vs-tfjs/index.js';
import { installNodeShims, registerTfGradients } from '../bench/vs-tfjs/node.js';
import { testGpu } from './helpers.js';

describe('slimgpu vs TF.js (tiny, validation only)', () => {
  it('runs TF.js on the same GPUDevice and both sides agree', async () => {
    const gpu = await testGpu();
    installNodeShims();
    await registerTfGradients();
    const lines: string[] = [];
    const report = await runVsTfjs(gpu, { ...TINY_PRESET, log: (s) => lines.push(s) }, { platform: 'vitest', polling: 'createGpu default' });
    expect(tfBackend().device).toBe(gpu.device);
    expect(report.rows.map((r) => r.name)).toEqual([
      'matmul',
      'matmul',
      'conv1 fwd',
      'conv1 bwd-data',
      'conv1 bwd-filter',
      'conv2 fwd',
      'conv2 bwd-data',
      'conv2 bwd-filter',
      'lenet-300-100 step (k steps/submit)',
      'lenet-300-100 step (1 step/submit)',
      'lenet-5 step (k steps/submit)',
      'lenet-5 step (1 step/submit)',
    ]);
    for (const r of report.rows) expect(r.check).toMatch(/agree|as above/);
    expect(report.rows.find((r) => r.name.startsWith('lenet-5 step'))!.check).toMatch(/^loss [\d.]+ vs [\d.]+; step-1 updates agree/);
    expect(report.tfTensors.after).toBe(report.tfTensors.before);
    expect(markdownTable(report)).toContain('| matmul | 64x64x64 |');
    expect(lines.join('')).toContain('validating');
    gpu.check();
    // the backend stays registered for later runs in this process
    expect(TF_BACKEND).toBe('webgpu-shared');
  }, 60_000);

  it('a whole GPT step built from TF.js ops agrees with slimgpu: loss, every gradient, the update', async () => {
    const gpu = await testGpu();
    installNodeShims();
    await registerTfGradients();
    const lines: string[] = [];
    const report = await runVsTfjs(gpu, { ...TINY_GPT_PRESET, log: (s) => lines.push(s) }, { platform: 'vitest', polling: 'createGpu default' });
    expect(report.rows.map((r) => r.name)).toEqual([expect.stringMatching(/^gpt:2-16-2-8 step, (AdamW \+ clip 1|SGD \+ momentum)/)]);
    expect(report.rows[0]!.check).toMatch(/^loss [\d.]+ vs [\d.]+; gradients agree .*; step-1 (AdamW|SGD) updates agree/);
    expect(report.tfTensors.after).toBe(report.tfTensors.before);
    gpu.check();
  }, 120_000);
});
