// Per-frequency mixed dimensions, gradual pruning and the plans of the recommender's compression
// (docs/rec-compression.md): the rowprefix / colprefix index round trip (TypeScript and
// python/slim_reader.py, versions 2 and 3), the flags' named errors, the schedule, and one small
// end-to-end run on the GPU (mixed dims + gradual pruning + k-means, decoded back exactly).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressedModelError, decodeCompressed, serializeCompressed } from '../src/io/format/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { mfSpec, REC_COMPRESS_DEFAULTS, transpose } from '../src/rec/compress.js';
import { MixedDimsError, parseMixedDims, prefixMask, rowCounts, rowDims } from '../src/rec/mixed.js';
import { parsePlansJson, parsePlansList, RecPlanError, formatPlanTable } from '../src/rec/plans.js';
import { compressRecommender, sparsityAtEpoch } from '../src/rec/stages.js';
import { trainRecommender } from '../src/rec/run.js';
import { replaceRecSection, REC_RESULTS_ARGS } from '../scripts/rec-results-run.js';
import { rng, testGpu } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-rec-mixed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const py = async (file: string) => {
  const out = join(dir, 'dense.safetensors');
  await promisify(execFile)('/usr/bin/python3', [join(import.meta.dirname, '../python/slim_reader.py'), file, '--out', out]);
  return parseSafetensors(new Uint8Array(await readFile(out))).tensors;
};

/** A dae-style model (history [nI, D], item [D, nI]) with mixed-dimension masks from random counts. */
function mixedModel(nI: number, D: number, dimsText: string, seed: number) {
  const r = rng(seed);
  const counts = Array.from({ length: nI }, () => Math.floor(r() * 100));
  const dims = rowDims(counts, parseMixedDims(dimsText, D));
  const mU = prefixMask(dims, D),
    mV = prefixMask(dims, D);
  const U = Float32Array.from(mU, (m) => (m ? r() - 0.5 : 0)),
    V = Float32Array.from(mV, (m) => (m ? r() - 0.5 : 0));
  const values = new Map([
    ['history.weight', U],
    ['history.bias', new Float32Array(D)],
    ['item.weight', transpose(V, nI, D)],
    ['item.bias', Float32Array.from({ length: nI }, () => r())],
  ]);
  const masks = new Map([
    ['history.weight', mU],
    ['item.weight', transpose(mV, nI, D)],
  ]);
  return { spec: mfSpec(nI, nI, D, 'dae'), values, masks, dims, counts };
}

describe('mixed dimensions: flags and buckets', () => {
  it('parses D0:F0,…,DL and refuses bad text with MixedDimsError', () => {
    expect(parseMixedDims('64:0.1,32:0.2,16:0.3,8', 64)).toEqual({ dims: [64, 32, 16, 8], shares: [0.1, 0.2, 0.3] });
    expect(parseMixedDims('16:.5,0', 16)).toEqual({ dims: [16, 0], shares: [0.5] });
    for (const bad of ['64', '64:0.1', '65:0.1,8', '8:0.1,16', '64:0.6,32:0.6,8', '64:x,8', '64:0.1,8:0.2', '64:0,8', '', '64:0.1,-1'])
      expect(() => parseMixedDims(bad, 64), bad).toThrow(MixedDimsError);
  });

  it('fills the buckets by count (descending, ties: lower row first)', () => {
    const dims = rowDims([5, 9, 1, 9, 0, 3, 7, 2, 8, 4], parseMixedDims('8:0.2,4:0.3,1', 8));
    expect(Array.from(dims)).toEqual([4, 8, 1, 8, 1, 1, 4, 1, 4, 1]);
    expect(Array.from(prefixMask([2, 0, 3], 3))).toEqual([1, 1, 0, 0, 0, 0, 1, 1, 1]);
  });
});

