// The parameter arena: every trainable tensor lives in one flat GPU buffer (weights), with twins
// of the same layout for gradients, momentum and masks. Each parameter is a view at an offset
// aligned to the device's minStorageBufferOffsetAlignment. Prunable weights come first, biases
// after them, so one sgd-l2 dispatch applies L2 to [0, decayEnd) only; a checkpoint is one copy.
import type { Gpu } from '../gpu/device.js';
import { createTensor, readBuffer, Tensor, numel } from '../gpu/tensor.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  prunable: boolean;
}

export interface ParamView extends ParamSpec {
  /** Offset in elements. */
  offset: number;
  length: number;
}

export type ArenaPart = 'weights' | 'grads' | 'momentum' | 'mask' | 'variance';
/** The parts every arena has ('variance', AdamW's second moment, is created on demand by ensureVariance()). */
export const ARENA_PARTS: readonly ArenaPart[] = ['weights', 'grads', 'momentum', 'mask'];

export class Arena {
  readonly views = new Map<string, ParamView>();
  readonly size: number;
  /** Elements before this index carry L2 decay (the prunable weights). */
  readonly decayEnd: number;
  readonly parts: Record<Exclude<ArenaPart, 'variance'>, Tensor> & { variance?: Tensor };
  private viewCache = new Map<string, Tensor>();

  constructor(
    readonly gpu: Gpu,
    specs: ParamSpec[],
  ) {
    const align = Math.max(1, gpu.limits.minStorageBufferOffsetAlignment / 4);
    const ordered = [...specs.filter((s) => s.prunable), ...specs.filter((s) => !s.prunable)];
    let off = 0;
    let decayEnd = 0;
    for (const s of ordered) {
      off = Math.ceil(off / align) * align;
      if (this.views.has(s.name)) throw new Error(`arena: duplicate parameter '${s.name}'`);
      const length = numel(s.shape);
      this.views.set(s.name, { ...s, offset: off, length });
      off += length;
      if (s.prunable) decayEnd = off;
    }
    this.size = Math.max(off, 1);
    this.decayEnd = decayEnd;
    const mk = (part: ArenaPart) =>
      createTensor(gpu, [this.size], part === 'mask' ? new Float32Array(this.size).fill(1) : undefined, { label: `arena.${part}` });
    this.parts = { weights: mk('weights'), grads: mk('grads'), momentum: mk('momentum'), mask: mk('mask') };
  }

  /** AdamW's second-moment twin (zeros), created on first use; 'momentum' holds the first moment. */
  ensureVariance(): Tensor {
    this.parts.variance ??= createTensor(this.gpu, [this.size], undefined, { label: 'arena.variance' });
    return this.parts.variance;
  }

  private part(part: ArenaPart): Tensor {
    const t = part === 'variance' ? this.parts.variance : this.parts[part];
    if (!t) throw new Error(`arena: no '${part}' part (AdamW creates it)`);
    return t;
  }

  get paramCount(): number {
    let n = 0;
    for (const v of this.views.values()) n += v.length;
    return n;
  }

  view(name: string): ParamView {
    const v = this.views.get(name);
    if (!v) throw new Error(`arena: no parameter '${name}' (have ${[...this.views.keys()].join(', ')})`);
    return v;
  }

  /** A tensor view of parameter `name` in one part of the arena. */
  tensor(part: ArenaPart, name: string): Tensor {
    const key = `${part}:${name}`;
    let t = this.viewCache.get(key);
    if (!t) {
      const v = this.view(name);
      const whole = this.part(part);
      t = new Tensor(this.gpu, whole.buffer, v.shape, 'f32', v.offset * 4, false);
      this.viewCache.set(key, t);
    }
    return t;
  }

  prunable(): ParamView[] {
    return [...this.views.values()].filter((v) => v.prunable);
  }

  /** Writes `values[name]` into `part` for every name given. */
  write(part: ArenaPart, values: Map<string, Float32Array>): void {
    for (const [name, data] of values) {
      const v = this.view(name);
      if (data.length !== v.length) throw new Error(`arena: '${name}' needs ${v.length} values, got ${data.length}`);
      this.gpu.device.queue.writeBuffer(this.part(part).buffer, v.offset * 4, data.buffer, data.byteOffset, data.byteLength);
    }
  }

  /** Reads one part back, split per parameter. */
  async read(part: ArenaPart): Promise<Map<string, Float32Array>> {
    const all = new Float32Array(await readBuffer(this.gpu, this.part(part).buffer, 0, this.size * 4));
    const out = new Map<string, Float32Array>();
    for (const v of this.views.values()) out.set(v.name, all.slice(v.offset, v.offset + v.length));
    return out;
  }

  destroy(): void {
    for (const p of Object.values(this.parts)) p?.dispose();
    this.viewCache.clear();
  }
}
