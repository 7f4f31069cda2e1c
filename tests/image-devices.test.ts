// The learned codec's latent decodes to the same integers on a second Vulkan driver: .slimg files
// encoded here (lavapipe) are decoded by scripts/image-device-check.ts under SwiftShader, and every
// latent's hash must match ours (Chromium's WebGPU is tests/image-page.test.ts). The reconstructed
// images are f32 synthesis output: their hashes are printed by the script but not required to agree.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ImageCodec } from '../src/image/codec.js';
import { loadImageModel } from '../src/image/node.js';
import { testGpu } from './helpers.js';

const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
const script = resolve('dist/scripts/image-device-check.js');
const sha = (q: Int32Array[]) => {
  const all = Int32Array.from(q.flatMap((x) => Array.from(x)));
  return createHash('sha256').update(new Uint8Array(all.buffer)).digest('hex').slice(0, 16);
};

describe('image codec across devices', () => {
  it.skipIf(!existsSync(swiftshader) || !existsSync(script))(
    'SwiftShader decodes lavapipe-encoded latents to the same integers (gray and RGB; img:dct, img:dct-g2 and the Ballé ladders)',
    async () => {
      const gpu = await testGpu();
      const codec = new ImageCodec(gpu, loadImageModel);
      const dir = mkdtempSync(join(tmpdir(), 'slimg-dev-'));
      const want: Record<string, string> = {};
      try {
        // the default block codec (img:dct, img:dct-g2) and the Ballé ladders (img:photo, img:fashion)
        for (const [channels, quality, modelId] of [
          [3, 2, undefined],
          [3, 7, undefined],
          [1, 3, undefined],
          [1, 8, undefined],
          [3, 5, 'img:photo'],
          [1, 6, 'img:fashion'],
        ] as const) {
          const n = 36,
            data = new Uint8Array(n * n * channels).map((_, i) => (i * 37 + (i >> 6) * 11 + quality) % 256);
          const bytes = await codec.compress({ width: n, height: n, channels, data }, { quality, modelId });
          const f = `c${channels}-q${quality}${modelId ? '-' + modelId.slice(4) : ''}.slimg`;
          writeFileSync(join(dir, f), bytes);
          want[f] = sha((await codec.decodeLatents(bytes)).q);
        }
        const { stdout } = await promisify(execFile)(process.execPath, [script, dir], {
          env: { ...process.env, VK_ICD_FILENAMES: swiftshader },
          timeout: 120_000,
        });
        expect(stdout).toMatch(/adapter: .*swiftshader/i);
        const got = Object.fromEntries([...stdout.matchAll(/^(\S+\.slimg): latent ([0-9a-f]{16})/gm)].map((m) => [m[1]!, m[2]!]));
        expect(got).toEqual(want);
      } finally {
        codec.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
