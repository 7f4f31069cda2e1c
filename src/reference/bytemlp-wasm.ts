// The bytemlp CPU path's inner loop in WebAssembly SIMD (Node ≥ 16.4 and every current browser):
// axpy(acc, w, stride, idx, val, n, len) adds, for k < n, column idx[k] of w (stride bytes apart)
// times val[k] to acc[0..len) — i32x4 lanes, wrapping i32 arithmetic, which is exact here because
// every sum stays below 2^25 (the bound in bytemlp.ts). All arguments are byte addresses/lengths
// into the module's own memory; len is a positive multiple of 64. The module is written out below as
// its binary (no toolchain); the WAT it encodes is
//   (func (export "axpy") (param $acc $w $stride $idx $val $n $len i32) (local $col $a i32) (local $v v128) (local $end i32)
//     block  (br_if 0 (i32.eqz $n))  $end = $acc + $len
//       loop  $col = $w + load($idx)·$stride;  $v = i32x4.splat(load($val));  $a = $acc
//         loop  for u in 0..3: store($a+16u, i32x4.add(load($a+16u), i32x4.mul(load($col+16u), $v)))
//               $col += 64;  br_if 0 (($a += 64) <u $end)  end
//         $idx += 4;  $val += 4;  br_if 0 ($n -= 1)  end  end)
// (memory (export "mem") 1)

const hex = (s: string) =>
  s
    .trim()
    .split(/\s+/)
    .map((x) => parseInt(x, 16));
const BODY = hex(`
  03 02 7f 01 7b 01 7f  02 40 20 05 45 0d 00  20 00 20 06 6a 21 0a  03 40
  20 01 20 03 28 02 00 20 02 6c 6a 21 07  20 04 28 02 00 fd 11 21 09  20 00 21 08  03 40
  20 08 20 08 fd 00 04 00 20 07 fd 00 04 00 20 09 fd b5 01 fd ae 01 fd 0b 04 00
  20 08 20 08 fd 00 04 10 20 07 fd 00 04 10 20 09 fd b5 01 fd ae 01 fd 0b 04 10
  20 08 20 08 fd 00 04 20 20 07 fd 00 04 20 20 09 fd b5 01 fd ae 01 fd 0b 04 20
  20 08 20 08 fd 00 04 30 20 07 fd 00 04 30 20 09 fd b5 01 fd ae 01 fd 0b 04 30
  20 07 41 c0 00 6a 21 07  20 08 41 c0 00 6a 22 08 20 0a 49 0d 00  0b
  20 03 41 04 6a 21 03  20 04 41 04 6a 21 04  20 05 41 01 6b 22 05 0d 00  0b  0b  0b`);

const leb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 127;
    n >>>= 7;
    if (n) b |= 128;
    o.push(b);
  } while (n);
  return o;
};
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
  ...section(1, [1, 0x60, 7, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type: (7 × i32) → ()
  ...section(3, [1, 0]), // one function of type 0
  ...section(5, [1, 0, 1]), // memory: 1 page to start
  ...section(7, [2, 4, ...ascii('axpy'), 0, 0, 3, ...ascii('mem'), 2, 0]),
  ...section(10, [1, ...leb(BODY.length), ...BODY]),
]);

export type Axpy = (acc: number, w: number, stride: number, idx: number, val: number, n: number, len: number) => void;

/** One instance (its own memory), or null where WebAssembly SIMD is missing (the caller falls back to JS). */
export function wasmAxpy(bytes: number): { axpy: Axpy; memory: WebAssembly.Memory } | null {
  const wa = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (!wa) return null;
  try {
    const inst = new wa.Instance(new wa.Module(MODULE));
    const memory = inst.exports.mem as WebAssembly.Memory;
    const pages = Math.ceil(bytes / 65536);
    if (pages > 1) memory.grow(pages - 1);
    return { axpy: inst.exports.axpy as Axpy, memory };
  } catch {
    return null;
  }
}

/** What the WebAssembly forward pass needs of the model (bytemlp.ts passes it; no import cycle). */
export interface WasmForwardModel {
  ctx: number;
  hidden: number;
  w2: Int32Array;
  w3: Int32Array;
  b1: Int32Array;
  b2: Int32Array;
  b3: Int32Array;
}

