// The draw-a-digit page (demo/digit.html) in headless Chromium: the bundled compressed LeNet loads
// in its compressed form, a stroke drawn with the mouse is classified while drawing, and the page's
// probabilities equal CompressedModel's in Node on the same 28×28 input. Screenshot in tests/artifacts/.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressedModel } from '../src/index.js';
import { openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';
import { expectClose, testGpu } from './helpers.js';

interface DigitProbe {
  ready: boolean;
  predictions: number;
  lastInput?: number[];
  lastProbs?: number[];
  error?: string;
  fileBytes?: number;
  weightBytes?: number;
  denseBytes?: number;
}
const MODEL = resolve(import.meta.dirname, '../demo/public/models/lenet-300-100.slim.safetensors');

describe('demo/digit.html', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('classifies a drawn digit from the compressed form, as CompressedModel does in Node', async () => {
    const { page, errors } = await openPage(h, '/digit.html', { viewport: { width: 900, height: 700 } });
    const probe = () => page.evaluate(() => (window as unknown as { __digit: DigitProbe }).__digit);
    await waitInPage(page, '(window.__digit && (window.__digit.ready || window.__digit.error))', 'the model to load', 120_000, 'window.__digit');
    expect((await probe()).error).toBeUndefined();
    const box = (await (await page.$('#pad'))!.boundingBox())!;
    const before = (await probe()).predictions;
    // a "7": a bar across the top, then a stroke down to the lower left
    await page.mouse.move(box.x + 70, box.y + 60);
    await page.mouse.down();
    for (const [x, y] of [
      [130, 58],
      [210, 60],
      [180, 130],
      [150, 200],
      [130, 250],
    ] as const)
      await page.mouse.move(box.x + x, box.y + y, { steps: 4 });
    await page.mouse.up();
    await waitInPage(
      page,
      `window.__digit.predictions > ${before} || window.__digit.error`,
      'a classification after the stroke',
      60_000,
      'window.__digit',
    );
    await new Promise((r) => setTimeout(r, 1500)); // let the last queued classification (after mouse up) land
    const p = await probe();
    expect(p.error).toBeUndefined();
    expect(p.predictions).toBeGreaterThan(1);
    expect(p.lastProbs!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.lastInput!.some((v) => v > 1)).toBe(true); // ink reached the 28×28 input
    expect(p.lastProbs!.indexOf(Math.max(...p.lastProbs!))).toBe(7); // the bundled model (97% on MNIST) reads the 7
    expect(p.fileBytes).toBe(readFileSync(MODEL).length);
    expect(p.denseBytes! / p.weightBytes!).toBeGreaterThan(8);
    expect(await page.$eval('#sizes', (e) => e.textContent)).toMatch(/GPU weight memory/);
    // the same input through CompressedModel in Node
    const m = await CompressedModel.load(await testGpu(), new Uint8Array(readFileSync(MODEL)));
    const z = await m.predict(Float32Array.from(p.lastInput!));
    m.dispose();
    const mx = Math.max(...z),
      e = Array.from(z, (v) => Math.exp(v - mx)),
      t = e.reduce((a, b) => a + b, 0);
    expectClose(
      p.lastProbs!,
      e.map((v) => v / t),
      { atol: 1e-4, rtol: 1e-3 },
      'page vs Node',
    );
    mkdirSync(resolve(import.meta.dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: resolve(import.meta.dirname, 'artifacts', 'digit.png') });
    expect(errors).toEqual([]);
  }, 240_000);
});
