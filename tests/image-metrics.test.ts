import { describe, expect, it } from 'vitest';
import { bdRate, psnrMargins, rdSvg } from '../bench/images-metrics.js';

const curve = (scale: number) => [0.25, 0.5, 1, 2, 4].map((b) => ({ bpp: b * scale, psnr: 25 + 4 * Math.log2(b) + Math.sin(b), setting: String(b) }));

describe('image bench metrics', () => {
  it('BD-rate of a curve at 0.8x the rate is -20%, and +25% the other way', () => {
    expect(bdRate(curve(1), curve(0.8))!.bdRate).toBeCloseTo(-20, 6);
    expect(bdRate(curve(0.8), curve(1))!.bdRate).toBeCloseTo(25, 6);
    expect(
      bdRate(
        curve(1),
        curve(1).map((p) => ({ ...p, psnr: p.psnr + 100 })),
      ),
    ).toBeUndefined();
  });

  it('margins use the best of our points within the rate, or lossless', () => {
    const anchor = [
      { bpp: 0.4, psnr: 30, setting: 'a' },
      { bpp: 1, psnr: 30, setting: 'b' },
      { bpp: 3, psnr: 40, setting: 'c' },
    ];
    const ours = [{ bpp: 0.8, psnr: 32, setting: 'x' }];
    expect(psnrMargins(anchor, ours, 0.5, 2.5)).toEqual([
      { bpp: 1, anchor: 30, ours: 32, margin: 2 },
      { bpp: 3, anchor: 40, ours: 'lossless', margin: 'lossless' },
    ]);
    expect(psnrMargins(anchor, ours, 0.3)[0]).toEqual({ bpp: 0.4, anchor: 30 });
    expect(rdSvg([{ title: 't', curves: [{ codec: 'c', points: curve(1) }] }])).toMatch(/^<svg[\s\S]*polyline[\s\S]*<\/svg>\n$/);
  });
});
