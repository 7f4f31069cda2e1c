// The behaviour-log coder (.slimr): lossless round trips of generated logs (with and without
// ratings and timestamps, with and without a model), the canonical form, bad input, damage.
import { describe, expect, it } from 'vitest';
import { parseInteractionsCsv } from '../src/data/interactions.js';
import { canonicalCsv, canonicalLog, float32Text } from '../src/rec/log-canon.js';
import { daeModelFile, decodeLog, encodeLog, type EncodeResult } from '../src/rec/log-codec.js';
import { ItemScorer, quantiseCum } from '../src/rec/log-model.js';
import { rng } from './helpers.js';

/** users in 6 taste clusters of 12 items; items named it-NN, users u-NNN. */
function clusteredCsv(seed: number, opts: { rating?: boolean; time?: boolean; users?: number } = {}): string {
  const r = rng(seed);
  const rows = [['user', 'item', ...(opts.rating ? ['rating'] : []), ...(opts.time ? ['timestamp'] : [])].join(',')];
  for (let u = 0; u < (opts.users ?? 120); u++) {
    const c = u % 6;
    const n = 2 + Math.floor(r() * 7);
    for (let k = 0; k < n; k++) {
      const it = r() < 0.85 ? c * 12 + Math.floor(r() * 12) : Math.floor(r() * 72);
      const f = [`u-${String(u).padStart(3, '0')}`, `it-${String(it).padStart(2, '0')}`];
      if (opts.rating) f.push(String([1, 2, 3, 3.5, 4, 5][Math.floor(r() * 6)]));
      if (opts.time) f.push(String(1_000_000 + u * 50 + Math.floor(r() * 40)));
      rows.push(f.join(','));
    }
  }
  return rows.join('\n') + '\n';
}

/** A model that knows the clusters: W = V = one-hot of the item's cluster (scaled), b = 0. */
function clusterModel(): { file: Uint8Array; items: string[] } {
  const nM = 72,
    D = 6;
  const W = new Float32Array(nM * D),
    V = new Float32Array(nM * D);
  for (let i = 0; i < nM; i++) {
    W[i * D + Math.floor(i / 12)] = 1.5;
    V[i * D + Math.floor(i / 12)] = 2;
  }
  const items = Array.from({ length: nM }, (_, i) => `it-${String(i).padStart(2, '0')}`);
  return { file: daeModelFile({ nM, D, W, V, b: new Float32Array(nM) }), items };
}

const columns = (text: string) => text.split('\n')[0]!.split(',');
function roundTrip(text: string, model?: { file: Uint8Array; items: string[] }): EncodeResult {
  const log = parseInteractionsCsv(text, 'gen.csv');
  const c = canonicalLog(log, columns(text), model?.items);
  const r = encodeLog(c, model);
  const back = decodeLog(r.bytes);
  expect(back.csv).toBe(r.csv);
  expect(back.csv).toBe(canonicalCsv(c));
  return r;
}

