// Cross-decoding between Node and a headless Chromium page (issue 22: "the same file decodes
// byte-identically on lavapipe, SwiftShader, the CPU path and in Chromium"): Node compresses with the
// shipped pretrained model (CPU integer path) and with the CM alone, the page (Vite serves src/ as
// modules; the model file comes from demo/public/models) decodes both to the same bytes, then
// compresses the same text itself — its files must equal Node's byte for byte, and Node decodes them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressBytes, decompressBytes } from '../src/codec/v5/index.js';
import { shippedResolver } from '../src/codec/v5/shipped.js';
import { loadShippedPredictor, SHIPPED_MODEL_IDS } from '../src/codec/pretrained/index.js';
import { openPage, startHarness, type Harness } from './browser-harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const GOLDEN = join(ROOT, 'tests/fixtures/slimz');
// UTF-8 prose with multi-byte characters, a little code, and repeats (1.8 KB)
const TEXT = new TextEncoder().encode(
  [
    'Über die Brücke, naïve café owners sold crème brûlée — 5 € each; 東京 and Zürich agreed.\n',
    'The quick brown fox jumps over the lazy dog. '.repeat(12),
    'export function add(a: number, b: number): number {\n  return a + b; // sums\n}\n',
    'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.\n'.repeat(8),
    Array.from({ length: 200 }, (_, i) => String.fromCharCode(32 + ((i * 37) % 95))).join(''),
  ].join('\n'),
);

interface PageResult {
  decoded: number[][];
  encoded: number[][];
  /** The page's CPU path runs WebAssembly SIMD (else its plain-JS fallback). */
  simd: boolean;
}

// The page's side as source text: vitest would rewrite a dynamic import() inside a function argument.
const PAGE_SCRIPT = (root: string, files: Uint8Array[], text: Uint8Array) => `(async () => {
  const v5 = await import('/@fs${root}/src/codec/v5/index.ts');
  const shipped = await import('/@fs${root}/src/codec/v5/shipped.ts');
  const pre = await import('/@fs${root}/src/codec/pretrained/index.ts');
  const simd = (await import('/@fs${root}/src/reference/bytemlp-wasm.ts')).wasmAxpy(65536) !== null;
  const files = ${JSON.stringify(files.map((f) => Array.from(f)))};
  const raw = new Uint8Array(${JSON.stringify(Array.from(text))});
  const decoded = [];
  for (const f of files) decoded.push(Array.from((await v5.decompressBytes(new Uint8Array(f), shipped.shippedResolver())).text));
  const predictor = await pre.loadShippedPredictor();
  const encoded = [Array.from((await v5.compressBytes(raw, predictor)).bytes), Array.from((await v5.compressBytes(raw, null)).bytes)];
  return { decoded, encoded, simd };
})()`;

async function inPage(h: Harness, files: Uint8Array[], text: Uint8Array): Promise<PageResult> {
  const { page, errors } = await openPage(h, '/smoke.html');
  const r = (await page.evaluate(PAGE_SCRIPT(ROOT, files, text))) as PageResult;
  await page.close();
  expect(errors.filter((e) => !/WebGPU|adapter|navigator\.gpu/i.test(e))).toEqual([]);
  return r;
}

describe('Node ⇄ Chromium cross-decoding (codec 5)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('a file Node compressed decodes byte-identically in the page, and the page writes the same bytes', async () => {
    expect(SHIPPED_MODEL_IDS.length).toBeGreaterThan(0);
    const withModel = (await compressBytes(TEXT, await loadShippedPredictor())).bytes;
    const cmAlone = (await compressBytes(TEXT, null)).bytes;
    expect(withModel.length).toBeLessThan(cmAlone.length);
    // and the golden file of every shipped model (tests/codec-golden.test.ts), whose text is input.txt
    const goldens = readdirSync(GOLDEN).filter((f) => /^v[56]-pretrained-[0-9a-f]{16}\.slimz$/.test(f));
    expect(goldens.length).toBe(2 * SHIPPED_MODEL_IDS.length);
    const input = Buffer.from(readFileSync(join(GOLDEN, 'input.txt')));
    const files = [withModel, cmAlone, ...goldens.map((f) => new Uint8Array(readFileSync(join(GOLDEN, f))))];
    const r = await inPage(h, files, TEXT);
    expect(r.simd).toBe(true);
    const expected = [TEXT, TEXT, ...goldens.map(() => input)];
    expect(r.decoded.map((d, i) => Buffer.from(d).equals(Buffer.from(expected[i]!)))).toEqual(files.map(() => true));
    expect(Buffer.from(r.encoded[0]!).equals(Buffer.from(withModel))).toBe(true);
    expect(Buffer.from(r.encoded[1]!).equals(Buffer.from(cmAlone))).toBe(true);
    // the reverse direction, decoded by Node from the page's own bytes
    const back = await decompressBytes(new Uint8Array(r.encoded[0]!), shippedResolver());
    expect(Buffer.from(back.text).equals(Buffer.from(TEXT))).toBe(true);
    console.log(`Node ⇄ Chromium: ${TEXT.length} bytes → ${withModel.length} (pretrained) / ${cmAlone.length} (CM alone), identical both ways`);
  }, 600_000); // Node and the page each prime the default (primed) model once: ~10 s of CPU each, minutes on a loaded machine
});
