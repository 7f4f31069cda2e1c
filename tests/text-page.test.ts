// The text-model page (demo/text.html) in headless Chromium (SwiftShader): a tiny GPT trains with
// AdamW on the bundled sample text, validation bits per byte fall, the model samples after each
// validation and on demand, and the pruned model's report and file appear; after the export it samples
// from the compressed file (CompressedModel).
// The codec page (demo/codec.html): a slice of the sample compresses with the prequential GPT codec,
// bits per byte fall as it learns, the .slimz decompresses in the page to the same bytes, and the
// browser's gzip is compared. Screenshots go to tests/artifacts/. SwiftShader compiles every pipeline
// of a GPT step (most of each test's time): the waits are generous for a loaded machine.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

interface TextProbe {
  state: string;
  error?: string;
  totalSteps: number;
  logs: { step: number; bitsPerByte?: number }[];
  vals: { step: number; bitsPerByte: number }[];
  samples: { step: number; text: string; bytes: number; from: string }[];
  compressed?: { fileBytes: number; weightBytes: number; denseBytes: number };
  report?: {
    task: string;
    total: { sparsity: number; params: number; nonzeros: number; compressedBytes?: number; compressionRatio?: number };
    metrics: { testBitsPerByte?: number; prunedTestBitsPerByte?: number };
    layers: { name: string; params: number; bitsPerWeight: number; sparsity: number }[];
  };
  fileBytes?: number;
}

interface CodecProbe {
  state: string;
  error?: string;
  input?: { bytes: number };
  progress: { done: number; bits: number; chunk: number; chunks: number }[];
  slimzBytes?: number;
  codeBits?: number;
  gzipBytes?: number;
  gzipExact?: boolean;
  roundTrip?: boolean;
  rows: { method: string; bytes: number; exact?: boolean }[];
}

const TEXT_PROBE =
  '(() => { const p = window.__text; return p && { state: p.state, error: p.error, logs: p.logs.length, vals: p.vals, samples: p.samples.length } })()';
const CODEC_PROBE =
  '(() => { const p = window.__codec; return p && { state: p.state, error: p.error, progress: p.progress.length, roundTrip: p.roundTrip } })()';

