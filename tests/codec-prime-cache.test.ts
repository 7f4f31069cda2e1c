// The on-disk cache of primed CM states (src/codec/v5/prime-cache.ts, cm/state.ts): a state loaded
// from disk codes byte-identically to a computed one; a damaged file, a file of another key and the
// disabled mode all fall back to priming; a folder that cannot be written warns once and still codes.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BitEncoder, CmModel, encodeByte } from '../src/codec/cm/index.js';
import { layoutOf, loadCmState, saveCmState } from '../src/codec/cm/state.js';
import { CpuBytePredictor, CpuBytePrime } from '../src/codec/pretrained/cpu.js';
import { decodeByteMlp } from '../src/codec/pretrained/file.js';
import { decodePrimeFile, diskPrimedStore, encodePrimeFile, primeCacheDir, primeCacheKey, primeCodeHash } from '../src/codec/v5/prime-cache.js';
import { setPrimedStore } from '../src/codec/v5/prime.js';
import { compressBytes, decompressBytes } from '../src/codec/v5/index.js';

const DIR = join(import.meta.dirname, 'fixtures/slimz');
const input = new Uint8Array(readFileSync(join(DIR, 'input.txt')));
const primeText = new Uint8Array(readFileSync(join(DIR, 'double-train.txt'))).subarray(0, 6000);
const model = decodeByteMlp(new Uint8Array(readFileSync('models/bytemlp-2.slim.safetensors')));
const ID = 'ef'.repeat(16);
/** A new predictor object each time: the process's in-memory priming is per prime object, so each call asks the store. */
const predictor = (text = primeText, id = ID) => new CpuBytePredictor(id, 'cached prime test model', model, new CpuBytePrime(text, 2000, 16, model));
const tmp = mkdtempSync(join(tmpdir(), 'slimgpu-prime-cache-'));
let n = 0;
const freshDir = () => join(tmp, `c${n++}`);
const files = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('primed-'));

