// GPT decoding straight from the compressed file: no dense copy of any matrix. The weights are the
// file's compressed matrices on the GPU (src/kernels/spmm.ts: csr / bitmask / dense-with-codebook,
// b-bit codebook indices packed in u32): the token and position tables are read by `gather` (an
// embedding lookup decodes one row), the qkv, projection and MLP matrices and the tied head by
// `spmm`; only the layer norms' gains and biases are f32 vectors. A step is the dense decoder's
// (src/nn/decode.ts) with fewer dispatches: gelu is the MLP matrix's activation and each residual
// add is the epilogue of the projection before it (spmm's resid). Attention and the key/value
// caches are the dense decoder's kernel (attentionDecode). Batch 1; at the end of the context T,
// decoding restarts from the last T/2 tokens with one prefill pass, as Decoder does.
import type { Gpu } from '../gpu/device.js';
import { destroyDispatches, encodeDispatches, type Dispatch } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { attentionDecode } from '../kernels/attention-decode.js';
import * as ew from '../kernels/elementwise.js';
import { layerNorm } from '../kernels/layernorm.js';
import { gather, spmm, type GpuMatrix } from '../kernels/spmm.js';
import type { Activation } from '../reference/spmm.js';
import type { ModelSpec, ResolvedLayer } from '../nn/model.js';
import { ModelError } from '../nn/model.js';

/** The weights of a language model on the GPU, compressed: matrices by layer name, f32 vectors (layer norms) by parameter name. */
export interface LmWeights {
  matrices: ReadonlyMap<string, GpuMatrix>;
  vectors: ReadonlyMap<string, Tensor>;
}

interface Pass {
  records: Dispatch[];
  tokens: Tensor;
  logits: Tensor;
}

export class CompressedDecoder {
  private owned: Tensor[] = [];
  private stepPass!: Pass;
  private prefillPass?: Pass;
  private position!: Tensor;
  private readback!: GPUBuffer;
  private caches = new Map<number, [Tensor, Tensor]>();
  private window: number[] = [];
  private t = 0;
  readonly T: number;
  readonly P: number;

  private constructor(
    readonly gpu: Gpu,
    readonly spec: ModelSpec,
    private readonly layers: ResolvedLayer[],
    private readonly w: LmWeights,
  ) {
    this.T = spec.input[0]!;
    this.P = this.T >> 1;
  }