/**
 * bytemlp's integer forward pass with the matrix-vector products in WebAssembly SIMD: layer 1 sums
 * the CTX table columns of the context's bytes, layers 2 and 3 add the columns of the nonzero
 * activations only. Same integers as the row-major definition (tests/bytemlp-cpu.test.ts).
 */
export class WasmForward {
  private readonly i32: Int32Array;
  private readonly h1: Int32Array;

  private constructor(
    private readonly m: WasmForwardModel,
    private readonly sh: { r1: number; s2: number; r3: number },
    private readonly axpy: Axpy,
    memory: WebAssembly.Memory,
    private readonly at: { t: number; w2: number; w3: number; a1: number; a2: number; a3: number; idx: number; val: number; hp: number },
  ) {
    this.i32 = new Int32Array(memory.buffer);
    this.h1 = new Int32Array(m.hidden);
  }

  /** null where WebAssembly SIMD is unavailable. tables: bytemlp.ts layer1Tables (CTX·256 rows of H). */
  static create(m: WasmForwardModel, tables: Int32Array, sh: { r1: number; s2: number; r3: number }): WasmForward | null {
    const H = m.hidden,
      hp = (H + 15) & ~15,
      L = Math.max(m.ctx, H);
    let end = 0;
    const take = (ints: number) => {
      const o = end;
      end += ((ints + 3) & ~3) * 4;
      return o;
    };
    const at = {
      t: take(m.ctx * 256 * hp),
      w2: take(H * hp),
      w3: take(H * 256),
      a1: take(hp),
      a2: take(hp),
      a3: take(256),
      idx: take(L),
      val: take(L),
      hp,
    };
    const w = wasmAxpy(end);
    if (!w) return null;
    const i32 = new Int32Array(w.memory.buffer);
    for (let r = 0; r < m.ctx * 256; r++) i32.set(tables.subarray(r * H, r * H + H), at.t / 4 + r * hp);
    for (let j = 0; j < H; j++) for (let i = 0; i < H; i++) i32[at.w2 / 4 + i * hp + j] = m.w2[j * H + i]!;
    for (let k = 0; k < 256; k++) for (let i = 0; i < H; i++) i32[at.w3 / 4 + i * 256 + k] = m.w3[k * H + i]!;
    return new WasmForward(m, sh, w.axpy, w.memory, at);
  }

  logits(ctxBytes: ArrayLike<number>, off: number, out: Int32Array, o: number): void {
    const { i32, h1, at, axpy } = this;
    const { hidden: H, ctx } = this.m;
    const { r1, s2, r3 } = this.sh;
    const a1 = at.a1 >> 2,
      a2 = at.a2 >> 2,
      a3 = at.a3 >> 2,
      idx = at.idx >> 2,
      val = at.val >> 2,
      stride = at.hp * 4;
    i32.set(this.m.b1, a1);
    for (let p = 0; p < ctx; p++) {
      i32[idx + p] = p * 256 + ctxBytes[off + p]!;
      i32[val + p] = 1;
    }
    axpy(at.a1, at.t, stride, at.idx, at.val, ctx, stride);
    let n = 0;
    for (let j = 0; j < H; j++) {
      const a = i32[a1 + j]!;
      const v = r1 >= 0 ? a >> r1 : a << -r1;
      const c = v < 0 ? 0 : v > 255 ? 255 : v;
      h1[j] = c;
      if (c !== 0) {
        i32[idx + n] = j;
        i32[val + n++] = c;
      }
    }
    i32.set(this.m.b2, a2);
    axpy(at.a2, at.w2, stride, at.idx, at.val, n, stride);
    n = 0;
    for (let j = 0; j < H; j++) {
      const a = i32[a2 + j]!;
      const v = h1[j]! + (a > 0 ? a >> s2 : 0);
      const c = v > 255 ? 255 : v;
      if (c !== 0) {
        i32[idx + n] = j;
        i32[val + n++] = c;
      }
    }
    i32.set(this.m.b3, a3);
    axpy(at.a3, at.w3, 1024, at.idx, at.val, n, 1024);
    for (let k = 0; k < 256; k++) {
      const a = i32[a3 + k]!;
      out[o + k] = r3 >= 0 ? a >> r3 : a << -r3;
    }
  }
}
