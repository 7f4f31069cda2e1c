import { describe, expect, it } from 'vitest';
import { readSlimg, writeSlimg } from '../src/image/slimg.js';

describe('.slimg container v2', () => {
  it('round-trips headers with multi-byte varints and counts a 28x28 gray header in 28 bytes', () => {
    const payload = new Uint8Array(300).map((_, i) => i * 7);
    for (const h of [
      { modelId: 'img:fashion', quality: 8, channels: 1, width: 28, height: 28, tile: 256 },
      { modelId: 'img:photo-3', quality: 1, channels: 3, width: 300_000, height: 3, tile: 4096 },
    ]) {
      const bytes = writeSlimg(h, payload, 2);
      const r = readSlimg(bytes);
      expect(r.header).toEqual(h);
      expect(Array.from(r.payload)).toEqual(Array.from(payload));
      if (h.width === 28) expect(bytes.length - payload.length).toBe(28);
    }
  });

  it('refuses version 1 files and truncated varints by name', () => {
    const bytes = writeSlimg({ modelId: 'img:photo', quality: 4, channels: 3, width: 200, height: 200, tile: 256 }, new Uint8Array(5), 2);
    const v1 = bytes.slice();
    v1[5] = 1;
    expect(() => readSlimg(v1, 'old.slimg')).toThrow(
      /'old.slimg' has .slimg version 1; this slimgpu reads versions 2 and 3 \(version 1 files name the models before/,
    );
    expect(() => readSlimg(bytes.subarray(0, 18), 'cut.slimg')).toThrow(/'cut.slimg' is truncated: 18 bytes, the width needs 19/);
  });
});
