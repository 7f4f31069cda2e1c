// node dist/scripts/rec-ml-gen.js DIR [--users 943] [--items 1680] [--mean 106] [--clusters 20] [--own 60] [--seed 1]
// Writes DIR/ratings.dat in MovieLens-1M's format (`UserID::MovieID::Rating::Timestamp`) with the
// size of ml-100k by default and the two structures a recommender has to find: item popularity
// (Zipf, exponent 0.9) and taste (each user belongs to one of `clusters` clusters, each item to one
// genre; an interaction is from the user's genre with probability own/100 (default 0.6), else from the whole catalogue,
// by popularity either way). Users have 20 + a geometric number of interactions (mean `mean`),
// time-ordered; ratings 4–5 in the user's genre, 1–5 elsewhere. MovieLens itself can't be
// downloaded here; this is the stand-in that `slimgpu train --task recommend --data movielens:DIR` reads.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32 } from '../src/data/random.js';

function arg(name: string, def: string): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = Number(i >= 0 ? process.argv[i + 1] : def);
  if (!Number.isInteger(v) || v < 1) throw new Error(`rec-ml-gen: --${name} must be a positive integer, got '${process.argv[i + 1]}'`);
  return v;
}

/** A sampler of indices 0..w.length−1 with probability ∝ w (binary search in the cumulative sums). */
function sampler(w: number[], r: () => number): () => number {
  const c: number[] = [];
  let s = 0;
  for (const x of w) c.push((s += x));
  return () => {
    const x = r() * s;
    let lo = 0,
      hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

export function generateRatings(nU: number, nI: number, mean: number, G: number, seed: number, own = 0.6): string {
  const r = mulberry32(seed);
  const rank = Array.from({ length: nI }, (_, i) => i).sort(() => r() - 0.5);
  const pop = rank.map((k) => 1 / (k + 1) ** 0.9);
  const genre = Array.from({ length: nI }, () => Math.floor(r() * G));
  const all = sampler(pop, r);
  const byGenre = Array.from({ length: G }, (_, g) => {
    const ids = genre.flatMap((x, i) => (x === g ? [i] : []));
    const s = sampler(
      ids.map((i) => pop[i]!),
      r,
    );
    return () => ids[s()]!;
  });
  const lines: string[] = [];
  for (let u = 1; u <= nU; u++) {
    const c = Math.floor(r() * G);
    let n = 20;
    while (r() > 1 / (mean - 19) && n < nI / 2) n++;
    const seen = new Set<number>();
    let t = 956703932 + Math.floor(r() * 1e7);
    while (seen.size < n) {
      const mine = r() < own;
      const i = mine ? byGenre[c]!() : all();
      if (seen.has(i)) continue;
      seen.add(i);
      t += 1 + Math.floor(r() * 3600);
      const rating = genre[i] === c ? 4 + Math.floor(r() * 2) : 1 + Math.floor(r() * 5);
      lines.push(`${u}::${i + 1}::${rating}::${t}`);
    }
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || dir.startsWith('--'))
    throw new Error('usage: node dist/scripts/rec-ml-gen.js DIR [--users N --items M --mean K --clusters G --seed S]');
  const text = generateRatings(
    arg('users', '943'),
    arg('items', '1680'),
    arg('mean', '106'),
    arg('clusters', '20'),
    arg('seed', '1'),
    Math.min(100, arg('own', '60')) / 100,
  );
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ratings.dat'), text);
  console.log(`wrote ${join(dir, 'ratings.dat')}: ${text.split('\n').length - 1} ratings`);
}

if (process.argv[1] && /rec-ml-gen\.[jt]s$/.test(process.argv[1])) await main();
