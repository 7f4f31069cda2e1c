// node dist/scripts/rec-ratings-bench.js [--users 500] [--items 120] [--per-user 24] [--seed 5] [--noise] [--dim 16] [--epochs 50]
// The RMSE rows of docs/recommend.md: writes a u.data file with a real rating structure (the formula
// of structured() in tests/rec-ratings.test.ts: user bias + item bias + a taste match between the
// user's cluster and the item's genre, 6 of each, + N(0, 0.5²) noise, rounded to 1..5; --noise:
// uniform 1..5 instead) to a temporary directory, loads it as `movielens:DIR`, fits the rating head
// and prints the test RMSE of the global mean, mean + biases and the model, with the fit time.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRecData } from '../src/data/interactions-load.js';
import { mulberry32 } from '../src/data/random.js';
import { fitRatings, ratingSplit } from '../src/rec/ratings.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

function generate(nU: number, nI: number, per: number, seed: number, noise: boolean): string {
  const G = 6,
    gi = nI / G;
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const itemBias = Array.from({ length: nI }, () => 0.5 * gauss());
  const lines: string[] = [];
  for (let u = 1; u <= nU; u++) {
    const c = u % G,
      userBias = 0.4 * gauss();
    const seen = new Set<number>();
    for (let j = 0; j < per; j++) {
      let it: number;
      do it = j % 2 ? 1 + Math.floor(r() * nI) : 1 + c * gi + Math.floor(r() * gi);
      while (seen.has(it));
      seen.add(it);
      const x = 3.2 + userBias + itemBias[it - 1]! + (Math.floor((it - 1) / gi) === c ? 1 : -0.6) + 0.5 * gauss();
      const rating = noise ? 1 + Math.floor(r() * 5) : Math.min(5, Math.max(1, Math.round(x)));
      lines.push(`${u}\t${it}\t${rating}\t${880000000 + u * 100 + j}`);
    }
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const nU = Number(arg('users', '500')),
    nI = Number(arg('items', '120')),
    per = Number(arg('per-user', '24'));
  if (nI % 6 !== 0 || per > nI / 3) throw new Error('rec-ratings-bench: --items must be a multiple of 6 and ≥ 3 × --per-user');
  const dir = await mkdtemp(join(tmpdir(), 'slimgpu-rec-ratings-bench-'));
  try {
    await writeFile(join(dir, 'u.data'), generate(nU, nI, per, Number(arg('seed', '5')), process.argv.includes('--noise')));
    const { log } = await loadRecData(`movielens:${dir}`, { seed: 0 });
    const { result: r } = fitRatings(ratingSplit(log, 0)!, { dim: Number(arg('dim', '16')), epochs: Number(arg('epochs', '50')), seed: 0 });
    const t = r.test;
    console.log(
      `${nU} users × ${nI} items, ${log.user.length} ratings: test (${t.ratings}) global mean ${t.mean.toFixed(4)} | mean + biases ${t.biases.toFixed(4)} | model ${t.model.toFixed(4)} (D ${r.dim}, epoch ${r.bestEpoch} of ${r.epochs} run) | ${r.seconds.toFixed(1)} s`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
