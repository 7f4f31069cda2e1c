import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('npm run results -- --quick', () => {
  it('trains dense, pruned and pruned+shared models and writes RESULTS.md with honest file sizes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-results-'));
    await exec(process.execPath, [resolve(import.meta.dirname, '../dist/scripts/results.js'), '--quick', '--out', dir], { timeout: 300_000, maxBuffer: 16 << 20 });
    const md = await readFile(join(dir, 'RESULTS.md'), 'utf8');
    const json = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(md).toMatch(/\| fashion-mnist \| lenet-300-100 \| pruned \+ shared \|/);
    expect(md).toMatch(/\| mnist \| lenet-5 \| pruned \+ shared \|/);
    expect(md).toMatch(/\| mnist \| autoencoder:784-64 \| dense \|/);
    expect(md).toMatch(/Deep Compression/);
    type Row = { model: string; data: string; variant: string; params: number; nonzeros: number; fileBytes: number; denseBytes: number; ratio: number; accuracy?: number; psnr?: number };
    const rows = json.rows as Row[];
    expect(rows.length).toBe(12);
    for (const r of rows) {
      expect(r.ratio).toBeCloseTo(r.denseBytes / r.fileBytes, 6);
      if (r.accuracy !== undefined) expect(r.accuracy).toBeGreaterThan(0.1);
    }
    for (const key of new Set(rows.map((r) => `${r.data} ${r.model}`))) {
      const [dense, pruned, shared] = ['dense', 'pruned', 'pruned + shared'].map((v) => rows.find((r) => `${r.data} ${r.model}` === key && r.variant === v)!);
      expect(pruned!.nonzeros).toBeLessThan(dense!.nonzeros / 4);
      expect(pruned!.fileBytes).toBeLessThan(dense!.fileBytes);
      expect(shared!.fileBytes).toBeLessThan(pruned!.fileBytes);
    }
    await rm(dir, { recursive: true });
  });
});
