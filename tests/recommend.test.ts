// End to end on a small generated MovieLens file (u.data format): users in taste clusters, so a
// model that learns them must beat popularity; training, the GPU ranking against the CPU reference,
// the compression stages and the exported file's decode; the CLI's `train --task recommend` route.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeRecommend } from '../src/cli/recommend.js';
import { decodeCompressed } from '../src/io/format/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { compressRecommender, formatStages } from '../src/rec/stages.js';
import { GpuRanker, popularityLists, scoreLists } from '../src/rec/eval.js';
import { parseRecModel, trainRecommender } from '../src/rec/run.js';
import { REC_COMPRESS_DEFAULTS } from '../src/rec/compress.js';
import { rankTopkCpu } from '../src/reference/rank-topk.js';
import { exclusionCsr } from '../src/rec/eval.js';
import { rng, testGpu } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-recommend-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** u.data lines: 600 users in 12 clusters of 15 items; each user rates 9 items, 8 from its cluster. */
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

describe('recommend', () => {
  it('trains rec:mf past popularity, ranks like the CPU reference, compresses and exports', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(3));
    const lines: string[] = [];
    const t = await trainRecommender(
      gpu,
      { data: `movielens:${dir}`, model: 'rec:mf-16', epochs: 12, batch: 64, lr: 0.05, weightDecay: 0, seed: 1, evalUsers: 200 },
      (l) => lines.push(l),
    );
    expect(lines[0]).toMatch(/600 users, 180 items, 5400 interactions/);
    expect(lines.some((l) => /^epoch +12 +loss/.test(l))).toBe(true);
    expect(t.test.users).toBe(600);
    expect(t.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);

    // the GPU top lists equal the CPU reference's on the same tables
    const { U, V, b } = await t.model.readTables();
    const users = t.testUsers.subarray(0, 37);
    const r = await GpuRanker.create(gpu, t.split, { U: t.model.U, V: t.model.V, b: t.model.b }, users, 'test', 16);
    const top = await r.run();
    r.dispose();
    const D = 16,
      N = t.split.nItems;
    const S = new Float32Array(users.length * N);
    for (let i = 0; i < users.length; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += U[users[i]! * D + d]! * V[j * D + d]!;
        S[i * N + j] = s + b[j]!;
      }
    const ex = exclusionCsr(t.split, 'test');
    const ref = rankTopkCpu(S, users.length, N, 10, Array.from(users), ex.rowptr, ex.cols);
    let same = 0;
    for (let i = 0; i < top.length; i++) same += top[i] === ref.idx[i] ? 1 : 0;
    expect(same / top.length).toBeGreaterThan(0.97); // float sums in another order may swap near-ties
    expect(scoreLists(t.split, users, popularityLists(t.split, users, 'test'), 'test').users).toBe(37);

    const c = await compressRecommender(gpu, t, { ...REC_COMPRESS_DEFAULTS, fineTuneEpochs: 2, fineTuneLr: 0.01 }, (l) => lines.push(l));
    expect(c.rows.map((x) => x.stage)).toEqual(['dense fp32', 'pruned 50/50% + fine-tune', '+ k-means 4/4 bits, huffman']);
    expect(c.rows[2]!.ratio).toBeGreaterThan(6); // a tiny model: the header and the item biases weigh in
    expect(c.rows[2]!.bytes).toBe(c.bytes.length);
    expect(formatStages(c.rows, t.popularity.test.ndcg)).toMatch(/^stage +U bytes +V bytes .*\ndense fp32 +38400 +11520 /m);
    expect(c.rows[2]!.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    const dec = decodeCompressed(c.bytes);
    expect(dec.spec.layers.map((l) => l.name)).toEqual(['user', 'item']);
    expect(dec.values.get('item.weight')!.length).toBe(16 * 180);
    // python/slim_reader.py (numpy, written from docs/format.md) reads the same tables unchanged
    const file = join(dir, 'mf.slim.safetensors'),
      dense = join(dir, 'dense.safetensors');
    await writeFile(file, c.bytes);
    await promisify(execFile)('/usr/bin/python3', [join(import.meta.dirname, '../python/slim_reader.py'), file, '--out', dense]);
    const py = parseSafetensors(new Uint8Array(await readFile(dense)));
    for (const k of ['user.weight', 'item.weight', 'item.bias']) {
      expect(Buffer.from((py.tensors[k]!.data as Float32Array).buffer).equals(Buffer.from(dec.values.get(k)!.buffer))).toBe(true);
    }
    t.model.dispose();
  }, 120_000);

  it('rec:dae (users as the mean of an item table over their items) trains, compresses and exports', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(5));
    const t = await trainRecommender(gpu, {
      data: `movielens:${dir}`,
      model: 'rec:dae-16',
      epochs: 5,
      batch: 64,
      lr: 0.02,
      weightDecay: 0,
      seed: 2,
      evalUsers: 200,
    });
    expect(t.model.nU).toBe(180);
    expect(t.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    const c = await compressRecommender(gpu, t, { ...REC_COMPRESS_DEFAULTS, fineTuneEpochs: 1, fineTuneLr: 0.005 });
    expect(c.rows[2]!.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    const dec = decodeCompressed(c.bytes);
    expect(dec.spec.layers.map((l) => l.name)).toEqual(['history', 'item']);
    expect(dec.values.get('history.weight')!.length).toBe(180 * 16);
    t.model.dispose();
  }, 120_000);

  it('routes train --task recommend and names bad models', () => {
    expect(routeRecommend(['node', 'slimgpu', 'train', '--task', 'recommend', '--data', 'x'])).toEqual([
      'node',
      'slimgpu',
      'recommend',
      '--data',
      'x',
    ]);
    expect(routeRecommend(['node', 'slimgpu', 'train', '--task=recommend'])).toEqual(['node', 'slimgpu', 'recommend']);
    expect(routeRecommend(['node', 'slimgpu', 'train', '--model', 'mlp'])).toEqual(['node', 'slimgpu', 'train', '--model', 'mlp']);
    expect(() => parseRecModel('rec:mf-0')).toThrow(/unknown recommendation model 'rec:mf-0'/);
    expect(parseRecModel('rec:mf-64').dim).toBe(64);
    expect(parseRecModel('rec:dae-32')).toEqual({ kind: 'dae', dim: 32 });
  });
});
