// RMSE when ratings are explicit (src/rec/ratings.ts): a generated u.data file whose ratings have a
// real structure (user bias + item bias + a taste match between the user's and the item's cluster +
// noise), so the rating head must beat μ + b_u + b_i, which must beat the global mean; the rating sets
// are the ranking split's; implicit data reports n/a, in the library and through trainRecommender.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecData } from '../src/data/interactions-load.js';
import { fitRatings, ratingLines, ratingSplit } from '../src/rec/ratings.js';
import { trainRecommender } from '../src/rec/run.js';
import { rng, testGpu } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-rec-ratings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** u.data lines: 500 users in 6 taste clusters, 120 items in 6 genres; each user rates 24 items (half from its genre); `noise`: uniform 1..5 ratings instead. */
function structured(seed: number, noise = false): string {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const itemBias = Array.from({ length: 120 }, () => 0.5 * gauss());
  const lines: string[] = [];
  for (let u = 1; u <= 500; u++) {
    const c = u % 6,
      userBias = 0.4 * gauss();
    const seen = new Set<number>();
    for (let j = 0; j < 24; j++) {
      let it: number;
      do it = j % 2 ? 1 + Math.floor(r() * 120) : 1 + c * 20 + Math.floor(r() * 20);
      while (seen.has(it));
      seen.add(it);
      const match = Math.floor((it - 1) / 20) === c ? 1 : -0.6;
      const x = 3.2 + userBias + itemBias[it - 1]! + match + 0.5 * gauss();
      const rating = noise ? 1 + Math.floor(r() * 5) : Math.min(5, Math.max(1, Math.round(x)));
      lines.push(`${u}\t${it}\t${rating}\t${880000000 + u * 100 + j}`);
    }
  }
  return lines.join('\n') + '\n';
}

describe('rating head (RMSE)', () => {
  it('fits ratings on the ranking split, beats mean + biases, which beats the global mean', async () => {
    await writeFile(join(dir, 'u.data'), structured(5));
    const { log, split } = await loadRecData(`movielens:${dir}`, { seed: 0 });
    const rs = ratingSplit(log, 0)!;
    expect(rs.train.rating.length).toBe(split.trainItems.length);
    expect(rs.test.rating.length).toBe(split.evalUsers);
    // the test ratings are the ranking's test items, user by user
    for (let k = 0; k < rs.test.user.length; k++) expect(rs.test.item[k]).toBe(split.test[rs.test.user[k]!]);
    const { result } = fitRatings(rs, { dim: 8, epochs: 30, seed: 1 });
    const t = result.test;
    for (const x of [t.model, t.biases, t.mean]) expect(Number.isFinite(x)).toBe(true);
    expect(t.ratings).toBe(500);
    expect(t.biases).toBeLessThan(t.mean * 0.95);
    expect(t.model).toBeLessThan(t.biases * 0.9);
    expect(result.bestEpoch).toBeGreaterThan(0);
    expect(ratingLines(result)[0]).toMatch(/^RMSE \(test, 500 ratings\): model \d\.\d{4} \| mean \+ biases \d\.\d{4} \| global mean \d\.\d{4}/);
  });

  it('finds nothing in structure-free ratings (no leak of the held-out ratings into training)', async () => {
    const sub = join(dir, 'noise');
    await mkdir(sub);
    await writeFile(join(sub, 'u.data'), structured(6, true));
    const { log } = await loadRecData(`movielens:${sub}`, { seed: 0 });
    const { result } = fitRatings(ratingSplit(log, 0)!, { dim: 8, epochs: 30, seed: 1 });
    expect(result.test.mean).toBeGreaterThan(1.25); // uniform 1..5: √2
    expect(result.test.model).toBeGreaterThan(0.97 * result.test.mean);
  });

  it('reports n/a for implicit data, and the trainer prints the RMSE line for explicit data', async () => {
    const csv = join(dir, 'implicit.csv');
    const ratingsCsv = join(dir, 'explicit.csv');
    const rows = (rated: boolean) => {
      const out = [rated ? 'user,item,rating' : 'user,item'];
      for (let u = 0; u < 64; u++) for (let j = 0; j < 5; j++) out.push(`u${u},i${(u * 7 + j * 3) % 40}${rated ? `,${1 + ((u + j) % 5)}` : ''}`);
      return out.join('\n') + '\n';
    };
    await writeFile(csv, rows(false));
    await writeFile(ratingsCsv, rows(true));
    const { log } = await loadRecData(`interactions:${csv}`, { seed: 0 });
    expect(ratingSplit(log, 0)).toBeUndefined();
    expect(ratingLines(undefined)).toEqual(['RMSE: n/a (implicit data)']);
    const gpu = await testGpu();
    const cfg = { model: 'rec:mf-8', epochs: 1, batch: 64, lr: 0.05, weightDecay: 0, seed: 0, evalUsers: 64, ratingEpochs: 3 };
    for (const [data, re] of [
      [`interactions:${csv}`, /^RMSE: n\/a \(implicit data\)$/],
      [`interactions:${ratingsCsv}`, /^RMSE \(test, 64 ratings\): model \d\.\d{4}/],
    ] as const) {
      const lines: string[] = [];
      const t = await trainRecommender(gpu, { ...cfg, data }, (l) => lines.push(l));
      t.model.dispose();
      expect(lines.filter((l) => l.startsWith('RMSE')).length).toBe(1);
      expect(lines.some((l) => re.test(l))).toBe(true);
      expect(t.ratings === undefined).toBe(data.includes('implicit'));
    }
  });
});
