// The PyTorch trainer (python/image_codec.py) and slimgpu agree: its phase-decomposed transposed
// convolution is torch's ConvTranspose2d, and its factorised density gives the same bits as the
// reference of the GPU kernels (src/reference/factorized-prior.ts) for the same parameters.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packFactorizedTheta } from '../src/kernels/factorized-prior.js';
import { factorizedBitsCpu } from '../src/reference/factorized-prior.js';
import { expectClose } from './helpers.js';

const PY = process.env.SLIMGPU_PYTHON ?? '/usr/bin/python3';

describe('image trainer twin', () => {
  it.skipIf(!existsSync(PY))(
    'phase conv = ConvTranspose2d and torch bits = the kernel reference',
    async () => {
      const { stdout } = await promisify(execFile)(PY, ['python/image_codec.py', '--selftest'], { timeout: 120_000 });
      const r = JSON.parse(stdout) as {
        convtMaxErr: number;
        y: number[];
        bits: number[];
        entf: Record<string, { shape: number[]; data: number[] }>;
      };
      expect(r.convtMaxErr).toBeLessThan(1e-4);
      const theta = packFactorizedTheta(r.entf, 3);
      expectClose(factorizedBitsCpu(r.y, theta, 3, 6), r.bits, { atol: 1e-3, rtol: 1e-4 }, 'bits vs torch');
      expect(Math.max(...r.bits) - Math.min(...r.bits)).toBeGreaterThan(1);
    },
    150_000,
  );
});