describe('rowprefix / colprefix index (docs/format.md §4)', () => {
  it('round-trips in versions 2 and 3, smaller than the relative index, and numpy reads it', async () => {
    const m = mixedModel(300, 16, '16:0.1,8:0.3,2', 7);
    for (const formatVersion of [2, 3] as const) {
      const classic = serializeCompressed(m, { formatVersion });
      const bytes = serializeCompressed(m, { formatVersion, prefixIndex: true });
      expect(bytes.length).toBeLessThan(classic.length - 400);
      // without the option nothing changes: the relative index
      expect(parseSafetensors(classic).metadata!.params).not.toMatch(/ [RC]\d|prefix/);
      const dec = decodeCompressed(bytes);
      for (const [k, v] of m.values) expect(Array.from(dec.values.get(k)!)).toEqual(Array.from(v));
      const meta = parseSafetensors(bytes).metadata!;
      if (formatVersion === 3) expect(meta.params).toMatch(/history\.weight 300x16 \d+ R\d+[ph]300/);
      if (formatVersion === 3) expect(meta.params).toMatch(/item\.weight 16x300 \d+ C\d+[ph]300/);
      if (formatVersion === 2) expect(meta.params).toMatch(/"index":"rowprefix"/);
      const file = join(dir, `m${formatVersion}.slim.safetensors`);
      await writeFile(file, bytes);
      const t = await py(file);
      for (const k of ['history.weight', 'item.weight', 'item.bias'])
        expect(Buffer.from((t[k]!.data as Float32Array).buffer).equals(Buffer.from(dec.values.get(k)!.buffer))).toBe(true);
    }
  });

  it('with k-means codebooks, and refuses lengths that disagree with kept', () => {
    const m = mixedModel(120, 8, '8:0.25,4:0.25,1', 3);
    const U = m.values.get('history.weight')!;
    const codebook = Float32Array.from([-0.3, -0.1, 0.1, 0.3]);
    const mk = m.masks.get('history.weight')!;
    const assignments: number[] = [];
    U.forEach((x, i) => {
      if (mk[i] === 0) return;
      const a = x < -0.2 ? 0 : x < 0 ? 1 : x < 0.2 ? 2 : 3;
      U[i] = codebook[a]!;
      assignments.push(a);
    });
    const sharing = {
      init: 'linear' as const,
      iterations: 0,
      layers: {
        history: { layer: 'history', param: 'history.weight', shape: [120, 8], bits: 2, codebook, assignments: Uint8Array.from(assignments) },
      },
    };
    const bytes = serializeCompressed({ ...m, sharing }, { prefixIndex: true });
    expect(Array.from(decodeCompressed(bytes).values.get('history.weight')!)).toEqual(Array.from(U));
    // kept is one more than the lengths add up to: a named error, not a wrong table
    const meta = parseSafetensors(bytes).metadata!;
    const kept = assignments.length;
    const bad = Buffer.from(bytes);
    const at = bad.indexOf(`history.weight 120x8 ${kept} R`);
    expect(at).toBeGreaterThan(0);
    const other = String(kept % 10 === 0 ? kept + 1 : kept - 1); // same digit count: the header keeps its length
    bad.write(other, at + 'history.weight 120x8 '.length);
    expect(meta.params).toContain(`${kept} R`);
    expect(() => decodeCompressed(bad)).toThrow(CompressedModelError);
  });
});

describe('plans and the gradual schedule', () => {
  it('ramps the sparsity polynomially and reaches the target at rampEpochs', () => {
    const plan = { ...REC_COMPRESS_DEFAULTS, userSparsity: 0.8, itemSparsity: 0.4, fineTuneEpochs: 5, gradual: true, rampEpochs: 4 };
    const s = [1, 2, 3, 4, 5].map((e) => sparsityAtEpoch(plan, e));
    expect(s[0]!.U).toBeCloseTo(0.8 * (1 - 0.75 ** 3), 6);
    expect(s[3]).toEqual({ U: 0.8, V: 0.4 });
    expect(s[4]).toEqual({ U: 0.8, V: 0.4 });
    for (let e = 1; e < 4; e++) expect(s[e]!.U).toBeGreaterThan(s[e - 1]!.U);
    expect(sparsityAtEpoch({ ...plan, gradual: false }, 1)).toEqual({ U: 0.8, V: 0.4 });
  });

  it('refuses bad plans with RecPlanError', () => {
    const base = REC_COMPRESS_DEFAULTS;
    expect(parsePlansJson('[{"mixedDims":"8:0.5,2","userSparsity":0}]', base, 8)[0]!.mixedDims).toEqual({ dims: [8, 2], shares: [0.5] });
    expect(parsePlansList('0.5:0.5:2:2', base)[0]!.userBits).toBe(2);
    for (const bad of [
      '{}',
      '[]',
      'x',
      '[{"nope":1}]',
      '[{"userSparsity":1}]',
      '[{"userBits":9}]',
      '[{"mixedDims":"9:0.5,2"}]',
      '[{"gradual":true,"fineTuneEpochs":0}]',
    ])
      expect(() => parsePlansJson(bad, base, 8), bad).toThrow(RecPlanError);
    for (const bad of ['0.5:0.5:4', '0.5:0.5:4:x', '1.5:0.5:4:4']) expect(() => parsePlansList(bad, base), bad).toThrow(RecPlanError);
  });
});

describe('npm run results: the recommendation group', () => {
  it('its plans parse, and its section replaces only itself in RESULTS.md', () => {
    const i = REC_RESULTS_ARGS.indexOf('--plans-json');
    expect(parsePlansJson(REC_RESULTS_ARGS[i + 1]!, REC_COMPRESS_DEFAULTS, 64).length).toBeGreaterThan(0);
    const sec = '\n## Recommendation: compressed embedding tables (x)\n\n| plan |\n';
    const md = '# slimgpu results\n\n| mnist |\n';
    expect(replaceRecSection(md, sec)).toBe(md + sec);
    expect(replaceRecSection(md + sec, sec.replace('(x)', '(y)'))).toBe(md + sec.replace('(x)', '(y)'));
  });
});

