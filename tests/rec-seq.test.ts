// rec:seq (SASRec on the GPT graph): the sequence builder on awkward inputs, training past
// popularity and rec:mf on a small generated sequential log, and the compression round trip.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMovieLens } from '../src/data/interactions.js';
import { leaveLastOut } from '../src/data/rec-split.js';
import {
  batchedWindows,
  contextTokens,
  evalTokens,
  knownItems,
  NO_TARGET,
  reshuffledTraining,
  SeqDataError,
  targetCsr,
  trainingWindows,
} from '../src/data/rec-sequences.js';
import { sequentialUData } from '../src/data/rec-seq-synth.js';
import { decodeCompressed } from '../src/io/format/index.js';
import { REC_COMPRESS_DEFAULTS } from '../src/rec/compress.js';
import { trainRecommender } from '../src/rec/run.js';
import { parseSeqModel } from '../src/rec/seq.js';
import { compressSeq, formatSeqStages } from '../src/rec/seq-compress.js';
import { trainSeqRecommender } from '../src/rec/seq-run.js';
import { testGpu } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-rec-seq-'));
  await writeFile(join(dir, 'u.data'), sequentialUData({ users: 300, items: 120, clusters: 6, maxLength: 20, seed: 3 }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rec:seq sequence builder', () => {
  // user a: 5 items (two share a timestamp: file order), b: 2 items (train only), c: 1 item, d: 3 items
  const udata = [
    'a\tx1\t5\t10',
    'a\tx3\t5\t30',
    'a\tx2\t5\t20',
    'a\tx5\t5\t30',
    'a\tx4\t5\t40',
    'b\tx2\t1\t5',
    'b\tx1\t1\t1',
    'c\tx4\t3\t7',
    'd\tx3\t2\t1',
    'd\tx2\t2\t2',
    'd\tx1\t2\t3',
  ].join('\n');
  const split = leaveLastOut(parseMovieLens(udata, 'u.data'), 0);
  const id = (name: string) => ['x1', 'x3', 'x2', 'x5', 'x4'].indexOf(name); // first-appearance ids
  const PAD = split.nItems;

  it('orders by timestamp (ties: file order) and holds out the last two', () => {
    expect(split.nItems).toBe(5);
    // a: x1(10) x2(20) x3(30) x5(30, after x3 in the file) x4(40) → train x1 x2 x3, valid x5, test x4
    expect(Array.from(knownItems(split, 0, 'valid'))).toEqual([id('x1'), id('x2'), id('x3')]);
    expect(Array.from(knownItems(split, 0, 'test'))).toEqual([id('x1'), id('x2'), id('x3'), id('x5')]);
    expect(split.valid[0]).toBe(id('x5'));
    expect(split.test[0]).toBe(id('x4'));
    // b (2 items) and c (1 item) keep everything in training and are not evaluated
    expect(split.test[1]).toBe(-1);
    expect(Array.from(knownItems(split, 1, 'test'))).toEqual([id('x1'), id('x2')]);
    expect(Array.from(knownItems(split, 2, 'test'))).toEqual([id('x4')]);
  });

  it('cuts windows of next-item pairs from the end, left-padded, PAD as the start token', () => {
    const w = trainingWindows(split, 2);
    // a: 3 train items → pairs (PAD→x1) | (x1→x2, x2→x3); b: 2 → (PAD→x1, x1→x2); c: 1 → (PAD→x4); d: 1 → (PAD→x3)
    expect(w.n).toBe(5);
    expect(w.pairs).toBe(split.trainItems.length);
    const N = NO_TARGET;
    expect(Array.from(w.tokens)).toEqual([id('x1'), id('x2'), PAD, PAD, PAD, id('x1'), PAD, PAD, PAD, PAD]);
    expect(Array.from(w.targets)).toEqual([id('x2'), id('x3'), N, id('x1'), id('x1'), id('x2'), N, id('x4'), N, id('x3')]);
    const csr = targetCsr(w.targets);
    expect(csr.rowptr[w.tokens.length]).toBe(w.pairs);
    expect(Array.from(csr.items).filter((x) => x === id('x1')).length).toBe(2);
    // whole windows move; padding windows predict nothing
    const b = batchedWindows(w, [4, 0], 3, PAD);
    expect(Array.from(b.tokens)).toEqual([PAD, PAD, id('x1'), id('x2'), PAD, PAD]);
    expect(Array.from(b.targets)).toEqual([N, id('x3'), id('x2'), id('x3'), N, N]);
  });

  it('gives each evaluated user the last T tokens of [PAD, known items]', () => {
    expect(Array.from(evalTokens(split, [0], 'test', 3))).toEqual([id('x2'), id('x3'), id('x5')]);
    expect(Array.from(evalTokens(split, [0], 'valid', 6))).toEqual([PAD, PAD, PAD, id('x1'), id('x2'), id('x3')]);
    expect(Array.from(evalTokens(split, [3], 'test', 3))).toEqual([PAD, id('x3'), id('x2')]);
  });

  it('reshuffles an untimed log per epoch: same items per user, held-out items unchanged', () => {
    const r = reshuffledTraining(split, 0, 1);
    for (let u = 0; u < split.nUsers; u++) {
      const seg = (a: Uint32Array) => Array.from(a.subarray(split.trainPtr[u]!, split.trainPtr[u + 1]!)).sort();
      expect(seg(r.trainItems)).toEqual(seg(split.trainItems));
    }
    expect(r.valid).toBe(split.valid);
    expect(Array.from(reshuffledTraining(split, 0, 1).trainItems)).toEqual(Array.from(r.trainItems));
  });

  it('refuses unknown ids and bad lengths by name', () => {
    expect(() => contextTokens([0, 5], 5, 4)).toThrow(SeqDataError);
    expect(() => contextTokens([0, 5], 5, 4)).toThrow(/item id 5 at position 1 is not a known item/);
    expect(() => contextTokens([-1], 5, 4)).toThrow(SeqDataError);
    expect(() => knownItems(split, 99, 'test')).toThrow(/unknown user id 99/);
    expect(() => trainingWindows(split, 0)).toThrow(/sequence length T/);
    expect(() => parseSeqModel('rec:seq-2-64-3-32')).toThrow(/heads H must divide/);
    expect(() => parseSeqModel('rec:seq-64')).toThrow(/rec:seq-L-D-H-T/);
    expect(parseSeqModel('rec:mf-64')).toBeUndefined();
    expect(parseSeqModel('rec:seq-2-64-2-32')).toEqual({ L: 2, D: 64, H: 2, T: 32 });
  });
});

