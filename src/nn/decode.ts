// Incremental decoding with a key/value cache: a language model compiled for ONE new token per
// step (batch 1). Each step embeds the token at position t (the position row is copied from the
// table on the GPU), runs every block on that single row — attention attends from it to the cached
// keys and values of positions 0..t (kernels/attention-decode.ts attentionDecode, which also appends this
// row's k and v) — and returns the next-byte logits (256) with one readback. The records are built
// once; a step writes the token and t, records the same dispatches and reads 1 KiB back.
// When t reaches the context T, decoding restarts from the last T/2 tokens (the positions are
// learned only up to T): the caches are refilled by feeding those tokens again.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { attentionDecode } from '../kernels/attention-decode.js';
import * as ew from '../kernels/elementwise.js';
import { embedding } from '../kernels/embedding.js';
import { layerNorm } from '../kernels/layernorm.js';
import * as mm from '../kernels/matmul.js';
import type { Network } from './network.js';
import { ModelError } from './model.js';

export class Decoder {
  private owned: Tensor[] = [];
  private records: Dispatch[] = [];
  private token!: Tensor;
  private position!: Tensor;
  private posRow!: Tensor;
  private logits!: Tensor;
  private readback!: GPUBuffer;
  private wpe?: { buffer: GPUBuffer; offset: number; C: number };
  /** Tokens in the cache (the next token's position). */
  private t = 0;
  /** The tokens fed so far in this cache window (for the restart at T). */
  private window: number[] = [];
  readonly T: number;

  private constructor(readonly net: Network) {
    this.T = net.spec.input[0]!;
  }

