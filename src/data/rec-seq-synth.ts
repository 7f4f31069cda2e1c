// A generated interaction log with real sequential structure, in MovieLens ml-100k's exact format
// (u.data: user \t item \t rating \t timestamp): the items form G clusters, each an ordered chain
// (item k of a cluster is usually followed by item k + 1); a user starts at a random point of a
// cluster drawn with Zipf weights and at each step
//   - with probability `chain` takes the next item of the current chain it has not had yet,
//   - with probability `jump` drifts to another cluster (Zipf) at a random point and takes that item,
//   - otherwise takes a uniformly random item it has not had (noise).
// Timestamps increase by one per step (users interleave), so the last item follows the one before
// it: recency matters, and the user's cluster alone (what MF or a bag of items learns) predicts only
// which chain, not where on it. Ratings 1..5 are drawn at random (the ranking models ignore them).
import { mulberry32 } from './random.js';

export interface SeqSynthOptions {
  users?: number;
  items?: number;
  clusters?: number;
  /** Interactions per user: uniform in [minLength, maxLength]. */
  minLength?: number;
  maxLength?: number;
  chain?: number;
  jump?: number;
  seed?: number;
}

export const SEQ_SYNTH_DEFAULTS: Required<SeqSynthOptions> = {
  users: 2000,
  items: 600,
  clusters: 20,
  minLength: 8,
  maxLength: 40,
  chain: 0.75,
  jump: 0.1,
  seed: 1,
};

/** The u.data text (see the file comment). */
export function sequentialUData(opts: SeqSynthOptions = {}): string {
  const o = { ...SEQ_SYNTH_DEFAULTS, ...opts };
  if (!Number.isInteger(o.items) || o.items % o.clusters !== 0)
    throw new RangeError(`rec-seq-synth: items must be a multiple of clusters, got ${o.items}`);
  if (o.maxLength > o.items / 2 || o.minLength < 1 || o.minLength > o.maxLength)
    throw new RangeError(`rec-seq-synth: need 1 ≤ minLength ≤ maxLength ≤ items / 2, got ${o.minLength}..${o.maxLength}`);
  const r = mulberry32(o.seed);
  const size = o.items / o.clusters;
  const zipf = Array.from({ length: o.clusters }, (_, c) => 1 / (c + 1));
  const zsum = zipf.reduce((a, b) => a + b, 0);
  const pickCluster = () => {
    let x = r() * zsum;
    for (let c = 0; c < o.clusters; c++) if ((x -= zipf[c]!) <= 0) return c;
    return o.clusters - 1;
  };
  const rows: { u: number; i: number; t: number }[] = [];
  for (let u = 0; u < o.users; u++) {
    const len = o.minLength + Math.floor(r() * (o.maxLength - o.minLength + 1));
    const seen = new Set<number>();
    let c = pickCluster(),
      p = Math.floor(r() * size);
    const take = (i: number) => {
      seen.add(i);
      rows.push({ u, i, t: 0 });
    };
    take(c * size + p);
    while (seen.size < len) {
      const x = r();
      if (x < o.chain) {
        // the next item of the chain the user has not had (the chain wraps around)
        let k = 1;
        while (k < size && seen.has(c * size + ((p + k) % size))) k++;
        if (k === size) c = (c + 1) % o.clusters;
        p = (p + k) % size;
      } else if (x < o.chain + o.jump) {
        c = pickCluster();
        p = Math.floor(r() * size);
      } else {
        const i = Math.floor(r() * o.items);
        if (!seen.has(i)) take(i);
        continue;
      }
      if (!seen.has(c * size + p)) take(c * size + p);
    }
  }
  // interleave users in time: a seeded global order of (user, step) keeps each user's steps in order
  const perUser: number[] = new Array(o.users).fill(0);
  const start = Array.from({ length: o.users }, () => Math.floor(r() * 1_000_000));
  const lines: string[] = [];
  for (const row of rows) {
    const step = perUser[row.u]!++;
    lines.push(`${row.u + 1}\t${row.i + 1}\t${1 + Math.floor(r() * 5)}\t${880_000_000 + start[row.u]! + step * 1000}`);
  }
  return lines.join('\n') + '\n';
}
