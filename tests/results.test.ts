import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('npm run results -- --quick', () => {
  it("dense → pruned → shared + huffman per model; the paper's table side by side; per-layer bytes add up to the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-results-'));
    await exec(process.execPath, [resolve(import.meta.dirname, '../dist/scripts/results.js'), '--quick', '--out', dir], {
      timeout: 300_000,
      maxBuffer: 16 << 20,
    });
    const md = await readFile(join(dir, 'RESULTS.md'), 'utf8');
    const json = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(md).toMatch(/\| LeNet-300-100 \| Deep Compression \(Han et al\. 2016\) \| 1\.64% \|/);
    expect(md).toMatch(/\| \| \*\*slimgpu\*\* \|/);
    expect(md).toMatch(/huffman vs deflate/);
    type Row = {
      model: string;
      data: string;
      params: number;
      kept: number;
      fileBytes: number;
      headerBytes: number;
      denseBytes: number;
      prunedFileBytes: number;
      ratio: number;
      denseError: number;
      finalError: number;
      layers: { bytes: number; kept: number; params: number }[];
      coding: { packed: number; huffman: number; deflate: number };
    };
    const rows = json.rows as Row[];
    expect(rows.map((r) => `${r.data} ${r.model}`)).toEqual(['mnist lenet-300-100', 'mnist lenet-5', 'fashion-mnist lenet-300-100']);
    for (const r of rows) {
      expect(r.ratio).toBeCloseTo(r.denseBytes / r.fileBytes, 6);
      expect(r.headerBytes + r.layers.reduce((s, l) => s + l.bytes, 0)).toBe(r.fileBytes);
      expect(r.kept).toBeLessThan(r.params / 4);
      expect(r.fileBytes).toBeLessThan(r.prunedFileBytes);
      expect(r.coding.huffman).toBeLessThanOrEqual(r.coding.packed);
      expect(r.finalError).toBeLessThan(0.9);
    }
    await rm(dir, { recursive: true });
  });
});