  static async create(gpu: Gpu, spec: ModelSpec, layers: ResolvedLayer[], w: LmWeights): Promise<CompressedDecoder> {
    const d = new CompressedDecoder(gpu, spec, layers, w);
    try {
      d.position = d.alloc([1], 'position', 'u32');
      for (const [i, l] of layers.entries()) {
        if (l.spec.kind === 'attention') d.caches.set(i, [d.alloc([1, d.T, l.outShape.at(-1)!], 'k'), d.alloc([1, d.T, l.outShape.at(-1)!], 'v')]);
      }
      d.stepPass = await d.buildPass(1);
      if (d.P > 0) d.prefillPass = await d.buildPass(d.P);
      d.readback = gpu.device.createBuffer({ label: 'cdecode.logits.readback', size: d.stepPass.logits.size * 4, usage: 0x1 | 0x8 });
    } catch (e) {
      d.dispose();
      throw e;
    }
    return d;
  }

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = createTensor(this.gpu, shape, undefined, { dtype, label: `cdecode.${label}` });
    this.owned.push(t);
    return t;
  }

  private matrix(name: string): GpuMatrix {
    const m = this.w.matrices.get(name);
    if (!m) throw new ModelError(`decode: layer '${name}' has no compressed matrix`);
    return m;
  }

  private vector(name: string): Tensor {
    const v = this.w.vectors.get(name);
    if (!v) throw new ModelError(`decode: parameter '${name}' is missing`);
    return v;
  }

  /** Records for n new tokens at positions t..t+n−1 (rows n). */
  private async buildPass(n: number): Promise<Pass> {
    const { gpu, layers } = this;
    const tokens = this.alloc([n], `tokens${n}`, 'u32');
    const rec: Dispatch[] = [];
    const values: Tensor[] = [];
    // layers computed as part of an earlier one (gelu as an activation, a residual add as an epilogue)
    const folded = new Map<number, number>();
    for (const [li, l] of layers.entries()) {
      const s = l.spec;
      const x = l.inputs.map((i) => values[i]!);
      const out = () => this.alloc([n, l.outShape.at(-1)!], `${l.name}.${n}`);
      if (folded.has(li)) {
        values.push(values[folded.get(li)!]!);
        continue;
      }
      let y: Tensor;
      switch (s.kind) {
        case 'embedding':
          y = out();
          rec.push(...(await gather(gpu, this.matrix(l.name), tokens, y, { B: n })));
          break;
        case 'positions':
          y = x[0]!;
          rec.push(...(await gather(gpu, this.matrix(l.name), this.position, y, { B: n, add: true, offset: true })));
          break;
        case 'layerNorm':
          y = out();
          rec.push(
            ...(await layerNorm(
              gpu,
              x[0]!,
              this.vector(`${l.name}.weight`),
              this.vector(`${l.name}.bias`),
              y,
              this.alloc([n], 'mean'),
              this.alloc([n], 'rstd'),
            )),
          );
          break;
        case 'dense':
          y = out();
          rec.push(...(await this.dense(li, x[0]!, y, n, values, folded)));
          break;
        case 'attention': {
          y = out();
          const [k, v] = this.caches.get(li)!;
          rec.push(...(await attentionDecode(gpu, { qkv: x[0]!, kCache: k, vCache: v, position: this.position, out: y }, { H: s.heads })));
          break;
        }
        case 'gelu':
          y = out();
          rec.push(...(await ew.gelu(gpu, x[0]!, y)));
          break;
        case 'add':
          y = out();
          rec.push(...(await ew.add(gpu, x[0]!, x[1]!, y)));
          break;
        case 'tiedHead':
          y = out();
          rec.push(...(await spmm(gpu, this.matrix(layers[s.tie]!.name), x[0]!, y, { B: n })));
          break;
        default:
          throw new ModelError(`decode: layer '${l.name}' (${s.kind}) has no compressed decoding step`);
      }
      values.push(y);
    }
    return { records: rec, tokens, logits: values[values.length - 1]! };
  }

  /** A dense layer: spmm with gelu as its activation or the residual add after it as its epilogue (recorded in `folded`). */
  private dense(li: number, x: Tensor, y: Tensor, n: number, values: Tensor[], folded: Map<number, number>): Promise<Dispatch[]> {
    const l = this.layers[li]!;
    const next = l.consumers.length === 1 ? this.layers[l.consumers[0]!] : undefined;
    let act = (l.fusedActivation ?? 'none') as Activation;
    let resid: Tensor | undefined;
    if (act === 'none' && next?.spec.kind === 'gelu') {
      act = 'gelu';
      folded.set(l.consumers[0]!, li);
    } else if (act === 'none' && next?.spec.kind === 'add') {
      const other = next.inputs.find((i) => i !== li);
      if (other !== undefined && other < li) {
        resid = values[other]!;
        folded.set(l.consumers[0]!, li);
      }
    }
    return spmm(this.gpu, this.matrix(l.name), x, y, { B: n, act, resid });
  }

  private run(p: Pass, tokens: Uint32Array, t: number, read: boolean): void {
    p.tokens.write(tokens);
    this.position.write(Uint32Array.of(t));
    const enc = this.gpu.device.createCommandEncoder({ label: `cdecode t=${t} n=${tokens.length}` });
    encodeDispatches(enc, p.records, 'cdecode');
    if (read) enc.copyBufferToBuffer(p.logits.buffer, p.logits.offset, this.readback, 0, p.logits.size * 4);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** Forgets the caches (the next token is at position 0). */
  reset(): void {
    this.t = 0;
    this.window = [];
  }

  /** Feeds one token (a byte) and returns the logits of the next one (256 values). */
  async step(token: number): Promise<Float32Array> {
    if (!Number.isInteger(token) || token < 0 || token > 255) throw new ModelError(`decode: token must be a byte value, got ${token}`);
    if (this.t >= this.T) {
      // the learned positions end at T: keep the last T/2 tokens and refill the caches with them
      this.window = this.window.slice(this.window.length - this.P);
      if (this.prefillPass) this.run(this.prefillPass, Uint32Array.from(this.window), 0, false);
      this.t = this.P;
    }
    this.window.push(token);
    this.run(this.stepPass, Uint32Array.of(token), this.t++, true);
    await this.readback.mapAsync(0x1);
    const out = new Float32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    this.gpu.check();
    return out;
  }

  dispose(): void {
    for (const p of [this.stepPass, this.prefillPass]) if (p) destroyDispatches(p.records);
    for (const t of this.owned) t.dispose();
    this.owned = [];
    this.readback?.destroy();
  }
}