afterEach(() => setPrimedStore(null));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('primed-state cache', () => {
  it('saveCmState / loadCmState: a loaded state codes like the original', () => {
    const a = new CmModel(2, { memoryLog2: 16, refine: 6 });
    const enc = new BitEncoder();
    for (const b of primeText.subarray(0, 2000)) encodeByte(a, enc, 1, b, null);
    const b = loadCmState(new CmModel(2, { memoryLog2: 16, refine: 6 }), saveCmState(a));
    const code = (m: CmModel) => {
      const e = new BitEncoder();
      for (const x of input) encodeByte(m, e, 1, x, null);
      return Buffer.from(e.finish());
    };
    expect(code(b).equals(code(a))).toBe(true);
    expect(layoutOf(new CmModel(2, { memoryLog2: 16, refine: 5 }))).not.toBe(layoutOf(new CmModel(2, { memoryLog2: 16, refine: 6 })));
    expect(() => loadCmState(new CmModel(1, { memoryLog2: 16, refine: 5 }), saveCmState(a))).toThrow(/CM state/);
    const file = encodePrimeFile('k', saveCmState(a)); // raw (encoding 0) files load too
    const back = decodePrimeFile(file, 'k');
    expect(typeof back !== 'string' && back.encoding === 0 && Buffer.from(back.stored).equals(Buffer.from(saveCmState(a)))).toBe(true);
    expect(decodePrimeFile(file, 'j')).toBe('another key');
    expect(decodePrimeFile(file.subarray(0, file.length - 1), 'k')).toBe('wrong length');
    file[0] ^= 1;
    expect(decodePrimeFile(file, 'k')).toBe('not a primed-state cache file');
  });

  it('a second call loads the state from disk and codes byte-identically; a damaged file is ignored and rewritten', async () => {
    const reference = Buffer.from((await compressBytes(input, predictor())).bytes); // no store: primed in memory
    const dir = freshDir();
    const store = diskPrimedStore({ env: { SLIMGPU_CACHE_DIR: dir } });
    setPrimedStore(store);
    const first = Buffer.from((await compressBytes(input, predictor())).bytes);
    expect(store.events).toMatchObject({ hits: 0, misses: 1, writes: 1, lastRejected: 'absent' });
    const [name] = files(dir);
    const second = await compressBytes(input, predictor());
    expect(store.events).toMatchObject({ hits: 1, misses: 1 });
    expect(first.equals(reference)).toBe(true);
    expect(Buffer.from(second.bytes).equals(reference)).toBe(true);
    expect((await decompressBytes(second.bytes, async () => predictor())).text).toEqual(input); // decoding hits the cache too
    expect(store.events.hits).toBe(2);
    const path = join(dir, name!);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[bad.length >> 1]! ^= 1;
    writeFileSync(path, bad);
    const third = Buffer.from((await compressBytes(input, predictor())).bytes);
    expect(store.events).toMatchObject({ hits: 2, misses: 2, writes: 2, lastRejected: 'hash mismatch' });
    expect(third.equals(reference)).toBe(true);
    expect(readFileSync(path).equals(good)).toBe(true); // rewritten as it was
    writeFileSync(path, good.subarray(0, 100));
    await compressBytes(input, predictor());
    expect(store.events.lastRejected).toBe('truncated');
  }, 40_000);

  it('a state of another key is never used; the cache can be turned off; an unwritable folder warns once', async () => {
    // the key covers the code that computes a state: other code, another key (and another file name)
    const code = await primeCodeHash();
    expect(code).toMatch(/^[0-9a-f]{64}$/);
    expect(await primeCodeHash()).toBe(code);
    const p = predictor(),
      s = { streams: 1, refine: 6 as const, externalWeight: 0 };
    const fresh = new CmModel(1, { memoryLog2: p.prime.memoryLog2, refine: 6 });
    expect(primeCacheKey(p, s, fresh, code)).not.toBe(
      primeCacheKey(
        p,
        s,
        fresh,
        code.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      ),
    );
    const dir = freshDir();
    const store = diskPrimedStore({ env: { SLIMGPU_CACHE_DIR: dir } });
    setPrimedStore(store);
    await compressBytes(input, predictor());
    const [name] = files(dir);
    await compressBytes(input, predictor(primeText.subarray(0, 5000))); // another prime text: another file
    expect(files(dir).length).toBe(2);
    writeFileSync(
      join(
        dir,
        files(dir).find((f) => f !== name)!,
      ),
      readFileSync(join(dir, name!)),
    ); // a valid file under the wrong name
    const other = Buffer.from((await compressBytes(input, predictor(primeText.subarray(0, 5000)))).bytes);
    expect(store.events.lastRejected).toBe('another key');
    setPrimedStore(null);
    expect(other.equals(Buffer.from((await compressBytes(input, predictor(primeText.subarray(0, 5000)))).bytes))).toBe(true);

    expect(primeCacheDir({ SLIMGPU_CACHE_DIR: 'off' })).toBeNull();
    expect(primeCacheDir({ SLIMGPU_NO_CACHE: '1', SLIMGPU_CACHE_DIR: dir })).toBeNull();
    expect(primeCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/slimgpu');
    const off = diskPrimedStore({ env: { SLIMGPU_CACHE_DIR: 'off' } });
    setPrimedStore(off);
    await compressBytes(input, predictor());
    expect(off.events).toMatchObject({ hits: 0, misses: 0, writes: 0 });

    const blocker = join(tmp, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const warnings: string[] = [];
    const ro = diskPrimedStore({ env: { SLIMGPU_CACHE_DIR: join(blocker, 'sub') }, warn: (m) => warnings.push(m) });
    setPrimedStore(ro);
    const a = Buffer.from((await compressBytes(input, predictor())).bytes);
    await compressBytes(input, predictor());
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/cannot cache the primed model state/);
    expect((await decompressBytes(a, async () => predictor())).text).toEqual(input);
  }, 40_000);
});
