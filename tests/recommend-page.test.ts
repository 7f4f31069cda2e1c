// The recommend page (demo/recommend.html) in headless Chromium (SwiftShader): the bundled Debian
// sample is split as the CLI splits it (the popularity baseline equals Node's to the bit), a
// rec:dae model trains 2 epochs on WebGPU with numeric HR/NDCG@10 per epoch, the tables are
// compressed at the slider's setting, and moving the slider compresses again and shows the
// compressed top-10 beside the dense one in the user browser; a pasted CSV with the wrong columns is a named error.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInteractionsCsv } from '../src/data/interactions.js';
import { filterLog, leaveLastOut, sortItems } from '../src/data/rec-split.js';
import { evalUsers, popularityLists, scoreLists } from '../src/rec/eval.js';
import { openPage, startHarness, waitInPage, type Harness } from './browser-harness.js';

type Num = { hr: number; ndcg: number };
interface RecProbe {
  state: string;
  error?: string;
  data?: { users: number; items: number; interactions: number; evaluated: number };
  popularity?: { valid: Num; test: Num };
  epochs: (Num & { epoch: number; loss: number })[];
  dense?: Num & { bytes: number };
  compressed?: Num & { sparsity: number; bits: number; bytes: number; ratio: number };
  user?: { name: string; dense: string[]; compressed: string[] };
}

const SAMPLE = resolve(import.meta.dirname, '../demo/public/debian-deps-sample.csv');
const isMetric = (x: number | undefined) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;

describe('demo/recommend.html', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('trains on the bundled sample, compresses by the slider and shows both top-10s', async () => {
    const { page, errors } = await openPage(h, '/recommend.html?sample=1&epochs=2&prune=50&bits=4&finetune=1&autostart=1');
    const probe = () => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __rec: RecProbe }).__rec)) as RecProbe);
    const settled = (s: string) => `window.__rec && ["${s}", "error", "nogpu"].includes(window.__rec.state)`;
    await waitInPage(page, settled('compressed'), 'training and the first compression', 90_000, 'window.__rec');
    let p = await probe();
    expect(p.error).toBeUndefined();
    expect(p.state).toBe('compressed');

    // the same split and baseline as the CLI's loader (parse → filter → sortItems → leaveLastOut)
    const split = leaveLastOut(sortItems(filterLog(parseInteractionsCsv(readFileSync(SAMPLE, 'utf8'), 'sample.csv'), {})), 0);
    const users = evalUsers(split);
    expect(p.data).toMatchObject({ users: split.nUsers, items: split.nItems, interactions: split.interactions, evaluated: users.length });
    const pop = scoreLists(split, users, popularityLists(split, users, 'test'), 'test');
    expect(p.popularity!.test).toEqual({ hr: pop.hr, ndcg: pop.ndcg });

    expect(p.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of p.epochs) {
      expect(isMetric(e.hr) && isMetric(e.ndcg)).toBe(true);
      expect(Number.isFinite(e.loss)).toBe(true);
    }
    expect(isMetric(p.dense!.ndcg)).toBe(true);
    expect(p.compressed!.sparsity).toBe(0.5);
    expect(p.compressed!.ratio).toBeGreaterThan(4);
    expect(isMetric(p.compressed!.ndcg)).toBe(true);
    expect(p.user!.dense).toHaveLength(10);
    expect(p.user!.compressed).toHaveLength(10);

    // move the slider: 90% pruned at 2 bits, a smaller file and new compressed lists in the page
    await page.evaluate(() => {
      const f = document.getElementById('controls') as HTMLFormElement;
      (f.elements.namedItem('bits') as HTMLSelectElement).value = '2';
      const s = f.elements.namedItem('prune') as HTMLInputElement;
      s.value = '90';
      s.dispatchEvent(new Event('input'));
      s.dispatchEvent(new Event('change'));
    });
    await waitInPage(page, `${settled('compressed')} && window.__rec.compressed.sparsity === 0.9`, 'the slider compression', 60_000, 'window.__rec');
    const first = p.compressed!;
    p = await probe();
    expect(p.error).toBeUndefined();
    expect(p.compressed!.bits).toBe(2);
    expect(p.compressed!.bytes).toBeLessThan(first.bytes);
    expect(isMetric(p.compressed!.ndcg)).toBe(true);
    const shown = await page.$$eval('ol[data-list="compressed model"] li', (li) => li.map((x) => x.textContent ?? ''));
    expect(shown).toHaveLength(10);
    expect(shown.map((s) => s.split(' ')[0])).toEqual(p.user!.compressed);
    expect(await page.$$eval('ol[data-list="dense model"] li', (li) => li.length)).toBe(10);
    expect(await page.$eval('#prune-value', (e) => e.textContent)).toBe('90%');

    // a pasted CSV without a user column: a named error in the page, not a NaN
    await page.evaluate(() => {
      const f = document.getElementById('controls') as HTMLFormElement;
      (f.elements.namedItem('paste') as HTMLTextAreaElement).value = 'who,what\na,b\n';
      document.getElementById('use-paste')!.click();
    });
    p = await probe();
    expect(p.state).toBe('error');
    expect(p.error).toMatch(/pasted\.csv: the header \[who, what\] names no user column/);
    expect(await page.$eval('#notice', (e) => e.textContent)).toMatch(/names no user column/);

    // pasted MovieLens u.data (tab-separated, with timestamps) is detected and split by time; a duplicate is kept once
    await page.evaluate(() => {
      const rows = ['1\t10\t5\t3', '1\t11\t4\t1', '1\t12\t3\t2', '2\t10\t4\t9', '2\t12\t2\t8', '2\t13\t1\t7', '2\t13\t1\t7', '3\t11\t5\t1'];
      const f = document.getElementById('controls') as HTMLFormElement;
      (f.elements.namedItem('paste') as HTMLTextAreaElement).value = rows.join('\n');
      document.getElementById('use-paste')!.click();
    });
    p = await probe();
    expect(p.state).toBe('loaded');
    expect(p.data).toMatchObject({ users: 3, items: 4, interactions: 7, evaluated: 2 });
    expect(await page.$eval('#data-note', (e) => e.textContent)).toMatch(/1 duplicates dropped\); leave-last-out by timestamp/);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
