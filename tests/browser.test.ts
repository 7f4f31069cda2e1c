import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, startHarness, type Harness } from './browser-harness.js';

describe('in headless Chromium (puppeteer-core, page on 127.0.0.1)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('acquires WebGPU and round-trips a compute shader and a matmul', async () => {
    const { page, errors } = await openPage(h, '/smoke.html');
    const res = await page.evaluate(() => (window as unknown as { __slimgpu: Promise<Record<string, unknown>> }).__slimgpu);
    expect(res.error).toBeUndefined();
    expect(res.ok).toBe(true);
    expect(res.roundTrip).toEqual([1, 2, 3, 4]);
    expect(res.matmulMaxErr as number).toBeLessThan(1e-4);
    expect((res.adapter as { backend: string }).backend).toBe('browser');
    expect(errors).toEqual([]);
    await page.close();
  });
});
