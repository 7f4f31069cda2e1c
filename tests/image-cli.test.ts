import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../src/image/files.js';
import { encodePnm } from '../src/image/pnm.js';
import { cli } from './helpers.js';
import { flatBlockModelBytes, randomImage, tinyModelBytes } from './image-fixtures.js';

describe('slimgpu image compress / decompress', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimgpu-image-cli-'));
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.SLIMGPU_IMAGE_MODELS;
    for (const k of [1, 3]) {
      // the ladders' members (img:photo-1, img:photo-3, ...): tiny models here
      writeFileSync(join(dir, `photo-${k}.safetensors`), tinyModelBytes(3, 6, 5, 10 + k));
      writeFileSync(join(dir, `fashion-${k}.safetensors`), tinyModelBytes(1, 4, 3, 20 + k));
    }
    // the default block codec (img:dct, img:dct-g) with flat initial context states
    writeFileSync(join(dir, 'dct.safetensors'), flatBlockModelBytes(3));
    writeFileSync(join(dir, 'dct-g.safetensors'), flatBlockModelBytes(1));
    writeFileSync(join(dir, 'dct-g2.safetensors'), flatBlockModelBytes(1, 15, true));
    process.env.SLIMGPU_IMAGE_MODELS = dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SLIMGPU_IMAGE_MODELS;
    else process.env.SLIMGPU_IMAGE_MODELS = saved;
  });

  it('round-trips a PNG and a PGM, and reports PSNR against the original', async () => {
    writeFileSync(join(dir, 'a.png'), encodePng(randomImage(45, 19, 3, 4)));
    writeFileSync(join(dir, 'b.pgm'), encodePnm(randomImage(30, 31, 1, 5)));
    for (const f of ['a.png', 'b.pgm']) {
      const c = await cli(['image', 'compress', join(dir, f), '-o', join(dir, `${f}.slimg`), '--quality', '6', '--json']);
      expect(c.code, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout)).toMatchObject({ quality: 6, bytes: readFileSync(join(dir, `${f}.slimg`)).length });
      const d = await cli(['image', 'decompress', join(dir, `${f}.slimg`), '-o', join(dir, `${f}.out.png`), '--reference', join(dir, f), '--json']);
      expect(d.code, d.stderr).toBe(0);
      expect(JSON.parse(d.stdout).psnr).toBeGreaterThan(0);
    }
  });

  it('bad input: named error, non-zero exit, nothing written', async () => {
    writeFileSync(join(dir, 'bad.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5]));
    const c = await cli(['image', 'compress', join(dir, 'bad.png'), '-o', join(dir, 'bad.slimg')]);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/slimgpu\.image: .*not a readable PNG/);
    expect(existsSync(join(dir, 'bad.slimg'))).toBe(false);
    const good = readFileSync(join(dir, 'a.png.slimg'));
    writeFileSync(join(dir, 'cut.slimg'), good.subarray(0, good.length - 7));
    const d = await cli(['image', 'decompress', join(dir, 'cut.slimg'), '-o', join(dir, 'cut.png')]);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/truncated/);
    expect(existsSync(join(dir, 'cut.png'))).toBe(false);
    const q = await cli(['image', 'compress', join(dir, 'a.png'), '-o', join(dir, 'q.slimg'), '--quality', '16']);
    expect(q.code).not.toBe(0);
    expect(q.stderr).toMatch(/--quality must be an integer from 1 to 15/);
    const m = await cli(['image', 'decompress', join(dir, 'missing.slimg'), '-o', join(dir, 'm.png')]);
    expect(m.stderr).toMatch(/cannot read/);
    expect(existsSync(join(dir, 'm.png'))).toBe(false);
  });
});