/** u.data lines: 600 users in 12 clusters of 15 items (recommend.test.ts's generator). */
function clustered(seed: number): string {
  const r = rng(seed);
  const lines: string[] = [];
  for (let u = 1; u <= 600; u++) {
    const c = u % 12;
    const seen = new Set<number>();
    for (let j = 0; j < 9; j++) {
      let it: number;
      do {
        it = j === 0 ? 1 + Math.floor(r() * 180) : 1 + c * 15 + Math.floor(r() * 15);
      } while (seen.has(it));
      seen.add(it);
      lines.push(`${u}\t${it}\t${1 + Math.floor(r() * 5)}\t${880000000 + u * 100 + j}`);
    }
  }
  return lines.join('\n') + '\n';
}

describe('mixed dimensions + gradual pruning on the GPU', () => {
  it('rec:dae-16: the file decodes to the evaluated tables with the prefix index', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(5));
    const cfg = { data: `movielens:${dir}`, model: 'rec:dae-16', epochs: 4, batch: 64, lr: 0.02, weightDecay: 0, seed: 2, evalUsers: 200 };
    const t = await trainRecommender(gpu, cfg);
    const lines: string[] = [];
    const plan = {
      ...REC_COMPRESS_DEFAULTS,
      mixedDims: parseMixedDims('16:0.2,8:0.3,2', 16),
      userSparsity: 0.3,
      itemSparsity: 0,
      gradual: true,
      fineTuneEpochs: 3,
      fineTuneLr: 0.005,
      userBits: 3,
      itemBits: 3,
      shareEpochs: 1,
    };
    const c = await compressRecommender(gpu, t, plan, (l) => lines.push(l));
    expect(lines.some((l) => /gradually over 2 epochs/.test(l))).toBe(true);
    expect(lines.some((l) => /^shared retraining: 1 rounds \(epoch \+ k-means\), kept round [01] /.test(l))).toBe(true);
    expect(c.rows[1]!.stage).toBe('mixed 16:0.2,8:0.3,2 + pruned 30/0% gradually + fine-tune');
    const dec = decodeCompressed(c.bytes);
    const meta = parseSafetensors(c.bytes).metadata!;
    expect(meta.params).toMatch(/item\.weight 16x180 \d+ C\d/); // V: mixed dims alone → colprefix
    expect(meta.params).toMatch(/history\.weight 180x16 \d+ r\d/); // U: pruned within → relative
    const { U, V } = await t.model.readTables();
    expect(Array.from(dec.values.get('history.weight')!)).toEqual(Array.from(U));
    expect(Array.from(dec.values.get('item.weight')!)).toEqual(Array.from(transpose(V, 180, 16)));
    const kept = dec.values.get('item.weight')!.reduce((a, x) => a + (x !== 0 ? 1 : 0), 0);
    expect(kept).toBeLessThanOrEqual(180 * (16 * 0.2 + 8 * 0.3 + 2 * 0.5) + 1);
    expect(c.rows[2]!.test.ndcg).toBeGreaterThan(1.5 * t.popularity.test.ndcg);
    expect(formatPlanTable([{ plan, rows: c.rows }], t.popularity.test.ndcg)).toMatch(
      /\| mixed 16:0.2,8:0.3,2 · prune 30\/0% gradual · 3 ep @ 0.005 · 3\/3 bits \+ 1 retrain rounds \|/,
    );
    t.model.dispose();
  }, 120_000);

  it('rec:mf-16: users bucketed by their training items, items by popularity, prefix indices', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(6));
    const cfg = { data: `movielens:${dir}`, model: 'rec:mf-16', epochs: 3, batch: 64, lr: 0.05, weightDecay: 0, seed: 1, evalUsers: 200 };
    const t = await trainRecommender(gpu, cfg);
    const mixedDims = parseMixedDims('16:0.25,8:0.25,4', 16);
    const plan = { ...REC_COMPRESS_DEFAULTS, mixedDims, userSparsity: 0, itemSparsity: 0, fineTuneEpochs: 1, fineTuneLr: 0.01 };
    const c = await compressRecommender(gpu, t, plan);
    const meta = parseSafetensors(c.bytes).metadata!;
    // every user has 7 training items: ties fill the buckets in row order, so the mask is a column prefix too (16 lengths: smaller)
    expect(meta.params).toMatch(/user\.weight 600x16 4800 C\d/);
    expect(meta.params).toMatch(/item\.weight 16x180 \d+ C\d/);
    const dec = decodeCompressed(c.bytes);
    const users = rowCounts(t.split, 'mf').U;
    const dims = rowDims(users, mixedDims);
    const { U } = await t.model.readTables();
    expect(Array.from(dec.values.get('user.weight')!)).toEqual(Array.from(U));
    for (let u = 0; u < 600; u++) for (let d = dims[u]!; d < 16; d++) expect(U[u * 16 + d]).toBe(0);
    t.model.dispose();
  }, 120_000);
});
