// The bytemlp kernel wrapper's argument checks (src/kernels/args.ts checkArgs): each bad operand is
// an ArgumentError naming the op and the argument.
import { describe, expect, it } from 'vitest';
import { createTensor } from '../src/gpu/tensor.js';
import { ArgumentError } from '../src/kernels/args.js';
import { byteMlpForward, ByteMlpWeights } from '../src/kernels/bytemlp.js';
import { randomByteMlp } from '../src/reference/bytemlp.js';
import { testGpu } from './helpers.js';

describe('bytemlp kernel arguments', () => {
  it('names the op and the operand', async () => {
    const gpu = await testGpu();
    const w = ByteMlpWeights.upload(gpu, randomByteMlp(1, 4, 4, 8));
    const rows = createTensor(gpu, [2, 4], new Uint32Array(8), { dtype: 'u32' });
    const flat = createTensor(gpu, [8], new Uint32Array(8), { dtype: 'u32' });
    const rowsF = createTensor(gpu, [2, 4], new Float32Array(8));
    const wide = createTensor(gpu, [2, 5], new Uint32Array(10), { dtype: 'u32' });
    const out = createTensor(gpu, [2, 256], new Int32Array(512), { dtype: 'i32' });
    const outF = createTensor(gpu, [2, 256], new Float32Array(512));
    await expect(byteMlpForward(gpu, w, flat, out, 2)).rejects.toThrow(/slimgpu\.bytemlp: rows must be 2-D \(R, CTX\)/);
    await expect(byteMlpForward(gpu, w, rowsF, out, 2)).rejects.toThrow(/rows must have dtype u32/);
    await expect(byteMlpForward(gpu, w, rows, outF, 2)).rejects.toThrow(/out must have dtype i32/);
    await expect(byteMlpForward(gpu, w, wide, out, 2)).rejects.toThrow(/rows must have 4 columns/);
    await expect(byteMlpForward(gpu, w, rows, out, 3)).rejects.toThrow(ArgumentError);
    const ok = await byteMlpForward(gpu, w, rows, out, 2);
    expect(ok.length).toBe(1);
    for (const d of ok) for (const b of d.owned ?? []) b.destroy();
    for (const t of [rows, flat, rowsF, wide, out, outF]) t.dispose();
    w.dispose();
  });
});
