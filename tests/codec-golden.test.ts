// Archives stay readable (issue 22): golden .slimz files of every codec version and mode this
// slimgpu writes or still reads, decoded byte-exactly; and the writer's output for the fixed input
// must equal the golden file of the current version — a change to the format (or to the CM, or to
// anything that changes the code) fails here until the version is bumped and new golden files added.
//   Create missing golden files of the current version: SLIMZ_GOLDEN_WRITE=1 npx vitest run tests/codec-golden.test.ts
// Files (tests/fixtures/slimz/): input.txt (2,400 bytes of the GPL), double-train.txt (the test
// predictor's training text), v4-*.slimz written by codec 4 (commit c58e09d), v5-*.slimz by codec 5,
// v6-*.slimz by codec 6 (the v5 layout, version byte 6: the CM refines with four APMs).
// The prequential GPU GPT mode has no golden file: its files decode only on the adapter that wrote
// them; its framing is covered by the CountModel files (the same container, a CPU model).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compressText, decompressText } from '../src/codec/slimz.js';
import { NoModel } from '../src/codec/model.js';
import { SLIMZ_VERSION } from '../src/codec/container.js';
import { compressBytes, decompressBytes, V5_VERSION, V6_VERSION, type PredictorResolver, type V5EncodeOptions } from '../src/codec/v5/index.js';
import { CountModel } from './codec-double.js';
import { CountPredictor } from '../bench/predictor-double.js';
import { loadPredictorById, SHIPPED_MODEL_IDS } from '../src/codec/pretrained/index.js';
import { shippedResolver } from '../src/codec/v5/shipped.js';

const DIR = join(import.meta.dirname, 'fixtures/slimz');
const input = new Uint8Array(readFileSync(join(DIR, 'input.txt')));
const double = new CountPredictor(new Uint8Array(readFileSync(join(DIR, 'double-train.txt'))));
const resolve: PredictorResolver = async (id) => {
  if (!double.id.startsWith(id)) throw new Error(`golden test: unknown model ${id}`);
  return double;
};
const WRITER = {
  library: 'slimgpu golden',
  adapter: { backend: 'cpu', vendor: 'test', architecture: 'double', device: 'count-model', description: 'CPU test double' },
};
const countModel = (h: { model: Record<string, unknown> }) => new CountModel(h.model.windows as number, h.model.context as number);

/** The v5 files: name → how the current writer makes it. */
const V5: Record<string, () => Promise<Uint8Array>> = {
  'v5-none.slimz': () => bin(null, { version: 5 }),
  'v5-none-records.slimz': () => bin(null, { recordBytes: 1000, version: 5 }),
  'v5-double.slimz': () => bin(double, { version: 5 }),
  'v5-double-records-4streams.slimz': () => bin(double, { recordBytes: 1000, streams: 4, version: 5 }),
  // codec 6 (the default writer since session 6): the same layout, the CM with four APMs
  'v6-none.slimz': () => bin(null),
  'v6-none-records.slimz': () => bin(null, { recordBytes: 1000 }),
  'v6-double.slimz': () => bin(double),
  'v6-double-records-4streams.slimz': () => bin(double, { recordBytes: 1000, streams: 4 }),
  'v5-countmodel-cm.slimz': async () =>
    (
      await compressText(input, new CountModel(3, 16), {
        mode: 'prequential',
        chunkBytes: 48,
        recordBytes: 300,
        stepsPerChunk: 1,
        mixer: 'cm',
        cmMemoryLog2: 16,
        model: { kind: 'count-model', windows: 3, context: 16 },
        writer: WRITER,
      })
    ).bytes,
};
async function bin(p: CountPredictor | null, o: V5EncodeOptions = {}): Promise<Uint8Array> {
  return (await compressBytes(input, p, o)).bytes;
}

describe('golden .slimz files', () => {
  it('the versions written are the ones the golden files are named for', () => {
    expect(V5_VERSION).toBe(5);
    expect(V6_VERSION).toBe(6);
    expect(SLIMZ_VERSION).toBe(5);
  });

  it('codec 4 files (CM alone; a CPU model + CM, prequential) still decode byte-exactly', async () => {
    const none = await decompressText(readFileSync(join(DIR, 'v4-none.slimz')), async (h) => new NoModel(h.coding.streams));
    expect(none.text).toEqual(input);
    const cm = await decompressText(readFileSync(join(DIR, 'v4-countmodel-cm.slimz')), async (h) => countModel(h));
    expect(cm.text).toEqual(input);
    expect(cm.header.coding.chunkChecks).toBeUndefined();
  });

  // every shipped pretrained model gets a golden file, kept forever (a missing one fails: create it
  // with SLIMZ_GOLDEN_WRITE=1 when the model is added)
  for (const id of SHIPPED_MODEL_IDS) {
    V5[`v5-pretrained-${id.slice(0, 16)}.slimz`] = async () => (await compressBytes(input, await loadPredictorById(id), { version: 5 })).bytes;
    V5[`v6-pretrained-${id.slice(0, 16)}.slimz`] = async () => (await compressBytes(input, await loadPredictorById(id))).bytes;
  }

  for (const [name, write] of Object.entries(V5)) {
    it(`${name}: decodes byte-exactly, and today's writer makes exactly these bytes`, async () => {
      const path = join(DIR, name);
      const now = await write();
      if (!existsSync(path) && process.env.SLIMZ_GOLDEN_WRITE === '1') writeFileSync(path, now);
      if (!existsSync(path))
        throw new Error(
          `golden file ${name} is missing: create it with SLIMZ_GOLDEN_WRITE=1 npx vitest run tests/codec-golden.test.ts (and commit it)`,
        );
      const golden = new Uint8Array(readFileSync(path));
      const text = name.includes('countmodel')
        ? (await decompressText(golden, async (h) => countModel(h))).text
        : (await decompressBytes(golden, name.includes('pretrained') ? shippedResolver() : resolve)).text;
      expect(text).toEqual(input);
      expect(
        Buffer.from(now).equals(Buffer.from(golden)),
        `the writer's output for ${name} changed (${now.length} vs ${golden.length} bytes): ` +
          'a format change needs a new codec version (and new golden files); old golden files must keep decoding',
      ).toBe(true);
    });
  }
});