  static async create(net: Network): Promise<Decoder> {
    if (net.spec.task !== 'language') throw new ModelError(`decode: model '${net.spec.name}' is not a language model`);
    const d = new Decoder(net);
    try {
      await d.build();
    } catch (e) {
      d.dispose();
      throw e;
    }
    return d;
  }

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = createTensor(this.net.gpu, shape, undefined, { dtype, label });
    this.owned.push(t);
    return t;
  }

  private async build(): Promise<void> {
    const { gpu, arena, layers } = this.net;
    const W = (name: string) => arena.tensor('weights', `${name}.weight`);
    const b = (name: string) => arena.tensor('weights', `${name}.bias`);
    this.token = this.alloc([1], 'decode.token', 'u32');
    this.position = this.alloc([1], 'decode.position', 'u32');
    const values: Tensor[] = [];
    const rec = this.records;
    for (const l of layers) {
      const x = l.inputs.map((i) => values[i]!);
      const width = l.outShape[l.outShape.length - 1]!;
      let y: Tensor;
      switch (l.spec.kind) {
        case 'embedding': {
          y = this.alloc([1, width], `decode.${l.name}`);
          let pos: Tensor | undefined;
          if (l.fusedPositions) {
            const wpe = W(layers[l.consumers[0]!]!.name);
            this.wpe = { buffer: wpe.buffer, offset: wpe.offset, C: width };
            pos = this.posRow = this.alloc([1, width], 'decode.positionRow');
          }
          rec.push(...await embedding(gpu, this.token, W(l.name), pos, y));
          break;
        }
        case 'positions':
          y = x[0]!; // added by the embedding's lookup
          break;
        case 'layerNorm':
          y = this.alloc([1, width], `decode.${l.name}`);
          rec.push(...await layerNorm(gpu, x[0]!, W(l.name), b(l.name), y, this.alloc([1], `decode.${l.name}.mean`), this.alloc([1], `decode.${l.name}.rstd`)));
          break;
        case 'dense':
          y = this.alloc([1, width], `decode.${l.name}`);
          rec.push(...await mm.matmul(gpu, x[0]!, W(l.name), y, { bias: b(l.name), activation: l.fusedActivation ?? 'none' }));
          break;
        case 'attention': {
          if (l.spec.kind !== 'attention') throw new Error('unreachable');
          y = this.alloc([1, width], `decode.${l.name}`);
          const kCache = this.alloc([1, this.T, width], `decode.${l.name}.k`), vCache = this.alloc([1, this.T, width], `decode.${l.name}.v`);
          rec.push(...await attentionDecode(gpu, { qkv: x[0]!, kCache, vCache, position: this.position, out: y }, { H: l.spec.heads }));
          break;
        }
        case 'gelu':
          y = this.alloc([1, width], `decode.${l.name}`);
          rec.push(...await ew.gelu(gpu, x[0]!, y));
          break;
        case 'add':
          y = this.alloc([1, width], `decode.${l.name}`);
          rec.push(...await ew.add(gpu, x[0]!, x[1]!, y));
          break;
        case 'tiedHead': {
          if (l.spec.kind !== 'tiedHead') throw new Error('unreachable');
          y = this.alloc([1, width], `decode.${l.name}`);
          rec.push(...await mm.matmul(gpu, x[0]!, W(layers[l.spec.tie]!.name), y, { transposeB: true }));
          break;
        }
        default:
          throw new ModelError(`decode: layer '${l.name}' (${l.spec.kind}) has no decoding step`);
      }
      values.push(y);
    }
    this.logits = values[values.length - 1]!;
    this.readback = gpu.device.createBuffer({ label: 'decode.logits.readback', size: this.logits.size * 4, usage: 0x1 | 0x8 });
  }

  /** Forgets the cache (the next token is at position 0). */
  reset(): void {
    this.t = 0;
    this.window = [];
  }

  /** Feeds one token (a byte) and returns the logits of the next one (V values). */
  async step(token: number): Promise<Float32Array> {
    if (!Number.isInteger(token) || token < 0 || token > 255) throw new ModelError(`decode: token must be a byte value, got ${token}`);
    if (this.t >= this.T) {
      // the learned positions end at T: keep the last T/2 tokens and refill the cache with them
      const keep = this.window.slice(this.window.length - (this.T >> 1));
      this.reset();
      for (const k of keep) await this.run(k, false);
    }
    return (await this.run(token, true))!;
  }

  private async run(token: number, read: boolean): Promise<Float32Array | undefined> {
    const gpu = this.net.gpu;
    this.token.write(new Uint32Array([token]));
    this.position.write(new Uint32Array([this.t]));
    const enc = gpu.device.createCommandEncoder({ label: `decode t=${this.t}` });
    if (this.wpe) enc.copyBufferToBuffer(this.wpe.buffer, this.wpe.offset + this.t * this.wpe.C * 4, this.posRow.buffer, this.posRow.offset, this.wpe.C * 4);
    encodeDispatches(enc, this.records, 'decode');
    if (read) enc.copyBufferToBuffer(this.logits.buffer, this.logits.offset, this.readback, 0, this.logits.size * 4);
    gpu.device.queue.submit([enc.finish()]);
    this.t++;
    this.window.push(token);
    if (!read) return undefined;
    await this.readback.mapAsync(0x1);
    const out = new Float32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    gpu.check();
    return out;
  }

  dispose(): void {
    destroyDispatches(this.records);
    this.records = [];
    for (const t of this.owned) t.dispose();
    this.owned = [];
    this.readback?.destroy();
  }
}

/** Samples a byte from logits at `temperature` (0: argmax) with a uniform u in [0, 1). */
export function sampleLogits(logits: Float32Array, temperature: number, u: number): number {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ModelError(`sample: temperature must be a finite number ≥ 0, got ${temperature}`);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  const m = logits[best]!;
  const p = new Float64Array(logits.length);
  let s = 0;
  for (let i = 0; i < logits.length; i++) { p[i] = Math.exp((logits[i]! - m) / temperature); s += p[i]!; }
  let r = u * s;
  for (let i = 0; i < p.length; i++) { r -= p[i]!; if (r < 0) return i; }
  return best;
}
