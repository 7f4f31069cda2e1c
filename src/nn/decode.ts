// Incremental decoding with a key/value cache: a language model compiled for B streams (batch rows)
// that each take ONE new token per step. Each step embeds the B tokens at position t (the position
// row is copied from the table on the GPU), runs every block on those B rows — attention attends
// from each to its stream's cached keys and values of positions 0..t (kernels/attention-decode.ts
// attentionDecode, which also appends this row's k and v) — and returns the next-byte logits
// (B, 256) with one readback. A prefill feeds P known tokens per stream at positions 0..P−1 in one
// pass (B·P rows; only the layers the caches need run). Records for both are built once; a step
// writes the tokens and t, records the same dispatches and reads B KiB back.
//   KvDecoder: the batched core (the prequential codec: B streams, prefill P = T/2).
//   Decoder:   batch 1 for sampling; when t reaches the context T, decoding restarts from the last
//              T/2 tokens (the positions are learned only up to T) with one prefill.
// Arithmetic: each stream's rows are computed by the same kernels in the same order whatever the
// other streams hold (row-wise matmul, layer norm and attention), so a stream's logits depend only
// on its own tokens, bit for bit (tests/decode.test.ts).
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import type { GpuMatrix } from '../kernels/spmm.js';
import { layerKind, type LayerKindDef } from './layers/index.js';
import type { Network } from './network.js';
import { ModelError, type ResolvedLayer } from './model.js';

const defOf = (l: ResolvedLayer): LayerKindDef => layerKind(l.spec.kind)!;

export interface KvDecoderOptions {
  /** Streams decoded side by side (default 1). */
  batch?: number;
  /** Tokens per stream of a prefill (0: no prefill records; default 0). */
  prefill?: number;
  /**
   * Compressed weights (kernels/spmm.ts) by layer name: a dense layer found here multiplies with
   * its compressed Wᵀ, the tied head with the embedding's compressed table (bias 0), instead of
   * the arena's dense weights (io/compressed-model.ts builds them).
   */
  matrices?: ReadonlyMap<string, GpuMatrix>;
}

interface Pass {
  records: Dispatch[];
  tokens: Tensor;
  /** (n, C) position rows, copied from the table before each pass. */
  posRows?: Tensor;
  logits?: Tensor;
}

export class KvDecoder {
  private owned: Tensor[] = [];
  private stepPass!: Pass;
  private prefillPass?: Pass;
  private position!: Tensor;
  private readback!: GPUBuffer;
  private wpe?: { buffer: GPUBuffer; offset: number; C: number };
  private caches: Tensor[] = [];
  /** Tokens in the caches (the next token's position). */
  private t = 0;
  readonly T: number;
  readonly B: number;
  readonly P: number;
  readonly V: number;
  private readonly matrices?: ReadonlyMap<string, GpuMatrix>;

  private constructor(
    readonly net: Network,
    o: KvDecoderOptions,
  ) {
    this.matrices = o.matrices;
    this.T = net.spec.input[0]!;
    this.B = o.batch ?? 1;
    this.P = o.prefill ?? 0;
    this.V = net.layers[net.layers.length - 1]!.outShape.at(-1)!;
  }

  static async create(net: Network, o: KvDecoderOptions = {}): Promise<KvDecoder> {
    if (net.spec.task !== 'language') throw new ModelError(`decode: model '${net.spec.name}' is not a language model`);
    const T = net.spec.input[0]!;
    if (!Number.isInteger(o.batch ?? 1) || (o.batch ?? 1) < 1) throw new ModelError(`decode: batch must be a positive integer, got ${o.batch}`);
    if (!Number.isInteger(o.prefill ?? 0) || (o.prefill ?? 0) < 0 || (o.prefill ?? 0) >= T)
      throw new ModelError(`decode: prefill must be an integer in [0, ${T - 1}] (the context is ${T}), got ${o.prefill}`);
    const d = new KvDecoder(net, o);
    try {
      await d.build();
    } catch (e) {
      d.dispose();
      throw e;
    }
    return d;
  }