describe('text-model and codec pages in headless Chromium', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('text page: a tiny GPT learns the sample text with AdamW, samples as it learns, and is pruned and exported', async () => {
    const q =
      'source=gpl&model=gpt:1-32-2-32&steps=40&batch=8&lr=0.01&warmup=5&sparsity=0.5&bits=0&evalEvery=20&tokens=16&temperature=0.8&prompt=The%20&autostart=1';
    const { page, errors } = await openPage(h, `/text.html?${q}`, { viewport: { width: 1440, height: 1000 } });
    await waitInPage(page, `window.__text && ["done", "error", "nogpu"].includes(window.__text.state)`, 'the end of the run', 280_000, TEXT_PROBE);
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __text: TextProbe }).__text)) as TextProbe);
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('done');
    expect(p.logs.at(-1)!.step).toBe(40);
    // validation before training and after each 20-step segment
    expect(p.vals.map((v) => v.step)).toEqual([0, 20, 40]);
    const v0 = p.vals[0]!.bitsPerByte,
      v2 = p.vals[2]!.bitsPerByte;
    expect(v0).toBeGreaterThan(7); // an untrained byte model: about 8 bits per byte
    expect(v2).toBeLessThan(v0 - 1.5);
    // training bits per byte fall too
    expect(p.logs.at(-1)!.bitsPerByte!).toBeLessThan(p.logs[0]!.bitsPerByte! - 1);
    // a sample after each validation, of the requested length, then one from the compressed file
    expect(p.samples.map((s) => s.step)).toEqual([0, 20, 40, 40]);
    expect(p.samples.map((s) => s.from)).toEqual(['dense', 'dense', 'dense', 'compressed']);
    for (const s of p.samples) expect(s.bytes).toBe(16);
    // after the export the page samples from the compressed file: fewer GPU weight bytes than dense fp32
    expect(p.compressed!.fileBytes).toBe(p.fileBytes);
    expect(p.compressed!.weightBytes).toBeLessThan(p.compressed!.denseBytes * 0.85); // 50% kept as f32: csr, 6 B per kept weight
    // every matrix (the tied embedding included) pruned to 50%, kept as f32 (bits=0: weight sharing, which
    // compiles its own kernels and is slow on SwiftShader, is covered by the Node tests); norms and biases dense
    const r = p.report!;
    expect(r.task).toBe('language');
    const matrices = r.layers.filter((l) => l.params > 0);
    expect(matrices.map((l) => l.name)).toEqual(expect.arrayContaining(['wte', 'h0.attn.c_attn', 'h0.mlp.c_fc']));
    for (const l of matrices) {
      expect(l.bitsPerWeight).toBe(32);
      expect(l.sparsity).toBeCloseTo(0.5, 2);
    }
    expect(r.metrics.testBitsPerByte!).toBeLessThan(v0 - 1.5);
    expect(r.metrics.testBitsPerByte).toBe(v2);
    expect(p.fileBytes!).toBeGreaterThan(0);
    expect(r.total.compressedBytes).toBe(p.fileBytes);
    expect(r.total.compressionRatio!).toBeGreaterThan(1.3);

    // the model stays loaded: "Sample now" writes one more sample
    await page.click('#sample');
    await waitInPage(page, 'window.__text.samples.length === 5', 'a sample on demand', 30_000, TEXT_PROBE);
    expect(await page.evaluate(() => (window as unknown as { __text: TextProbe }).__text.samples.at(-1)!.from)).toBe('compressed');
    const seen = await page.evaluate(() => ({
      report: document.getElementById('report')!.hidden,
      rows: document.querySelectorAll('#report-table tbody tr').length,
      samples: document.querySelectorAll('#samples .sample').length,
      phase: document.getElementById('phase')!.textContent ?? '',
      val: document.getElementById('s-val')!.textContent,
    }));
    expect(seen.report).toBe(false);
    expect(seen.rows).toBe(r.layers.length + 2);
    expect(seen.samples).toBe(5);
    expect(seen.phase).toMatch(/^Done after 40 steps/);
    expect(Number(seen.val)).toBeCloseTo(p.vals.at(-1)!.bitsPerByte, 2);
    console.log(
      `text page: validation bits/byte ${p.vals.map((v) => v.bitsPerByte.toFixed(2)).join(' → ')}; last sample ${JSON.stringify(p.samples.at(-1)!.text)}`,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'text-page.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it('codec page: compresses live, decompresses in the page to the same bytes, compares with gzip', async () => {
    const q = 'sample=1&sampleBytes=2000&model=gpt:1-32-2-32&mixer=none&streams=4&chunkBytes=64&stepsPerChunk=2&lr=0.01&autostart=1';
    const { page, errors } = await openPage(h, `/codec.html?${q}`, { viewport: { width: 1440, height: 900 } });
    await waitInPage(
      page,
      `window.__codec && ['done', 'error', 'nogpu'].includes(window.__codec.state)`,
      'compression and the round trip',
      280_000,
      CODEC_PROBE,
    );
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __codec: CodecProbe }).__codec)) as CodecProbe);
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('done');
    expect(p.input!.bytes).toBe(2000);
    expect(p.roundTrip).toBe(true);
    expect(p.gzipExact).toBe(true);
    expect(p.gzipBytes!).toBeGreaterThan(0);
    // one progress report per chunk; the code gets cheaper as the model learns
    const last = p.progress.at(-1)!;
    expect(last.done).toBe(2000);
    expect(p.progress.length).toBe(last.chunks);
    const chunkBpb = p.progress.map((x, i) => {
      const prev = p.progress[i - 1];
      return (x.bits - (prev?.bits ?? 0)) / (x.done - (prev?.done ?? 0));
    });
    expect(chunkBpb[0]!).toBeGreaterThan(7);
    expect(chunkBpb.at(-1)!).toBeLessThan(chunkBpb[0]! - 1);
    // the arithmetic code itself is shorter than the text (a file this small is dominated by the header's settings)
    expect(p.codeBits! / 8).toBeLessThan(2000);
    expect(p.slimzBytes!).toBeGreaterThan(p.codeBits! / 8);
    expect(p.rows.filter((r) => !r.method.startsWith('brotli')).map((r) => [r.method.split(' ')[0], r.exact])).toEqual([
      ['gzip', true],
      ['slimgpu', true],
    ]);
    const ui = await page.evaluate(() => ({
      verify: document.getElementById('s-verify')!.textContent,
      download: (document.getElementById('download') as HTMLButtonElement).disabled,
      out: (document.getElementById('download-out') as HTMLButtonElement).disabled,
      phase: document.getElementById('phase')!.textContent ?? '',
    }));
    expect(ui).toMatchObject({ verify: '✓ exact', download: false, out: false });
    expect(ui.phase).toMatch(/^Round trip exact/);
    console.log(
      `codec page: 2000 bytes → ${p.slimzBytes} (.slimz), gzip ${p.gzipBytes}; chunk bits/byte ${chunkBpb.map((x) => x.toFixed(2)).join(' ')}`,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'codec-page.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
