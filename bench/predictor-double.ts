// A deterministic BytePredictor double (tests and the bench's "double" rows; the shipped model is
// issue 22's pretrained one): fixed order-2 / order-1 / order-0 byte counts of a training text,
// turned into frequency tables by integer arithmetic only. Its id is made up (32 hex digits, with the
// CRC-32 of the training text in it), so a double trained on another text is another model.
import { crc32 } from '../src/codec/crc32.js';
import type { BytePredictor, PredictorStreams } from '../src/codec/predictor.js';

const SPREAD = 65536 - 256;

export class CountPredictor implements BytePredictor {
  readonly id: string;
  readonly name: string;
  private readonly c0 = new Uint32Array(256);
  private readonly c1 = new Uint32Array(256 * 256);
  private readonly c2 = new Map<number, Map<number, number>>();
  private readonly cache = new Map<number, Uint32Array>();
  /** Tables computed (distinct contexts), and calls of next() (all streams). */
  stats = { tables: 0, calls: 0, opened: 0 };

  /** `perturb` adds 1 to one order-0 count: the same id, slightly different tables (a model that differs). */
  constructor(train: Uint8Array, name = 'order-2 count double', perturb = false) {
    this.id = ('00d0' + crc32(train).toString(16).padStart(8, '0')).padEnd(32, '0');
    this.name = name;
    for (let i = 0; i < train.length; i++) {
      const s = train[i]!,
        a = i > 0 ? train[i - 1]! : 10,
        b = i > 1 ? train[i - 2]! : 10;
      this.c0[s]!++;
      this.c1[a * 256 + s]!++;
      const k = b * 256 + a;
      let m = this.c2.get(k);
      if (!m) this.c2.set(k, (m = new Map()));
      m.set(s, (m.get(s) ?? 0) + 1);
    }
    if (perturb) this.c0[32]!++;
  }

  /** The cum table after the two bytes b, a (a the last one). */
  table(b: number, a: number): Uint32Array {
    const key = b * 256 + a;
    let cum = this.cache.get(key);
    if (cum) return cum;
    this.stats.tables++;
    const f = new Array<number>(256);
    const m2 = this.c2.get(key);
    let total = 0,
      top = 0;
    for (let s = 0; s < 256; s++) {
      const v = 16 * (m2?.get(s) ?? 0) + 4 * this.c1[a * 256 + s]! + this.c0[s]! + 1;
      f[s] = v;
      total += v;
      if (v > f[top]!) top = s;
    }
    cum = new Uint32Array(257);
    let used = 0;
    for (let s = 0; s < 256; s++) {
      const q = 1 + Math.floor((f[s]! * SPREAD) / total); // f·SPREAD < 2^53: exact
      cum[s + 1] = q;
      used += q;
    }
    cum[top + 1]! += 65536 - used;
    for (let s = 0; s < 256; s++) cum[s + 1]! += cum[s]!;
    this.cache.set(key, cum);
    return cum;
  }

  open(n: number): PredictorStreams {
    if (!Number.isInteger(n) || n < 1) throw new Error(`CountPredictor.open: n must be a positive integer, got ${n}`);
    this.stats.opened++;
    const hist = new Int32Array(2 * n).fill(10);
    const stats = this.stats;
    const table = (a: number, b: number) => this.table(a, b);
    return {
      n,
      async next() {
        stats.calls++;
        return Array.from({ length: n }, (_, s) => table(hist[2 * s]!, hist[2 * s + 1]!));
      },
      push(bytes: Int32Array) {
        if (bytes.length !== n) throw new Error(`push: expected ${n} bytes, got ${bytes.length}`);
        for (let s = 0; s < n; s++) {
          if (bytes[s]! < 0) continue;
          hist[2 * s] = hist[2 * s + 1]!;
          hist[2 * s + 1] = bytes[s]!;
        }
      },
      dispose() {},
    };
  }
}
