// The shader benchmark page (demo/bench.html) in headless Chromium, quick mode: every kernel of
// the registry (bench/registry.ts) is validated against its CPU reference and gets a time, and
// GFLOPS or GB/s; the page says whether the times are GPU timestamps or wall time.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_SUITES } from '../bench/registry.js';
import { openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';

interface Row {
  kernel: string;
  variant: string;
  size: string;
  ms?: number;
  gflops?: number;
  gbps?: number;
  timing: string;
  reps?: number;
  check: string;
  error?: string;
}
interface BenchProbe {
  state: string;
  mode: string;
  timing?: string;
  hasTimestamps?: boolean;
  suites: string[];
  planned: number;
  results: Row[];
  error?: string;
  copied?: string;
}

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');
const PROBE = '(() => { const p = window.__bench; return p && { state: p.state, error: p.error, done: p.results.length, planned: p.planned } })()';

describe('bench page in headless Chromium', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('quick mode times every kernel of the registry and checks it against the CPU', async () => {
    const { page, errors } = await openPage(h, '/bench.html?quick=1', { viewport: { width: 1280, height: 900 } });
    await waitInPage(page, `window.__bench && ['done', 'error', 'nogpu'].includes(window.__bench.state)`, 'the quick benchmarks', 80_000, PROBE);
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __bench: BenchProbe }).__bench)) as BenchProbe);
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('done');
    expect(p.mode).toBe('quick');
    expect(p.suites).toEqual(KERNEL_SUITES.map((s) => s.name));
    expect(p.results.length).toBe(p.planned);
    for (const r of p.results) {
      expect(r.check, `${r.kernel} ${r.variant} ${r.size}: ${r.error}`).toBe('ok');
      expect(r.ms!, `${r.kernel} ${r.variant}`).toBeGreaterThan(0);
      expect(Number.isFinite(r.ms)).toBe(true);
      if (r.kernel !== 'noop') expect((r.gflops ?? r.gbps)!, `${r.kernel} ${r.variant}: GFLOPS or GB/s`).toBeGreaterThan(0);
    }
    for (const name of p.suites)
      expect(
        p.results.some((r) => r.kernel === name && r.ms! > 0),
        `a number for ${name}`,
      ).toBe(true);
    // the page says which clock it used
    expect(p.timing).toBe(p.hasTimestamps ? 'gpu-timestamp' : 'wall');
    const note = await page.$eval('#timing', (e) => e.textContent ?? '');
    expect(note).toMatch(p.hasTimestamps ? /GPU timestamps/ : /wall time.*timestamp-query/);
    const rows = await page.$$eval('#results tbody tr', (trs) => trs.length);
    expect(rows).toBe(p.results.length);
    // copy JSON: clipboard, or (without permission) the JSON is selected for Ctrl+C
    await page.click('#copy');
    await waitInPage(page, 'window.__bench.copied !== undefined', 'the copy button', 5_000, PROBE);
    const json = JSON.parse(await page.$eval('#json', (e) => e.textContent ?? '')) as { results: Row[]; timing: string };
    expect(json.results.length).toBe(p.results.length);
    expect(json.timing).toBe(p.timing);
    console.log(`bench page (${p.timing}): ` + p.results.map((r) => `${r.kernel}/${r.variant} ${r.ms} ms`).join(', '));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'bench.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('with ?wall=1 it times by wall clock and says so', async () => {
    const { page, errors } = await openPage(h, '/bench.html?quick=1&wall=1&budget=10');
    await waitInPage(page, `window.__bench && ['done', 'error', 'nogpu'].includes(window.__bench.state)`, 'the wall-time benchmarks', 80_000, PROBE);
    const p = await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __bench: BenchProbe }).__bench)) as BenchProbe);
    expect(p.error).toBeUndefined();
    expect(p.timing).toBe('wall');
    for (const r of p.results) {
      expect(r.check, `${r.kernel} ${r.variant}: ${r.error}`).toBe('ok');
      expect(r.timing).toBe('wall');
      expect(r.ms!).toBeGreaterThan(0);
    }
    expect(await page.$eval('#timing', (e) => e.textContent ?? '')).toMatch(/wall time, submit → onSubmittedWorkDone.*\?wall=1/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