describe('rec:seq on a generated sequential log', () => {
  it('beats popularity and rec:mf, and compresses ≥ 5× with a file that loads back to the same ranking', async () => {
    const gpu = await testGpu();
    const data = `movielens:${dir}`;
    const lines: string[] = [];
    const t = await trainSeqRecommender(
      gpu,
      { data, model: 'rec:seq-1-32-2-16', epochs: 6, batch: 64, lr: 0.002, weightDecay: 0.01, seed: 0, evalUsers: 300 },
      (l) => lines.push(l),
    );
    expect(lines.some((l) => /timestamp order/.test(l))).toBe(true);
    expect(t.test.users).toBe(300);
    expect(t.test.ndcg).toBeGreaterThan(2 * t.popularity.test.ndcg);
    const mf = await trainRecommender(gpu, { data, model: 'rec:mf-32', epochs: 12, batch: 64, lr: 0.01, weightDecay: 0, seed: 0, evalUsers: 300 });
    mf.model.dispose();
    expect(t.test.ndcg).toBeGreaterThan(1.2 * mf.test.ndcg);

    const c = await compressSeq(gpu, t, { ...REC_COMPRESS_DEFAULTS, fineTuneEpochs: 1, userBits: 3, itemBits: 4 });
    expect(c.rows.map((r) => r.stage)).toEqual(['dense fp32', 'pruned 50/50% + fine-tune', '+ k-means 3/4 bits, huffman']);
    expect(c.rows[2]!.bytes).toBe(c.bytes.length);
    expect(c.rows[2]!.ratio).toBeGreaterThan(5);
    expect(c.rows[2]!.test.ndcg).toBeGreaterThan(0.85 * t.test.ndcg);
    const d = decodeCompressed(c.bytes);
    expect(d.spec.layers[0]).toMatchObject({ kind: 'embedding', vocab: 121 });
    const wte = d.values.get('wte.weight')!;
    expect(wte.filter((x) => x === 0).length / wte.length).toBeGreaterThanOrEqual(0.49);
    expect(new Set(Array.from(wte).filter((x) => x !== 0)).size).toBeLessThanOrEqual(16);
    expect(formatSeqStages(c.rows, t.popularity.test.ndcg)).toMatch(/network bytes/);
    t.model.dispose();
  }, 60_000);
});
