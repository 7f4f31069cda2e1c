// The codec page (demo/codec.html) with codec 5 in headless Chromium: the default codec (the shipped
// pretrained model + CM when one is shipped, else the CM alone) compresses a slice of the sample,
// decompresses it in the page to the same bytes, and is sized against the browser's gzip (and
// brotli where Chromium has it); the message box compresses what is typed, live, and decodes it.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_MODEL_IDS } from '../src/codec/pretrained/index.js';
import { openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';

interface Probe {
  state: string;
  error?: string;
  codec?: string;
  input?: { bytes: number };
  slimzBytes?: number;
  gzipBytes?: number;
  brotliBytes?: number;
  roundTrip?: boolean;
  rows: { method: string; bytes: number; exact?: boolean }[];
  live?: { bytes: number; slimz: number; gzip: number; brotli?: number; exact: boolean };
}
const PROBE = '(() => { const p = window.__codec; return p && { state: p.state, error: p.error, codec: p.codec, live: p.live } })()';

describe('codec page, codec 5 (headless Chromium)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the default codec round-trips 4 KB in the page, beats gzip, and the message box codes live', async () => {
    const { page, errors } = await openPage(h, '/codec.html?sample=1&sampleBytes=4000&autostart=1', { viewport: { width: 1440, height: 1000 } });
    await waitInPage(page, `window.__codec && ['done', 'error'].includes(window.__codec.state)`, 'compression and the round trip', 120_000, PROBE);
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __codec: Probe }).__codec)) as Probe);
    expect(p.error).toBeUndefined();
    expect(p.codec).toBe(SHIPPED_MODEL_IDS.length ? 'pretrained' : 'none');
    expect(p.input!.bytes).toBe(4000);
    expect(p.roundTrip).toBe(true);
    expect(p.slimzBytes!).toBeLessThan(p.gzipBytes!);
    expect(p.rows.find((r) => r.method.startsWith('slimgpu'))!.exact).toBe(true);
    await page.type('#live', 'Meet me at the station at noon; bring the map and the tickets.');
    await waitInPage(page, 'window.__codec.live && window.__codec.live.bytes === 62', 'the live box', 30_000, PROBE);
    const live = await page.evaluate(() => (window as unknown as { __codec: Probe }).__codec.live!);
    expect(live.exact).toBe(true);
    expect(live.slimz).toBeLessThan(live.gzip);
    expect(await page.$eval('#live-out', (e) => e.textContent)).toMatch(/62 bytes → slimgpu .*✓ decompressed exactly\) · gzip \d+/);
    console.log(
      `codec page (${p.codec}): 4000 bytes → ${p.slimzBytes} (.slimz), gzip ${p.gzipBytes}, brotli ${p.brotliBytes ?? 'n/a'}; message 62 B → ${live.slimz} B (gzip ${live.gzip}, brotli ${live.brotli ?? 'n/a'})`,
    );
    mkdirSync(resolve(import.meta.dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: resolve(import.meta.dirname, 'artifacts/codec-page-v5.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
