// BytePredictor on a GPU: the WGSL integer path (shaders/bytemlp.wgsl), one dispatch per call of
// next() for all n streams (and batchLogits() for many positions at once, e.g. when encoding).
// Same bits as the CPU path (tests/bytemlp.test.ts).
import type { Gpu } from '../../gpu/device.js';
import { run } from '../../gpu/dispatch.js';
import { createTensor, type Tensor } from '../../gpu/tensor.js';
import { byteMlpForward, ByteMlpWeights } from '../../kernels/bytemlp.js';
import type { BytePredictor, BytePrime, PredictorStreams } from '../predictor.js';
import { cumFromLogits, type ByteMlpModel } from './bytemlp.js';
import { Histories } from './cpu.js';

/** Integer logits (R, 256) of R contexts (R × CTX bytes, newest first) on the GPU. */
export class ByteMlpGpuBatch {
  private rows: Tensor<'u32'> | null = null;
  private out: Tensor<'i32'> | null = null;
  private cap = 0;

  constructor(
    readonly gpu: Gpu,
    readonly weights: ByteMlpWeights,
  ) {}

  async logits(contexts: Uint8Array, R: number): Promise<Int32Array> {
    const ctx = this.weights.ctx;
    if (contexts.length < R * ctx) throw new RangeError(`bytemlp: ${R} rows need ${R * ctx} context bytes, got ${contexts.length}`);
    if (R > this.cap) {
      this.dispose();
      this.cap = R;
      this.rows = createTensor(this.gpu, [R, ctx], undefined, { dtype: 'u32', label: 'bytemlp.rows' });
      this.out = createTensor(this.gpu, [R, 256], undefined, { dtype: 'i32', label: 'bytemlp.out' });
    }
    const rows = this.rows!.reshape([this.cap, ctx]);
    const u = new Uint32Array(this.cap * ctx);
    for (let i = 0; i < R * ctx; i++) u[i] = contexts[i]!;
    rows.write(u);
    const d = await byteMlpForward(this.gpu, this.weights, rows, this.out!, R);
    await run(this.gpu, d);
    for (const x of d) for (const b of x.owned ?? []) b.destroy();
    const all = await this.out!.read();
    return all.subarray(0, R * 256);
  }

  dispose(): void {
    this.rows?.dispose();
    this.out?.dispose();
    this.rows = this.out = null;
    this.cap = 0;
  }
}

export class GpuPredictorStreams implements PredictorStreams {
  private readonly hist: Histories;
  private readonly batch: ByteMlpGpuBatch;
  private readonly cum: Uint32Array;

  constructor(
    gpu: Gpu,
    weights: ByteMlpWeights,
    readonly n: number,
  ) {
    this.hist = new Histories(n, weights.ctx);
    this.batch = new ByteMlpGpuBatch(gpu, weights);
    this.cum = new Uint32Array(n * 257);
  }

  async next(): Promise<Uint32Array[]> {
    const logits = await this.batch.logits(this.hist.bytes, this.n);
    const out: Uint32Array[] = [];
    for (let s = 0; s < this.n; s++) out.push(cumFromLogits(logits, s * 256, this.cum.subarray(s * 257, s * 257 + 257)));
    return out;
  }

  push(bytes: Int32Array): void {
    this.hist.push(bytes);
  }

  dispose(): void {
    this.batch.dispose();
  }
}

export class GpuBytePredictor implements BytePredictor {
  /** One GPU step serves every stream: large inputs are split into streams by default. */
  readonly batched = true;

  private constructor(
    readonly id: string,
    readonly name: string,
    readonly gpu: Gpu,
    readonly weights: ByteMlpWeights,
    /** The model's prime (primed model files): run on the CPU path, which gives the same bits. */
    readonly prime?: BytePrime,
  ) {}

  static create(gpu: Gpu, id: string, name: string, model: ByteMlpModel, prime?: BytePrime): GpuBytePredictor {
    return new GpuBytePredictor(id, name, gpu, ByteMlpWeights.upload(gpu, model), prime);
  }

  open(n: number): GpuPredictorStreams {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`open: n must be a positive integer, got ${n}`);
    return new GpuPredictorStreams(this.gpu, this.weights, n);
  }

  /** Many contexts at once (encoding knows every position's history up front). */
  batch(): ByteMlpGpuBatch {
    return new ByteMlpGpuBatch(this.gpu, this.weights);
  }
}
