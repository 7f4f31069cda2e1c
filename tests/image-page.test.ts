// The image page (demo/image.html) in headless Chromium (SwiftShader): a generated 128×128 image
// is compressed and decompressed in the page, beside the browser's JPEG and WebP at the same byte
// budget; and a .slimg encoded here in Node (lavapipe) decodes in the page to the same latent integers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpu } from '../src/gpu/device.js';
import { ImageCodec } from '../src/image/codec.js';
import { loadImageModel } from '../src/image/node.js';
import { openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';

interface Probe {
  state: string;
  error?: string;
  rows: { codec: string; bytes: number; bpp: number; psnr: number }[];
}

describe('image page in headless Chromium', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('compresses a sample beside JPEG/WebP, and decodes a Node-encoded latent to the same integers', async () => {
    const { page, errors } = await openPage(h, '/image.html?sample=1&quality=6&autostart=1');
    await waitInPage(page, 'window.__image && ["done", "error", "nogpu"].includes(window.__image.state)', 'the image run', 240_000, 'window.__image');
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __image: Probe }).__image)) as Probe);
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('done');
    const [ours, ...others] = p.rows;
    expect(ours!.psnr).toBeGreaterThan(15);
    for (const r of others) if (r.bytes > 0) expect(r.bytes).toBeLessThanOrEqual(ours!.bytes);

    const gpu = await createGpu();
    const codec = new ImageCodec(gpu, loadImageModel);
    const n = 40,
      data = new Uint8Array(n * n * 3).map((_, i) => (i * 31 + (i >> 7) * 17) % 256);
    const bytes = await codec.compress({ width: n, height: n, channels: 3, data }, { quality: 7 });
    const here = (await codec.decodeLatents(bytes)).q.flatMap((q) => Array.from(q));
    codec.dispose();
    gpu.destroy();
    const there = await page.evaluate(
      (b: number[]) => (window as unknown as { __imageDecodeLatents: (b: number[]) => Promise<number[]> }).__imageDecodeLatents(b),
      Array.from(bytes),
    );
    expect(there).toEqual(here);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