  /** The next token's position (tokens in the caches). */
  get cached(): number {
    return this.t;
  }

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = createTensor(this.net.gpu, shape, undefined, { dtype, label });
    this.owned.push(t);
    return t;
  }

  private async build(): Promise<void> {
    const { gpu, layers } = this.net;
    this.position = this.alloc([1], 'decode.position', 'u32');
    for (const l of layers) {
      if (!defOf(l).kvCache) {
        this.caches.push(undefined as unknown as Tensor, undefined as unknown as Tensor);
        continue;
      }
      const C = l.outShape.at(-1)!;
      this.caches.push(this.alloc([this.B, this.T, C], `decode.${l.name}.k`), this.alloc([this.B, this.T, C], `decode.${l.name}.v`));
    }
    this.stepPass = await this.buildPass(1, false);
    if (this.P > 0) this.prefillPass = await this.buildPass(this.P, true);
    const logits = this.stepPass.logits!;
    this.readback = gpu.device.createBuffer({ label: 'decode.logits.readback', size: logits.size * 4, usage: 0x1 | 0x8 });
  }

  /** Records for n new tokens per stream; a prefill keeps only what the caches need. */
  private async buildPass(n: number, prefill: boolean): Promise<Pass> {
    const { gpu, arena, layers } = this.net;
    const rows = this.B * n,
      tag = prefill ? 'prefill' : 'step';
    // layers whose output some attention layer needs (for a prefill: the rest is skipped)
    const needed = layers.map(() => !prefill);
    if (prefill) {
      for (let i = layers.length - 1; i >= 0; i--) {
        if (layers[i]!.consumers.some((c) => needed[c] || defOf(layers[c]!).kvCache)) needed[i] = true;
      }
    }
    const pass: Pass = { records: [], tokens: this.alloc([rows], `decode.${tag}.tokens`, 'u32') };
    const values: Tensor[] = [];
    for (const [li, l] of layers.entries()) {
      const def = defOf(l);
      if (!needed[li] && !def.kvCache) {
        values.push(undefined as unknown as Tensor);
        continue;
      }
      if (!def.decode) throw new ModelError(`decode: layer '${l.name}' (${l.spec.kind}) has no decoding step`);
      const width = l.outShape[l.outShape.length - 1]!;
      const y = await def.decode({
        gpu,
        layers,
        l,
        x: l.inputs.map((i) => values[i]!),
        n,
        rows,
        tokens: pass.tokens,
        needed: needed[li]!,
        rec: pass.records,
        out: () => this.alloc([rows, width], `decode.${tag}.${l.name}`),
        alloc: (shape, label, dtype) => this.alloc(shape, label, dtype),
        W: (name) => arena.tensor('weights', `${name}.weight`),
        bias: (name) => arena.tensor('weights', `${name}.bias`),
        matrices: this.matrices,
        kCache: this.caches[2 * li]!,
        vCache: this.caches[2 * li + 1]!,
        position: this.position,
        positionRows: (table) => {
          this.wpe = { buffer: table.buffer, offset: table.offset, C: width };
          return (pass.posRows = this.alloc([n, width], `decode.${tag}.positionRows`));
        },
      });
      values.push(y);
    }
    if (!prefill) pass.logits = values[values.length - 1]!;
    return pass;
  }

  /** Forgets the caches (the next token is at position 0). */
  reset(): void {
    this.t = 0;
  }

  /** Fills the caches with P known tokens per stream (B·P, stream-major) at positions 0..P−1; the next step is at P. */
  prefill(tokens: Uint32Array): void {
    const p = this.prefillPass;
    if (!p) throw new ModelError('decode: this decoder was built without prefill records (option prefill)');
    this.run(p, tokens, 0, this.P);
    this.t = this.P;
  }

  /** Feeds one token per stream (B values) at the next position; returns the logits (B, V) with one readback, or nothing when read = false. */
  async step(tokens: Uint32Array, read = true): Promise<Float32Array | undefined> {
    if (this.t >= this.T) throw new ModelError(`decode: the caches are full (${this.T} tokens, the context); reset or prefill first`);
    const logits = this.stepPass.logits!;
    this.run(this.stepPass, tokens, this.t, 1, read ? logits : undefined);
    this.t++;
    if (!read) return undefined;
    await this.readback.mapAsync(0x1);
    const out = new Float32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    this.net.gpu.check();
    return out;
  }

  private run(p: Pass, tokens: Uint32Array, t: number, n: number, read?: Tensor): void {
    const gpu: Gpu = this.net.gpu;
    if (!(tokens instanceof Uint32Array) || tokens.length !== this.B * n)
      throw new ModelError(
        `decode: tokens must be a Uint32Array of ${this.B}·${n} = ${this.B * n} values, got ${(tokens as { length?: number })?.length}`,
      );
    for (let i = 0; i < tokens.length; i++)
      if (tokens[i]! >= this.V) throw new ModelError(`decode: token ${i} is ${tokens[i]}, not a value below ${this.V}`);
    p.tokens.write(tokens);
    this.position.write(new Uint32Array([t]));
    const enc = gpu.device.createCommandEncoder({ label: `decode t=${t} n=${n}` });
    if (this.wpe && p.posRows)
      enc.copyBufferToBuffer(this.wpe.buffer, this.wpe.offset + t * this.wpe.C * 4, p.posRows.buffer, p.posRows.offset, n * this.wpe.C * 4);
    encodeDispatches(enc, p.records, 'decode');
    if (read) enc.copyBufferToBuffer(read.buffer, read.offset, this.readback, 0, read.size * 4);
    gpu.device.queue.submit([enc.finish()]);
  }

  dispose(): void {
    for (const p of [this.stepPass, this.prefillPass]) if (p) destroyDispatches(p.records);
    for (const t of this.owned) t.dispose();
    this.owned = [];
    this.readback?.destroy();
  }
}

