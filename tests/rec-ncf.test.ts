// rec:ncf (NeuMF + BPR): the GPU step's gradient of every parameter segment against finite
// differences of a float64 CPU forward; training past popularity on a small generated MovieLens
// file; compression whose file decodes back to exactly the evaluated model (also through
// python/slim_reader.py); rec:mf with --loss bpr; bad preset names and losses.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecData } from '../src/data/interactions-load.js';
import type { RecSplit } from '../src/data/rec-split.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { REC_COMPRESS_DEFAULTS } from '../src/rec/compress.js';
import { NcfModel, ncfSegments, pairSeedOf } from '../src/rec/ncf.js';
import { compressNcf, ncfFromFile } from '../src/rec/ncf-compress.js';
import { parseNcfModel, trainNcf } from '../src/rec/ncf-run.js';
import { trainRecommender } from '../src/rec/run.js';
import { recPairSampleCpu } from '../src/reference/rec-pairs.js';
import { rankTopkCpu } from '../src/reference/rank-topk.js';
import { evalUsers, exclusionCsr } from '../src/rec/eval.js';
import { NcfRanker } from '../src/rec/ncf-rank.js';
import { rng, testGpu } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-rec-ncf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** u.data: `users` users in 12 taste clusters of 15 items; each rates 9 items, 8 from its cluster. */
function clustered(seed: number, users = 600): string {
  const r = rng(seed);
  const lines: string[] = [];
  for (let u = 1; u <= users; u++) {
    const c = u % 12;
    const seen = new Set<number>();
    for (let j = 0; j < 9; j++) {
      let it: number;
      do it = j === 0 ? 1 + Math.floor(r() * 180) : 1 + c * 15 + Math.floor(r() * 15);
      while (seen.has(it));
      seen.add(it);
      lines.push(`${u}\t${it}\t${1 + Math.floor(r() * 5)}\t${880000000 + u * 100 + j}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The float64 NCF score of item i for a user whose known items are `known` (the arena `w`). */
function scoreCpu(w: Float64Array, m: NcfModel, known: ArrayLike<number>, i: number): number {
  const { D, hidden } = m;
  const at = (name: string, j: number) => w[m.offsets[name]! + j]!;
  const ue = new Float64Array(D);
  for (let j = 0; j < known.length; j++) for (let d = 0; d < D; d++) ue[d] += at('U', known[j]! * D + d) / known.length;
  let a = Array.from({ length: hidden[0]! }, (_, h) => {
    let z = at('c1', h);
    for (let d = 0; d < D; d++) z += ue[d]! * at('W1u', d * hidden[0]! + h) + at('V', i * D + d) * at('W1v', d * hidden[0]! + h);
    return Math.max(z, 0);
  });
  for (let l = 1; l < hidden.length; l++)
    a = Array.from({ length: hidden[l]! }, (_, h) =>
      Math.max(
        a.reduce((s, x, j) => s + x * at(`W${l + 1}`, j * hidden[l]! + h), at(`c${l + 1}`, h)),
        0,
      ),
    );
  let s = at('b', i) + a.reduce((t, x, j) => t + x * at('hm', j), 0);
  for (let d = 0; d < D; d++) s += at('hg', d) * ue[d]! * at('V', i * D + d);
  return s;
}

/** The float64 BPR objective of one step (all users in one batch of B rows, no dropout) of the arena `w`. */
function lossCpu(w: Float64Array, m: NcfModel, sp: RecSplit, seed: number): number {
  const { nI: N, K, B } = m;
  let total = 0;
  for (let u = 0; u < sp.nUsers; u++) {
    const known = sp.trainItems.subarray(sp.trainPtr[u]!, sp.trainPtr[u + 1]!);
    if (known.length === 0) continue;
    const pit = recPairSampleCpu({ perm: [u], rowptr: sp.trainPtr, items: sp.trainItems }, pairSeedOf(seed, 0), 1, K, N);
    for (let k = 0; k < K; k++) {
      const d = scoreCpu(w, m, known, pit[2 * k]!) - scoreCpu(w, m, known, pit[2 * k + 1]!);
      total += (Math.max(-d, 0) + Math.log1p(Math.exp(-Math.abs(d)))) / K / B;
    }
  }
  return total;
}

describe('rec:ncf', () => {
  it('the GPU gradient of every segment matches finite differences of the CPU objective', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(7, 11));
    const { split } = await loadRecData(`movielens:${dir}`, { seed: 0 });
    const m = new NcfModel(gpu, split, { dim: 3, hidden: [5, 4], batch: 64, pairs: 3, lr: 0, drop: 0, seed: 2 });
    const r = rng(9);
    const t0 = await m.readTables();
    const rnd = (a: Float32Array, s: number) => a.map(() => s * (2 * r() - 1));
    m.writeTables({ U: rnd(t0.U, 0.8), V: rnd(t0.V, 0.8), b: rnd(t0.b, 0.5), rest: rnd(t0.rest, 0.8) });
    const w = Float64Array.from((await m.w.read()) as Float32Array);
    await m.trainEpoch();
    const g = await m.readGradient();
    const scale = Math.max(...Array.from(g, Math.abs));
    let checked = 0;
    for (const s of ncfSegments(m.nI, m.D, m.hidden)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      for (let j = 0; j < Math.min(n, 6); j++) {
        const i = m.offsets[s.name]! + ((j * 7919) % n);
        const p = Float64Array.from(w),
          q = Float64Array.from(w);
        p[i] += 1e-4;
        q[i] -= 1e-4;
        const fd = (lossCpu(p, m, split, 2) - lossCpu(q, m, split, 2)) / 2e-4;
        expect(Math.abs(fd - g[i]!), `${s.name}[${i - m.offsets[s.name]!}] fd ${fd} gpu ${g[i]}`).toBeLessThan(2e-3 * scale + 1e-3 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(scale).toBeGreaterThan(1e-4);
    m.dispose();
  }, 60_000);

  it('trains past 2× popularity, compresses, and its file decodes to exactly the evaluated model', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(3));
    const cfg = { data: `movielens:${dir}`, model: 'rec:ncf-16-32', epochs: 8, batch: 64, lr: 0.01, weightDecay: 0, seed: 1, evalUsers: 200 };
    const t = await trainNcf(gpu, cfg);
    expect(t.test.users).toBe(600);
    expect(t.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    const c = await compressNcf(gpu, t, { ...REC_COMPRESS_DEFAULTS, fineTuneEpochs: 1, fineTuneLr: 0.005 });
    expect(c.rows.map((x) => x.stage)).toEqual(['dense fp32', 'pruned 50/50% + fine-tune', '+ k-means 4/4 bits, huffman']);
    expect(c.rows[2]!.bytes).toBe(c.bytes.length);
    expect(c.rows[2]!.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    const f = ncfFromFile(c.bytes);
    const now = await t.model.readTables();
    expect(f.spec.name).toBe('rec:ncf-16-32');
    expect(Buffer.from(f.U.buffer).equals(Buffer.from(now.U.buffer))).toBe(true);
    expect(Buffer.from(f.V.buffer).equals(Buffer.from(now.V.buffer))).toBe(true);
    expect(Buffer.from(f.b.buffer).equals(Buffer.from(now.b.buffer))).toBe(true);
    expect(new Set(f.U).size).toBeLessThanOrEqual(17); // 16 shared values and the pruned 0
    const file = join(dir, 'ncf.slim.safetensors'),
      dense = join(dir, 'ncf-dense.safetensors');
    await writeFile(file, c.bytes);
    await promisify(execFile)('/usr/bin/python3', [join(import.meta.dirname, '../python/slim_reader.py'), file, '--out', dense]);
    const py = parseSafetensors(new Uint8Array(await readFile(dense)));
    for (const [k, v] of [['history.weight', f.U] as const, ['item.bias', f.b] as const, ['mlp1u.weight', f.tower.get('mlp1u.weight')!] as const])
      expect(Buffer.from((py.tensors[k]!.data as Float32Array).buffer).equals(Buffer.from(v.buffer))).toBe(true);
    t.model.dispose();
  }, 60_000);

  it('the GPU ranking (fused one-layer and materialised two-layer towers) equals the CPU top lists', async () => {
    const gpu = await testGpu();
    await writeFile(join(dir, 'u.data'), clustered(4, 120));
    const { split } = await loadRecData(`movielens:${dir}`, { seed: 0 });
    for (const hidden of [[6], [6, 5]]) {
      const m = new NcfModel(gpu, split, { dim: 4, hidden, batch: 64, seed: 3 });
      const r = rng(11);
      const t0 = await m.readTables();
      m.writeTables({
        U: t0.U.map(() => 2 * r() - 1),
        V: t0.V.map(() => 2 * r() - 1),
        b: t0.b.map(() => r() - 0.5),
        rest: t0.rest.map(() => 2 * r() - 1),
      });
      const w = Float64Array.from((await m.w.read()) as Float32Array);
      const users = evalUsers(split).subarray(0, 23);
      const rk = await NcfRanker.create(gpu, split, m, users, 'test');
      const top = await rk.run();
      rk.dispose();
      const { rowptr, cols } = exclusionCsr(split, 'test');
      const N = split.nItems;
      const S = new Float32Array(users.length * N);
      users.forEach((u, k) => {
        const known = cols.subarray(rowptr[u]!, rowptr[u + 1]!);
        for (let i = 0; i < N; i++) S[k * N + i] = scoreCpu(w, m, known, i);
      });
      const ref = rankTopkCpu(S, users.length, N, 10, Array.from(users), rowptr, cols);
      let same = 0;
      for (let j = 0; j < top.length; j++) same += top[j] === ref.idx[j] ? 1 : 0;
      expect(same / top.length, `hidden ${hidden}`).toBeGreaterThan(0.97); // f32 vs f64 near-ties may swap
      m.dispose();
    }
  }, 60_000);

  it('rec:mf and rec:dae train with --loss bpr', async () => {
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
      loss: 'bpr',
    });
    expect(t.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    expect(t.epochs[t.epochs.length - 1]!.loss).toBeLessThan(Math.log(2)); // BPR starts at log 2
    t.model.dispose();
  }, 60_000);

  it('refuses unknown presets and losses with named errors', async () => {
    for (const bad of ['rec:ncf', 'rec:ncf-32', 'rec:ncf-0-8', 'rec:ncf-32-x', 'rec:ncf-8-1-1-1-1-1-1'])
      expect(() => parseNcfModel(bad), bad).toThrow(/RecModel|unknown recommendation model 'rec:ncf/);
    expect(parseNcfModel('rec:ncf-32-64-32')).toEqual({ dim: 32, hidden: [64, 32] });
    const gpu = await testGpu();
    await expect(
      trainNcf(gpu, {
        data: `movielens:${dir}`,
        model: 'rec:ncf-8-8',
        epochs: 1,
        batch: 64,
        lr: 0.01,
        weightDecay: 0,
        seed: 0,
        evalUsers: 10,
        loss: 'softmax',
      }),
    ).rejects.toThrow(/rec:ncf trains with --loss bpr only, got 'softmax'/);
  });
});
