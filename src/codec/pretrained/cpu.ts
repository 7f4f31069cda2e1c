// BytePredictor on the plain-TypeScript integer path (Node and the browser; no GPU).
import type { BytePredictor, BytePrime, PredictorStreams } from '../predictor.js';
import { ByteMlpCpu, cumFromLogits, type ByteMlpModel } from './bytemlp.js';

/** The contexts of n streams: ctx bytes per stream, newest first, 0 before the start. */
export class Histories {
  readonly bytes: Uint8Array;

  constructor(
    readonly n: number,
    readonly ctx: number,
  ) {
    this.bytes = new Uint8Array(n * ctx);
  }

  push(bytes: Int32Array): void {
    if (bytes.length !== this.n) throw new RangeError(`push: expected ${this.n} bytes, got ${bytes.length}`);
    const { ctx } = this;
    for (let s = 0; s < this.n; s++) {
      const b = bytes[s]!;
      if (b < 0) continue;
      const o = s * ctx;
      this.bytes.copyWithin(o + 1, o, o + ctx - 1);
      this.bytes[o] = b & 255;
    }
  }
}

export class CpuPredictorStreams implements PredictorStreams {
  private readonly hist: Histories;
  private readonly logits: Int32Array;
  private readonly cum: Uint32Array[];
  private readonly out: Uint32Array[];

  constructor(
    private readonly net: ByteMlpCpu,
    readonly n: number,
  ) {
    this.hist = new Histories(n, net.model.ctx);
    this.logits = new Int32Array(256);
    const cum = new Uint32Array(n * 257);
    this.cum = Array.from({ length: n }, (_, s) => cum.subarray(s * 257, s * 257 + 257));
    this.out = new Array<Uint32Array>(n);
  }

  next(): Promise<Uint32Array[]> {
    return Promise.resolve(this.nextSync());
  }

  /** next() without the promise (the CPU path computes at once). */
  nextSync(): Uint32Array[] {
    // a fresh array of the same tables each call (the coder keeps nothing past the step)
    const out = this.out.slice();
    for (let s = 0; s < this.n; s++) {
      this.net.logits(this.hist.bytes, s * this.net.model.ctx, this.logits, 0);
      out[s] = cumFromLogits(this.logits, 0, this.cum[s]!);
    }
    return out;
  }

  push(bytes: Int32Array): void {
    this.hist.push(bytes);
  }

  dispose(): void {}
}

export class CpuBytePredictor implements BytePredictor {
  readonly net: ByteMlpCpu;

  constructor(
    readonly id: string,
    readonly name: string,
    model: ByteMlpModel,
    /** The model's prime (primed model files), or none. */
    readonly prime?: BytePrime,
  ) {
    this.net = new ByteMlpCpu(model);
  }

  open(n: number): CpuPredictorStreams {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`open: n must be a positive integer, got ${n}`);
    return new CpuPredictorStreams(this.net, n);
  }
}

/** A primed model's prime text with its model's tables on the CPU path (built on first use). */
export class CpuBytePrime implements BytePrime {
  private net: ByteMlpCpu | null = null;

  constructor(
    readonly text: Uint8Array,
    readonly cmOnly: number,
    readonly memoryLog2: number,
    private readonly model: ByteMlpModel,
  ) {}

  open(): CpuPredictorStreams {
    this.net ??= new ByteMlpCpu(this.model);
    return new CpuPredictorStreams(this.net, 1);
  }
}