/** Batch-1 decoding for sampling: feeds bytes one by one, restarting from the last T/2 at the context's end. */
export class Decoder {
  /** The tokens fed so far in this cache window (for the restart at T). */
  private window: number[] = [];
  private constructor(private readonly kv: KvDecoder) {}

  static async create(net: Network, matrices?: ReadonlyMap<string, GpuMatrix>): Promise<Decoder> {
    const T = net.spec.input[0]!;
    return new Decoder(await KvDecoder.create(net, { batch: 1, prefill: T >> 1, matrices }));
  }

  get T(): number {
    return this.kv.T;
  }

  /** Forgets the cache (the next token is at position 0). */
  reset(): void {
    this.kv.reset();
    this.window = [];
  }

  /** Feeds one token (a byte) and returns the logits of the next one (V values). */
  async step(token: number): Promise<Float32Array> {
    if (!Number.isInteger(token) || token < 0 || token > 255) throw new ModelError(`decode: token must be a byte value, got ${token}`);
    if (this.kv.cached >= this.T) {
      // the learned positions end at T: keep the last T/2 tokens and refill the cache with them
      this.window = this.window.slice(this.window.length - this.kv.P);
      if (this.kv.P > 0) this.kv.prefill(Uint32Array.from(this.window));
      else this.kv.reset();
    }
    this.window.push(token);
    return (await this.kv.step(Uint32Array.of(token)))!;
  }

  dispose(): void {
    this.kv.dispose();
  }
}

/** Samples a byte from logits at `temperature` (0: argmax) with a uniform u in [0, 1). */
export function sampleLogits(logits: Float32Array, temperature: number, u: number): number {
  if (!(temperature >= 0) || !Number.isFinite(temperature))
    throw new ModelError(`sample: temperature must be a finite number ≥ 0, got ${temperature}`);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  const m = logits[best]!;
  const p = new Float64Array(logits.length);
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp((logits[i]! - m) / temperature);
    s += p[i]!;
  }
  let r = u * s;
  for (let i = 0; i < p.length; i++) {
    r -= p[i]!;
    if (r < 0) return i;
  }
  return best;
}
