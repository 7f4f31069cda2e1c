// The graph's shared types: the context a node compiles in, what a node's forward kept for its
// backward, and the backward pass's gradient bookkeeping (graph.ts and the node files use them).
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';
import * as ew from '../kernels/elementwise.js';
import type { Arena } from './arena.js';
import { ModelError, type ResolvedLayer } from './spec.js';

export interface GraphContext {
  gpu: Gpu;
  /** Samples per batch (rows of a language model: B·T). */
  B: number;
  arena: Arena;
  alloc(shape: number[], label: string, dtype?: 'f32' | 'u32'): Tensor;
  /** Keeps scratch tensors a kernel wrapper allocated (freed with the plan). */
  keep(tensors: Tensor[]): void;
}

/** What a node's forward kept for its backward. */
export interface NodeState {
  layer: ResolvedLayer;
  /** Input tensors, in `inputs` order. */
  x: Tensor[];
  y: Tensor;
  /** Extra saved tensors (argmax, norm statistics, attention softmax ...). */
  saved: Record<string, Tensor>;
  /** Skipped: a relu fused into the node it reads. */
  fused?: boolean;
}

/** A gradient target: write into `t` when `accumulate` is false, else add to it. */
export interface GradTarget {
  t: Tensor;
  accumulate: boolean;
}

/**
 * The backward pass's bookkeeping: gradient buffers of values and parameters and whether a
 * contribution writes or accumulates. `emit(target, write)` runs a kernel that can only write: it
 * writes straight into the target the first time, into a scratch buffer + axpy after that.
 */
export class Grads {
  private values = new Map<number, Tensor>();
  /** Values whose gradient buffer is each buffer (for the alias check). */
  private sharing = new Map<GPUBuffer, Set<number>>();
  private params = new Set<string>();
  private scratch = new Map<string, Tensor>();
  current = Infinity;

  constructor(
    private ctx: GraphContext,
    private nodes: NodeState[],
  ) {}

  /** Value i's gradient (undefined when nothing flowed into it). */
  of(i: number): Tensor | undefined {
    return this.values.get(i);
  }

  private own(i: number, t: Tensor): void {
    this.values.set(i, t);
    let s = this.sharing.get(t.buffer);
    if (!s) this.sharing.set(t.buffer, (s = new Set()));
    s.add(i);
  }

  /** Where a contribution to value i's gradient goes (allocating it on the first one). */
  value(i: number, label: string): GradTarget {
    const g = this.values.get(i);
    if (g) {
      this.checkAlias(i, g);
      return { t: g, accumulate: true };
    }
    const t = this.ctx.alloc([this.ctx.B, ...this.nodes[i]!.layer.outShape], label);
    this.own(i, t);
    return { t, accumulate: false };
  }

  /** Contributes `g` itself to value i (an alias on the first contribution: add, flatten). */
  async alias(i: number, g: Tensor): Promise<Dispatch[]> {
    const shape = [this.ctx.B, ...this.nodes[i]!.layer.outShape];
    const cur = this.values.get(i);
    if (!cur) {
      this.own(i, g.reshape(shape));
      return [];
    }
    this.checkAlias(i, cur);
    return ew.axpy(this.ctx.gpu, 1, g.reshape(shape), cur);
  }

  /** Where a contribution to parameter `name`'s gradient goes (the arena's gradient view). */
  param(name: string): GradTarget {
    const first = !this.params.has(name);
    this.params.add(name);
    return { t: this.ctx.arena.tensor('grads', name), accumulate: !first };
  }

  /** Runs `write(dst)`; on an accumulating target dst is a scratch buffer added to the target after. */
  async emit(target: GradTarget, write: (dst: Tensor) => Promise<Dispatch[]>): Promise<Dispatch[]> {
    if (!target.accumulate) return write(target.t);
    const key = `${target.t.shape.join('x')}`;
    let s = this.scratch.get(key);
    if (!s) this.scratch.set(key, (s = this.ctx.alloc([...target.t.shape], `grad.scratch[${key}]`)));
    return [...(await write(s)), ...(await ew.axpy(this.ctx.gpu, 1, s, target.t))];
  }

  /** Accumulating into `g` is safe only when no unprocessed node still reads a value sharing it. */
  private checkAlias(i: number, g: Tensor): void {
    for (const v of this.sharing.get(g.buffer) ?? []) {
      if (v !== i && v <= this.current && v >= 0 && !this.nodes[v]!.fused) {
        throw new ModelError(
          `graph: the gradients of '${this.nodes[i]!.layer.name}' and '${this.nodes[v]!.layer.name}' share a buffer that is still read; this graph shape is not supported`,
        );
      }
    }
  }
}