describe('rec log codec (.slimr)', () => {
  it('round-trips implicit, rated and timed logs, with and without a model; the model saves bits', () => {
    const text = clusteredCsv(1);
    const plain = roundTrip(text);
    const model = clusterModel();
    const withModel = roundTrip(text, model);
    const codeBytes = (r: EncodeResult) => r.bytes.length - r.modelBytes - r.namesBytes;
    expect(codeBytes(withModel)).toBeLessThan(0.9 * codeBytes(plain));
    roundTrip(clusteredCsv(2, { rating: true, time: true }), model);
    roundTrip(clusteredCsv(3, { time: true }));
    roundTrip(clusteredCsv(4, { rating: true }), model);
    roundTrip(clusteredCsv(5), { file: Buffer.from(model.file), items: model.items }); // a Node Buffer (readFileSync) as the model
  });

  it('writes the canonical form: sorted by user, time, item; duplicates once; quoted names; float32 ratings', () => {
    const text = 'who,what,rating,ts\nb,"x,1",4.1,20\na,y,3,5\nb,z,2,10\nb,"x,1",1,30\na,x,5,5\n';
    const log = parseInteractionsCsv(text, 'w.csv', { user: 'who', item: 'what', timestamp: 'ts' });
    const c = canonicalLog(log, ['who', 'what', 'rating', 'ts']);
    expect(canonicalCsv(c)).toBe('who,what,rating,ts\na,x,5,5\na,y,3,5\nb,z,2,10\nb,"x,1",4.1,20\n');
    expect(decodeLog(encodeLog(c).bytes).csv).toBe(canonicalCsv(c));
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
  });

  it('names damage and bad input', () => {
    const r = encodeLog(canonicalLog(parseInteractionsCsv(clusteredCsv(5, { users: 20 }), 'g.csv'), ['user', 'item']));
    const bad = r.bytes.slice();
    bad[30]! ^= 4;
    expect(() => decodeLog(bad)).toThrow(/CRC-32/);
    expect(() => decodeLog(r.bytes.subarray(0, 40))).toThrow(/damaged|truncated|CRC/);
    expect(() => decodeLog(new Uint8Array(30))).toThrow(/not a \.slimr/);
    const m = clusterModel();
    const c = canonicalLog(parseInteractionsCsv(clusteredCsv(6, { users: 10 }), 'g.csv'), ['user', 'item'], m.items);
    expect(() => encodeLog(c, { file: m.file, items: [...m.items].reverse() })).toThrow(/sorted/);
    const many = 'user,item,rating\n' + Array.from({ length: 300 }, (_, k) => `u${k},i,${k / 7}`).join('\n');
    expect(() => encodeLog(canonicalLog(parseInteractionsCsv(many, 'm.csv'), ['user', 'item', 'rating']))).toThrow(/at most 256/);
    const neg = parseInteractionsCsv('user,item,timestamp\na,b,-5\n', 'n.csv');
    expect(() => encodeLog(canonicalLog(neg, ['user', 'item', 'timestamp']))).toThrow(/timestamp -5/);
  });

  it('integer scores: the pair table and the direct path agree; tables always code every candidate', () => {
    const r = rng(9);
    const nM = 40,
      D = 5;
    const t = {
      nM,
      D,
      W: Float32Array.from({ length: nM * D }, () => r() - 0.5),
      V: Float32Array.from({ length: nM * D }, () => r() - 0.5),
      b: Float32Array.from({ length: nM }, () => 3 * (r() - 0.5)),
    };
    const s = new ItemScorer(t),
      direct = new ItemScorer(t, false);
    const w = new Float64Array(nM),
      w2 = new Float64Array(nM);
    const skip = new Uint8Array(nM);
    skip[5] = 1;
    for (const h of [3, 7, 7, 30]) {
      s.add(h);
      direct.add(h);
      s.weights(80, 2, skip, w);
      direct.weights(80, 2, skip, w2);
      expect(Array.from(w2.subarray(2))).toEqual(Array.from(w.subarray(2)));
      expect(w[5]).toBe(0);
    }
    const total = s.weights(80, 0, undefined, w);
    expect(total).toBe(w.reduce((a, x) => a + x, 0));
    expect(Math.max(...w)).toBe(2 ** 28);
    const cum = quantiseCum(w, 0, nM, new Uint32Array(257));
    expect(cum[nM]).toBe(65536);
    for (let j = 0; j < nM; j++) expect(cum[j + 1]! - cum[j]!).toBeGreaterThan(0);
  });
});

describe('slimgpu compress --interactions / decompress (.slimr)', () => {
  it('round-trips a CSV through the CLI functions, with a model folder and with none', async () => {
    const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { compressInteractions, decompressInteractions, isSlimrFile } = await import('../src/cli/interactions.js');
    const dir = await mkdtemp(join(tmpdir(), 'slimgpu-slimr-'));
    try {
      const text = clusteredCsv(7, { rating: true, time: true, users: 40 });
      const csv = join(dir, 'log.csv');
      await writeFile(csv, text);
      const m = clusterModel();
      await writeFile(join(dir, 'model.slim.safetensors'), m.file);
      await writeFile(join(dir, 'items.json'), JSON.stringify(m.items));
      const want = canonicalCsv(canonicalLog(parseInteractionsCsv(text, 'log.csv'), columns(text)));
      for (const model of [dir, 'none']) {
        const out = join(dir, `log-${model === 'none' ? 'none' : 'model'}.slimr`);
        await compressInteractions({ interactions: csv, model, output: out, quiet: true });
        expect(await isSlimrFile(out)).toBe(true);
        await decompressInteractions(out, { output: `${out}.csv`, quiet: true });
        expect(await readFile(`${out}.csv`, 'utf8')).toBe(want);
      }
      await expect(compressInteractions({ interactions: csv, model: 'auto', output: join(dir, 'x.slimr') })).rejects.toThrow(/needs --model DIR/);
      await expect(compressInteractions({ interactions: join(dir, 'nope.csv'), model: 'none', output: join(dir, 'y.slimr') })).rejects.toThrow(
        /nope\.csv/,
      );
      expect(await isSlimrFile(csv)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
