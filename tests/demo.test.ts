// The live training demo (demo/index.html) in headless Chromium: a small run trains, the loss
// falls, the page stays responsive while the GPU works, the report and the compressed model
// appear, nothing is logged as an error; a screenshot goes to tests/artifacts/demo.png. Without
// WebGPU the page says so and names what is needed.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, launchChromium, openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

interface Probe {
  state: string;
  error?: string;
  totalSteps: number;
  logs: { step: number; loss: number; accuracy?: number; sparsity: number }[];
  sparsity: { step: number; layers: Record<string, number> }[];
  tests: { step: number; result: { accuracy?: number } }[];
  report?: {
    total: { sparsity: number; nonzeros: number; params: number; compressedBytes?: number; compressionRatio?: number };
    metrics: { testAccuracy?: number; prunedTestAccuracy?: number };
    layers: { name: string; bitsPerWeight: number }[];
  };
  reportText?: string;
  fileBytes?: number;
  maxLagMs: number;
  toggles: number;
  framesWhileTraining: number;
}

const PROBE = '(() => { const p = window.__demo; return p && { state: p.state, error: p.error, logs: p.logs.length, step: p.logs.at(-1)?.step } })()';

describe('demo page: live training in headless Chromium', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('trains a small pruned MLP: loss falls, the page stays responsive, the report and model file appear', async () => {
    // 2,000 digits, batch 50: 40 steps per epoch, 2 epochs, pruned to 80% (polynomial, per layer), then
    // 5-bit weight sharing (the form's default) with 10 centroid fine-tuning steps
    const q =
      'model=mlp:784-100-10&train=2000&test=500&epochs=2&batch=50&lr=0.1&sparsity=0.8&schedule=polynomial&pruning=layer&inspectMs=250&fineTune=10&autostart=1';
    const { page, errors } = await openPage(h, `/index.html?${q}`, { viewport: { width: 1440, height: 1100 } });
    await waitInPage(
      page,
      `window.__demo && (window.__demo.state === 'training' && window.__demo.logs.length >= 2 || ['done', 'error', 'nogpu'].includes(window.__demo.state))`,
      'the first logs',
      60_000,
      PROBE,
    );

    // during training: a click on the log-scale toggle is handled promptly
    const during = await page.evaluate(() => {
      const d = (window as unknown as { __demo: Probe }).__demo;
      return `${d.state}${d.error ? `: ${d.error}` : ''}`;
    });
    expect(during, 'the run ended before the page could be checked for responsiveness').toBe('training');
    const t0 = Date.now();
    await page.click('#logscale');
    await waitInPage(page, 'window.__demo.toggles === 1', 'the toggle click', 5_000, PROBE);
    const clickMs = Date.now() - t0;
    expect(clickMs).toBeLessThan(2_000);

    await waitInPage(page, `['done', 'error'].includes(window.__demo.state)`, 'the end of the run', 75_000, PROBE);
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __demo: Probe }).__demo)) as Probe);
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('done');
    expect(p.totalSteps).toBe(80);
    expect(p.logs.at(-1)!.step).toBe(80);
    // the loss falls: the last logged losses are well below the first
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(p.logs.slice(0, 2).map((e) => e.loss)),
      last = mean(p.logs.slice(-3).map((e) => e.loss));
    expect(last).toBeLessThan(0.6 * first);
    // the page kept running timers and painting frames while the GPU trained
    expect(p.maxLagMs).toBeLessThan(1_500);
    expect(p.framesWhileTraining).toBeGreaterThan(3);
    // masks were read during training, and the last readback shows the target sparsity per layer
    expect(p.sparsity.length).toBeGreaterThanOrEqual(3);
    for (const s of Object.values(p.sparsity.at(-1)!.layers)) expect(s).toBeCloseTo(0.8, 2);
    // test accuracy after the first epoch and at the end
    expect(p.tests.length).toBe(2);
    // then 5-bit weight sharing (the default) with fine-tuned centroids, and the export
    expect(p.report!.metrics.prunedTestAccuracy!).toBeGreaterThan(0.75);
    expect(p.report!.metrics.testAccuracy!).toBeGreaterThan(0.75);
    expect(p.report!.layers.map((l) => l.bitsPerWeight)).toEqual([5, 5]);
    expect(p.report!.total.sparsity).toBeCloseTo(0.8, 2);
    expect(p.fileBytes!).toBeGreaterThan(0);
    expect(p.report!.total.compressedBytes).toBe(p.fileBytes);
    expect(p.report!.total.compressionRatio!).toBeGreaterThan(10);
    expect(p.reportText).toMatch(/slimgpu report — model mlp:784-100-10/);

    // what the user sees
    const seen = await page.evaluate(() => ({
      reportHidden: document.getElementById('report')!.hidden,
      rows: document.querySelectorAll('#report-table tbody tr').length,
      text: document.getElementById('report-text')!.textContent,
      phase: document.getElementById('phase')!.textContent,
      download: !(document.getElementById('download') as HTMLButtonElement).disabled,
      weights: (document.getElementById('weights-canvas') as HTMLCanvasElement).width,
      notice: document.getElementById('notice')!.hidden,
    }));
    expect(seen.reportHidden).toBe(false);
    expect(seen.rows).toBe(p.report!.layers.length + 2); // layers, file header, total
    expect(seen.text).toContain('non-zero weights');
    expect(seen.phase).toMatch(/^Done after 80 steps/);
    expect(seen.download).toBe(true);
    expect(seen.weights).toBeGreaterThan(100);
    expect(seen.notice).toBe(true);

    console.log(
      `demo: ${p.logs.length} logs, ${p.sparsity.length} mask readbacks, loss ${first.toFixed(3)} → ${last.toFixed(3)}, ` +
        `test accuracy ${p.report!.metrics.testAccuracy}, click handled in ${clickMs} ms, max timer lag ${p.maxLagMs.toFixed(0)} ms, ${p.framesWhileTraining} frames while training`,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'demo.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Stop ends a long run early and still reports on the model trained so far', async () => {
    const q = 'model=mlp:784-100-10&train=2000&test=500&epochs=20&batch=50&sparsity=0.5&bits=0&autostart=1';
    const { page, errors } = await openPage(h, `/index.html?${q}`);
    await waitInPage(
      page,
      `window.__demo && (window.__demo.logs.length >= 3 || ['done', 'error', 'nogpu'].includes(window.__demo.state))`,
      'the first logs',
      60_000,
      PROBE,
    );
    await page.click('#stop');
    await waitInPage(page, `['done', 'error'].includes(window.__demo.state)`, 'the end of the stopped run', 60_000, PROBE);
    const p = await page.evaluate(
      () => JSON.parse(JSON.stringify((window as unknown as { __demo: Probe & { stopped: boolean } }).__demo)) as Probe & { stopped: boolean },
    );
    expect(p.error).toBeUndefined();
    expect(p.stopped).toBe(true);
    const steps = p.logs.at(-1)!.step;
    expect(steps).toBeLessThan(p.totalSteps / 4); // 800 steps planned
    expect(p.report!.layers.map((l) => l.bitsPerWeight)).toEqual([32, 32]); // bits=0: no weight sharing
    const ui = await page.evaluate(() => ({
      phase: document.getElementById('phase')!.textContent ?? '',
      run: (document.getElementById('run') as HTMLButtonElement).disabled,
      stop: (document.getElementById('stop') as HTMLButtonElement).disabled,
      report: document.getElementById('report')!.hidden,
    }));
    expect(ui.phase).toMatch(/^Stopped after \d+ steps/);
    expect(ui).toMatchObject({ run: false, stop: true, report: false });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a lost GPU device: the page says what happened and continues from its in-memory snapshot on a new device', async () => {
    // 80 steps, a snapshot every 8: the device is lost after step 50, the run continues from step 48
    const q = 'model=mlp:784-100-10&train=2000&test=200&epochs=2&batch=50&sparsity=0.5&bits=0&fault=device-lost@step=50&autoResume=1&autostart=1';
    const { page, errors } = await openPage(h, `/index.html?${q}`);
    await waitInPage(page, `window.__demo && ['done', 'error', 'nogpu'].includes(window.__demo.state)`, 'the end of the run', 90_000, PROBE);
    const p = await page.evaluate(
      () =>
        JSON.parse(JSON.stringify((window as unknown as { __demo: unknown }).__demo)) as Probe & {
          deviceLost: { reason: string; snapshotStep: number; message: string }[];
          resumedFrom: number[];
        },
    );
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('done');
    expect(p.deviceLost).toHaveLength(1);
    expect(p.deviceLost[0]!.reason).toBe('destroyed');
    expect(p.deviceLost[0]!.message).toMatch(/GPU device was lost \(destroyed: fault injected \(device-lost@step=50\)\)/);
    expect(p.resumedFrom).toEqual([48]);
    expect(p.logs.at(-1)!.step).toBe(80);
    expect(p.report!.total.sparsity).toBeCloseTo(0.5, 2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without WebGPU it says so and names the browser and flags needed', async () => {
    const browser = await launchChromium([...CHROMIUM_FLAGS.filter((f) => f !== '--enable-unsafe-webgpu'), '--disable-features=WebGPU']);
    try {
      const page = await browser.newPage();
      await page.goto(`${h.base}/index.html`, { waitUntil: 'load' });
      await waitInPage(page, `window.__demo && window.__demo.state !== 'init'`, 'the WebGPU check', 20_000, PROBE);
      const r = await page.evaluate(() => ({
        state: (window as unknown as { __demo: Probe }).__demo.state,
        notice: document.getElementById('notice')!.hidden ? '' : document.getElementById('notice')!.textContent,
        train: (document.getElementById('run') as HTMLButtonElement).disabled,
      }));
      expect(r.state).toBe('nogpu');
      expect(r.notice).toMatch(/WebGPU/);
      expect(r.notice).toMatch(/--enable-unsafe-webgpu/);
      expect(r.notice).toMatch(/no WebGPU adapter was found/);
      expect(r.train).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
