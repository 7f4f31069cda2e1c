// Prints a hash of the bytemlp kernel's integer logits for fixed random models and contexts on the
// adapter this process gets (tests/bytemlp.test.ts runs it under SwiftShader with VK_ICD_FILENAMES
// and compares with the CPU reference), one line of JSON: { adapter, hashes: [...] }.
import { createHash } from 'node:crypto';
import { createGpu } from '../src/gpu/device.js';
import { ByteMlpGpuBatch } from '../src/codec/pretrained/gpu.js';
import { ByteMlpWeights } from '../src/kernels/bytemlp.js';
import { ByteMlpCpu, randomByteMlp, type ByteMlpModel } from '../src/reference/bytemlp.js';

export const CHECK_CASES: [number, number, number, number, { emb: number; l1: number; l2: number; l3: number }][] = [
  // seed, ctx, dim, hidden, shifts
  [1, 16, 16, 192, { emb: 5, l1: 8, l2: 9, l3: 9 }],
  [2, 3, 5, 70, { emb: 0, l1: 2, l2: 6, l3: 1 }], // negative shifts R1 = −2, R3 = −3: left shifts
  [3, 1, 1, 1, { emb: 6, l1: 6, l2: 3, l3: 8 }],
  [4, 7, 9, 256, { emb: 7, l1: 7, l2: 12, l3: 12 }],
];

export function checkContexts(ctx: number, R: number, seed: number): Uint8Array {
  const c = new Uint8Array(R * ctx);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < c.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    c[i] = x >>> 24;
  }
  return c;
}

export function cpuLogits(m: ByteMlpModel, contexts: Uint8Array, R: number): Int32Array {
  const net = new ByteMlpCpu(m);
  const out = new Int32Array(R * 256);
  for (let r = 0; r < R; r++) net.logits(contexts, r * m.ctx, out, r * 256);
  return out;
}

export const hashOf = (a: Int32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex')
    .slice(0, 16);

async function main(): Promise<void> {
  const gpu = await createGpu();
  const hashes: string[] = [];
  for (const [seed, ctx, dim, hidden, shifts] of CHECK_CASES) {
    const m = randomByteMlp(seed, ctx, dim, hidden, shifts);
    const R = 37;
    const w = ByteMlpWeights.upload(gpu, m);
    const b = new ByteMlpGpuBatch(gpu, w);
    hashes.push(hashOf(await b.logits(checkContexts(ctx, R, seed), R)));
    b.dispose();
    w.dispose();
  }
  console.log(JSON.stringify({ adapter: `${gpu.info.device} ${gpu.info.description}`.trim(), hashes }));
  gpu.destroy();
}

if (process.argv[1]?.endsWith('bytemlp-device-check.js')) await main();
