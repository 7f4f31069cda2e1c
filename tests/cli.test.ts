import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('slimgpu CLI', () => {
  it('info --json prints the adapter (lavapipe here)', async () => {
    const r = await cli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backend).toBe('node-dawn');
    expect(info.features).toContain('timestamp-query');
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    // CI machines have no GPU: the adapter must be Mesa's lavapipe (llvmpipe)
    if (process.env.CI) expect(`${info.vendor} ${info.description}`).toMatch(/mesa|llvmpipe/i);
  });

  it('info prints a table; unknown commands fail with usage help', async () => {
    const r = await cli(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/maxStorageBufferBindingSize\s+\d+/);
    const bad = await cli(['frobnicate']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('slimgpu train / eval', () => {
  it('trains a compressed model, writes report.json and a checkpoint, and eval reads it back', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-cli-'));
    const out = join(dir, 'run');
    const r = await cli([
      'train',
      '--model',
      'mlp:784-64-10',
      '--data',
      'mnist-10k',
      '--train-size',
      '1024',
      '--test-size',
      '400',
      '--epochs',
      '2',
      '--batch',
      '64',
      '--lr',
      '0.1',
      '--sparsity',
      '0.8',
      '--schedule',
      'polynomial',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const saved = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(saved).toEqual(report);
    expect(report.total.sparsity).toBeCloseTo(0.8, 2);
    expect(report.metrics.testAccuracy).toBeGreaterThan(0.7);
    expect(report.timing.samplesPerSec).toBeGreaterThan(0);
    for (const l of report.layers) expect(l.nonzeros).toBe(Math.round(0.2 * l.params));
    // per-model default learning rates, reported in the run's config
    const ae = await cli([
      'train',
      '--model',
      'autoencoder:784-32',
      '--data',
      'mnist-10k',
      '--train-size',
      '512',
      '--test-size',
      '100',
      '--epochs',
      '2',
      '--json',
    ]);
    expect(ae.code).toBe(0);
    const aer = JSON.parse(ae.stdout);
    expect(aer.config.lr).toBe(20);
    expect(aer.metrics.testPsnr).toBeGreaterThan(10);
    const table = await cli([
      'train',
      '--model',
      'mlp:784-16-10',
      '--data',
      'mnist-10k',
      '--train-size',
      '256',
      '--test-size',
      '100',
      '--epochs',
      '1',
      '--batch',
      '64',
      '--no-progress',
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/slimgpu report — model mlp:784-16-10, data mnist-10k/);
    expect(table.stdout).toMatch(/test accuracy: [\d.]+%/);
    const ev = await cli(['eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--json']);
    expect(ev.code).toBe(0);
    const evr = JSON.parse(ev.stdout);
    // the checkpoint holds the pruned fp32 weights (what training resumes from)
    expect(evr.metrics.testAccuracy).toBeGreaterThan(0.7);
    // the compressed file: its size is what the report claims, and it evaluates as reported
    const { statSync } = await import('node:fs');
    const slim = join(out, 'model.slim.safetensors');
    expect(statSync(slim).size).toBe(report.total.compressedBytes);
    expect(report.total.compressionRatio).toBeCloseTo(report.total.denseBytes / report.total.compressedBytes, 6);
    const evc = await cli(['eval', '--compressed', slim, '--data', 'mnist-10k', '--test-size', '400', '--json']);
    expect(evc.code).toBe(0);
    expect(JSON.parse(evc.stdout).metrics.testAccuracy).toBe(report.metrics.testAccuracy);
    // export with weight sharing: a smaller file, reported honestly
    const shared = join(dir, 'shared.slim.safetensors');
    const ex = await cli([
      'export',
      '--checkpoint',
      join(out, 'checkpoint.safetensors'),
      '--bits',
      '4',
      '--fine-tune-steps',
      '10',
      '--out',
      shared,
      '--json',
    ]);
    expect(ex.code).toBe(0);
    const exr = JSON.parse(ex.stdout);
    expect(statSync(shared).size).toBe(exr.total.compressedBytes);
    expect(exr.total.compressedBytes).toBeLessThan(report.total.compressedBytes);
    for (const l of exr.layers) expect(l.bitsPerWeight).toBe(4);
    expect(exr.metrics.prunedTestAccuracy).toBeGreaterThan(0.7);
    // --fine-tune-lr reaches the centroid fine-tuning: lr 0 leaves the k-means codebooks as they are
    const { readFileSync } = await import('node:fs');
    const [lr0, steps0] = [join(dir, 'lr0.slim.safetensors'), join(dir, 'steps0.slim.safetensors')];
    expect(
      (
        await cli([
          'export',
          '--checkpoint',
          join(out, 'checkpoint.safetensors'),
          '--bits',
          '4',
          '--fine-tune-steps',
          '10',
          '--fine-tune-lr',
          '0',
          '--out',
          lr0,
        ])
      ).code,
    ).toBe(0);
    expect(
      (await cli(['export', '--checkpoint', join(out, 'checkpoint.safetensors'), '--bits', '4', '--fine-tune-steps', '0', '--out', steps0])).code,
    ).toBe(0);
    expect(Buffer.compare(readFileSync(lr0), readFileSync(steps0))).toBe(0);
    expect(Buffer.compare(readFileSync(lr0), readFileSync(shared))).not.toBe(0);
    await rm(dir, { recursive: true });
  });

  it("per-layer --sparsity and --bits (Deep Compression's targets): each layer's own sparsity, bits and bytes in the report, equal to the file", async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-cli-'));
    const per = await cli([
      'train',
      '--model',
      'mlp:784-32-16-10',
      '--data',
      'mnist-10k',
      '--train-size',
      '512',
      '--test-size',
      '100',
      '--epochs',
      '2',
      '--batch',
      '64',
      '--sparsity',
      'dense1=0.9,dense2=0.5',
      '--bits',
      '3,dense2=6',
      '--fine-tune-steps',
      '5',
      '--out',
      dir,
      '--json',
    ]);
    expect(per.code, per.stderr).toBe(0);
    const pr = JSON.parse(per.stdout);
    expect(pr.layers.map((l: { nonzeros: number; params: number }) => l.params - l.nonzeros)).toEqual([
      Math.round(0.9 * 784 * 32),
      Math.round(0.5 * 32 * 16),
      0,
    ]);
    expect(pr.layers.map((l: { bitsPerWeight: number }) => l.bitsPerWeight)).toEqual([3, 6, 3]);
    const sum = pr.layers.reduce((s: number, l: { compressedBytes: number }) => s + l.compressedBytes, 0);
    expect(sum + pr.total.headerBytes).toBe(statSync(join(dir, 'model.slim.safetensors')).size);
    await rm(dir, { recursive: true });
  });

  it('bad flags get a clear error and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--lr', '-1'], /--lr must be a number > 0, got '-1'/],
      [['export', '--checkpoint', 'x', '--out', 'y', '--fine-tune-lr', '-1'], /--fine-tune-lr must be a number ≥ 0, got '-1'/],
      [['train', '--sparsity', '1.5'], /--sparsity: '1.5' must be in \[0, 1\]/],
      [['train', '--sparsity', 'dense1=0.5,dense1=0.6'], /--sparsity: layer 'dense1' is given twice/],
      [['train', '--sparsity', 'dense1=x'], /--sparsity: 'dense1=x' is not a number/],
      [
        ['train', '--sparsity', 'conv1=0.5', '--train-size', '64', '--batch', '32', '--epochs', '1'],
        /sparsity: 'conv1' is not a layer of this model \(layers: dense1, dense2, dense3/,
      ],
      [['train', '--bits', 'conv=9'], /--bits: 'conv=9' must be an integer in \[1, 8\]/],
      [['train', '--epochs', '2.5'], /--epochs must be an integer ≥ 1, got '2.5'/],
      [['train', '--schedule', 'cubic'], /argument 'cubic' is invalid.*constant, polynomial/s],
      [['train', '--model', 'resnet-50', '--train-size', '64', '--epochs', '1'], /unknown model 'resnet-50'/],
      [['train', '--data', 'imagenet'], /unknown data 'imagenet'/],
      [['train', '--bogus'], /unknown option '--bogus'/],
      [['eval'], /needs exactly one of --checkpoint <path> or --compressed <path>/],
      [['export', '--checkpoint', 'x'], /required option '--out <file>' not specified/],
      [['eval', '--checkpoint', '/nonexistent/c.safetensors'], /cannot read checkpoint '\/nonexistent\/c.safetensors': no such file/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
    const r = await cli(['train', '--lr', 'abc']);
    expect(r.stderr).toMatch(/run with --help for usage/);
  });
});
