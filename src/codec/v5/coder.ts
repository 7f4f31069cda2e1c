// One record of a v5 file through the CM, with a fixed pretrained predictor's tables mixed in (or
// the CM alone). A record of L bytes is split into n = streams contiguous slices of S = ⌈L/n⌉ bytes;
// position p of every slice is coded before position p + 1 (one predictor call serves all n), slice
// by slice. The CM and the predictor's streams live for the whole file: they keep adapting (the CM)
// and keep their history (the predictor's stream s continues with slice s of the next record).
import { decodeByte, encodeByte, BitDecoder, BitEncoder, CmModel } from '../cm/index.js';
import { codeBits } from '../frequencies.js';
import { codecFail } from '../errors.js';
import type { BytePredictor, BytePrime, PredictorStreams } from '../predictor.js';
import { primedCm } from './prime.js';

/**
 * The CM mixer's starting weight (16.16) of the predictor's inputs: 0.5, where codec 4 starts every
 * input at 0.25. Measured (contended machine, sizes exact) with order-2 count doubles on the KJV,
 * vs the CM alone — 128 KiB whole / 4 pieces of 4 KiB each alone:
 *   weight 0.25: GPL-trained (mismatched) +0.51% / −2.08%, KJV-trained (held-out) +0.43% / −2.70%
 *   weight 0.5:  mismatched +0.58% / −2.81%, matched +0.44% / −3.72%
 *   weight 1.0:  mismatched +1.07% / −2.16%, matched +0.82% / −3.72%
 * (and on 1 KB GPL pieces 0.25 → 1262 B, 0.5 → 1228, 1.0 → 1215, 2.0 → 1266 for 3 pieces).
 * Part of the format: changing it changes every predictor file (the golden files say so).
 */
export const PREDICTOR_WEIGHT = 32768;

/** The state shared by every record of one file. */
export class RecordCoder {
  readonly cm: CmModel;
  private readonly ps: PredictorStreams | null;
  private readonly push: Int32Array;
  /** Σ −log2 p of the coded bytes under the mixed model, and under the predictor's tables alone. */
  bits = 0;
  modelBits = 0;

  constructor(
    readonly streams: number,
    predictor: BytePredictor | null,
    memoryLog2: number,
    /** The file's codec version: 6 refines with four APMs (CmOptions.refine), 5 with two. */
    version: 5 | 6 = 6,
    /** The CM to start from (a primed one: RecordCoder.open); default a fresh one. */
    cm?: CmModel,
  ) {
    this.cm = cm ?? new CmModel(streams, { memoryLog2, refine: version, ...(predictor ? { externalWeight: PREDICTOR_WEIGHT } : {}) });
    this.ps = predictor ? predictor.open(streams) : null;
    if (this.ps && this.ps.n !== streams) codecFail(`the predictor opened ${this.ps.n} streams, ${streams} were asked for`);
    this.push = new Int32Array(streams);
  }

  /**
   * The coder of a file: a fresh CM, or — when the predictor has a prime (a primed model file) — a
   * copy of the CM primed with it, whose table size is the prime's (memoryLog2 is then ignored).
   */
  static async open(streams: number, predictor: BytePredictor | null, memoryLog2: number, version: 5 | 6 = 6): Promise<RecordCoder> {
    if (!predictor?.prime) return new RecordCoder(streams, predictor, memoryLog2, version);
    const p = predictor as BytePredictor & { prime: BytePrime };
    const cm = await primedCm(p, { streams, refine: version, externalWeight: PREDICTOR_WEIGHT });
    return new RecordCoder(streams, predictor, p.prime.memoryLog2, version, cm);
  }

  private async tables(): Promise<Uint32Array[] | null> {
    if (!this.ps) return null;
    const t = await this.ps.next();
    if (!Array.isArray(t) || t.length !== this.streams)
      codecFail(`the predictor returned ${Array.isArray(t) ? t.length : typeof t} tables for ${this.streams} streams`);
    return t;
  }

  /** Codes one record; returns its arithmetic code. */
  async encode(raw: Uint8Array): Promise<Uint8Array> {
    const n = this.streams,
      S = Math.ceil(raw.length / n),
      enc = new BitEncoder();
    for (let p = 0; p < S; p++) {
      const t = await this.tables();
      for (let s = 0; s < n; s++) {
        const i = s * S + p;
        if (i >= raw.length) {
          this.push[s] = -1;
          continue;
        }
        const b = raw[i]!;
        const cum = t ? t[s]! : null;
        if (cum) this.modelBits += codeBits(cum, b);
        this.bits += encodeByte(this.cm, enc, s, b, cum);
        this.push[s] = b;
      }
      this.ps?.push(this.push);
    }
    return enc.finish();
  }

  /** Decodes one record of `length` bytes from its code (checks that the code ends where it should). */
  async decode(code: Uint8Array, length: number, where: string): Promise<Uint8Array> {
    const n = this.streams,
      S = Math.ceil(length / n),
      out = new Uint8Array(length),
      dec = new BitDecoder(code, where);
    for (let p = 0; p < S; p++) {
      const t = await this.tables();
      for (let s = 0; s < n; s++) {
        const i = s * S + p;
        if (i >= length) {
          this.push[s] = -1;
          continue;
        }
        const b = decodeByte(this.cm, dec, s, t ? t[s]! : null);
        out[i] = b;
        this.push[s] = b;
      }
      this.ps?.push(this.push);
    }
    dec.end();
    return out;
  }

  dispose(): void {
    this.ps?.dispose();
  }
}

/** The CM's table size: small inputs (known length) get small tables (fast to allocate), 2^16..2^22 bytes each. */
export function memoryFor(length: number | undefined): number {
  if (length === undefined) return 22;
  return Math.min(22, Math.max(16, Math.ceil(Math.log2(Math.max(1, length))) + 4));
}
