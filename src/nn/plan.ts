// The step plan: a model compiled once for a batch size into dispatch records.
//   train step = prepare · gather · forward · loss · backward · [top-k masks] · sgd_l2 · advance
//   eval step  = gather · forward · loss (statistics only) · advance
// Every buffer (activations, gradients, statistics, per-step tables) is allocated here, once;
// recording a step is a loop over prebuilt records (no allocation, no CPU readback).
import type { Gpu } from '../gpu/device.js';
import type { Dispatch } from '../gpu/dispatch.js';
import { destroyDispatches } from '../gpu/dispatch.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import * as conv from '../kernels/conv2d.js';
import * as ew from '../kernels/elementwise.js';
import * as loss from '../kernels/loss.js';
import * as mm from '../kernels/matmul.js';
import * as pool from '../kernels/pool.js';
import { sgdL2 } from '../kernels/sgd_l2.js';
import { advanceStep, gatherBatch, prepareStep } from '../kernels/step.js';
import { topkMask } from '../kernels/topk_mask.js';
import type { Arena } from './arena.js';
import type { ModelSpec, ResolvedLayer } from './model.js';

/** A data set on the GPU (uploaded once). */
export interface DeviceData {
  /** (n, D) samples: bytes packed 4 per u32 when `bytes`, else f32. */
  inputs: Tensor;
  bytes: boolean;
  n: number;
  D: number;
  /** Classification labels u32[n]. */
  labels?: Tensor;
  /** Regression targets f32 (n, T). */
  targets?: Tensor;
  T?: number;
  /** Normalisation applied by the gather kernel: x·scale + shift. */
  scale: number;
  shift: number;
}

/** Pruning groups: each is one top-k over a list of parameter views with its own k. */
export interface PruneGroup {
  names: string[];
  k: Tensor;
  total: number;
}

interface Node {
  layer: ResolvedLayer;
  x: Tensor;
  y: Tensor;
  /** Gradient of the loss with respect to y. */
  gy?: Tensor;
  argmax?: Tensor;
  dz?: Tensor;
}

export const TABLE_CAP = 256;

export class StepPlan {
  readonly state: Tensor;
  readonly table: Tensor;
  readonly hyper: Tensor;
  readonly stats: Tensor;
  readonly perm: Tensor;
  /** Records of one training step without / with the mask refresh. */
  train: Dispatch[] = [];
  trainPrune: Dispatch[] = [];
  /** Records of one evaluation step. */
  evalStep: Dispatch[] = [];
  output!: Tensor;
  input!: Tensor;
  pruneGroups: PruneGroup[] = [];
  private owned: Tensor[] = [];
  private records: Dispatch[][] = [];

  private constructor(readonly gpu: Gpu, readonly B: number, readonly data: DeviceData) {
    const mk = (shape: number[], dtype: 'f32' | 'u32', label: string, init?: ArrayLike<number>) => {
      const t = createTensor(gpu, shape, init, { dtype, label });
      this.owned.push(t);
      return t;
    };
    this.state = mk([4], 'u32', 'plan.state');
    this.table = mk([TABLE_CAP * 4], 'f32', 'plan.table');
    this.hyper = mk([4], 'f32', 'plan.hyper');
    this.stats = mk([loss.LOSS_STATS.size], 'f32', 'plan.stats');
    this.perm = mk([data.n], 'u32', 'plan.perm', Uint32Array.from({ length: data.n }, (_, i) => i));
  }

  private alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = createTensor(this.gpu, shape, undefined, { dtype, label });
    this.owned.push(t);
    return t;
  }

  /**
   * Compiles `layers` (weights in `arena`) for batch size B on `data`.
   * `prune`: the pruning groups (views + k buffer) for the mask refresh; empty for dense training.
   */
  static async build(
    gpu: Gpu, spec: ModelSpec, layers: ResolvedLayer[], arena: Arena, data: DeviceData, B: number,
    opts: { prune?: { names: string[] }[]; train?: boolean } = {},
  ): Promise<StepPlan> {
    const plan = new StepPlan(gpu, B, data);
    try {
      await plan.compile(spec, layers, arena, opts);
    } catch (e) {
      plan.destroy();
      throw e;
    }
    return plan;
  }

  private async compile(spec: ModelSpec, layers: ResolvedLayer[], arena: Arena, opts: { prune?: { names: string[] }[]; train?: boolean }): Promise<void> {
    const { gpu, B, data } = this;
    const train = opts.train ?? true;
    const D = data.D;
    if (D !== spec.input.reduce((a, b) => a * b, 1)) throw new Error(`plan: data has ${D} features per sample, model '${spec.name}' expects [${spec.input}]`);
    const x0 = this.alloc([B, ...spec.input], 'batch.x');
    this.input = x0;
    const gather: Dispatch[] = [];
    let labels: Tensor | undefined;
    let target: Tensor | undefined;
    if (spec.task === 'classification') {
      if (!data.labels) throw new Error(`plan: model '${spec.name}' needs labels`);
      labels = this.alloc([B], 'batch.labels', 'u32');
      gather.push(...await gatherBatch(gpu, { state: this.state, perm: this.perm, data: data.inputs, bytes: data.bytes, n: data.n, D, out: x0.reshape([B * D]), scale: data.scale, shift: data.shift, labels: data.labels, outLabels: labels }));
    } else {
      gather.push(...await gatherBatch(gpu, { state: this.state, perm: this.perm, data: data.inputs, bytes: data.bytes, n: data.n, D, out: x0.reshape([B * D]), scale: data.scale, shift: data.shift }));
      if (spec.task === 'autoencoder') target = x0;
      else {
        if (!data.targets || !data.T) throw new Error(`plan: model '${spec.name}' needs regression targets`);
        target = this.alloc([B, data.T], 'batch.target');
        gather.push(...await gatherBatch(gpu, { state: this.state, perm: this.perm, data: data.targets, bytes: false, n: data.n, D: data.T, out: target.reshape([B * data.T]), scale: 1, shift: 0 }));
      }
    }

    // forward nodes (a relu fused into the layer before it is not a node)
    const nodes: Node[] = [];
    const forward: Dispatch[] = [];
    let x = x0;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if (l.spec.kind === 'relu' && i > 0 && layers[i - 1]!.fusedActivation === 'relu') continue;
      const outShape = [B, ...l.outShape];
      const node: Node = { layer: l, x, y: x };
      switch (l.spec.kind) {
        case 'dense': {
          node.y = this.alloc(outShape, `${l.name}.y`);
          const x2 = x.reshape([B, l.weightShape![0]!]);
          forward.push(...await mm.matmul(gpu, x2, arena.tensor('weights', `${l.name}.weight`), node.y, { bias: arena.tensor('weights', `${l.name}.bias`), activation: l.fusedActivation ?? 'none' }));
          break;
        }
        case 'conv2d': {
          node.y = this.alloc(outShape, `${l.name}.y`);
          forward.push(...await conv.conv2d(gpu, x, arena.tensor('weights', `${l.name}.weight`), node.y, { bias: arena.tensor('weights', `${l.name}.bias`), stride: l.spec.stride ?? 1, padding: l.spec.padding ?? 0, activation: l.fusedActivation ?? 'none' }));
          break;
        }
        case 'maxPool2d': {
          node.y = this.alloc(outShape, `${l.name}.y`);
          node.argmax = this.alloc(outShape, `${l.name}.argmax`, 'u32');
          const k = l.spec.size ?? 2;
          forward.push(...await pool.maxPool2d(gpu, x, node.y, node.argmax, { kernel: k, stride: l.spec.stride ?? k }));
          break;
        }
        case 'flatten':
          node.y = x.reshape(outShape);
          break;
        case 'relu':
        case 'sigmoid':
        case 'tanh': {
          node.y = this.alloc(outShape, `${l.name}.y`);
          const fn = l.spec.kind === 'relu' ? ew.relu : l.spec.kind === 'sigmoid' ? ew.sigmoid : ew.tanh;
          forward.push(...await fn(gpu, x, node.y));
          break;
        }
      }
      nodes.push(node);
      x = node.y;
    }
    const out = x;
    this.output = out;

    // loss: fused forward + backward; statistics accumulate on the GPU
    const gOut = this.alloc(out.shape as number[], 'loss.grad');
    const lossRecords = spec.loss === 'softmax-ce'
      ? await loss.softmaxCrossEntropy(gpu, out.reshape([B, out.size / B]), labels!, gOut.reshape([B, out.size / B]), this.stats)
      : await loss.mse(gpu, out.reshape([B, out.size / B]), target!.reshape([B, out.size / B]), gOut.reshape([B, out.size / B]), this.stats);

    // every step (eval too) advances the GPU step counter, so the next step gathers the next batch
    const adv = await advanceStep(gpu, this.state);
    this.evalStep = [...gather, ...forward, ...lossRecords, ...adv];
    this.records.push(this.evalStep);
    if (!train) return;

    // backward, in reverse; gradients of weights go to the arena's gradient views
    const backward: Dispatch[] = [];
    nodes[nodes.length - 1]!.gy = gOut;
    for (let j = nodes.length - 1; j >= 0; j--) {
      const n = nodes[j]!;
      const l = n.layer;
      const gy = n.gy!;
      const needInput = j > 0 && nodes.slice(0, j).some((p) => p.layer.weightShape);
      let gx: Tensor | undefined;
      if (j > 0) {
        gx = l.spec.kind === 'flatten' ? gy.reshape(n.x.shape as number[]) : this.alloc(n.x.shape as number[], `${l.name}.gx`);
        nodes[j - 1]!.gy = gx;
      }
      switch (l.spec.kind) {
        case 'dense':
        case 'conv2d': {
          let dz = gy;
          if (l.fusedActivation === 'relu') {
            dz = this.alloc(gy.shape as number[], `${l.name}.dz`);
            backward.push(...await ew.reluBackward(gpu, n.y, gy, dz));
          }
          const W = arena.tensor('weights', `${l.name}.weight`);
          const dW = arena.tensor('grads', `${l.name}.weight`);
          const db = arena.tensor('grads', `${l.name}.bias`);
          if (l.spec.kind === 'dense') {
            const inD = l.weightShape![0]!;
            const x2 = n.x.reshape([B, inD]);
            backward.push(...await mm.matmul(gpu, x2, dz, dW, { transposeA: true }));
            backward.push(...await mm.colsum(gpu, dz, db));
            if (gx && needInput) backward.push(...await mm.matmul(gpu, dz, W, gx.reshape([B, inD]), { transposeB: true }));
          } else {
            const geo = { stride: l.spec.stride ?? 1, padding: l.spec.padding ?? 0 };
            backward.push(...await conv.conv2dBackwardFilter(gpu, n.x, dz, dW, geo));
            backward.push(...await conv.conv2dBiasGrad(gpu, dz, db));
            if (gx && needInput) backward.push(...await conv.conv2dBackwardData(gpu, dz, W, gx, geo));
          }
          break;
        }
        case 'maxPool2d': {
          const k = l.spec.size ?? 2;
          if (gx && needInput) backward.push(...await pool.maxPool2dBackward(gpu, gy, n.argmax!, gx, { kernel: k, stride: l.spec.stride ?? k }));
          break;
        }
        case 'flatten':
          break;
        case 'relu':
          if (gx && needInput) backward.push(...await ew.reluBackward(gpu, n.y, gy, gx));
          break;
        case 'sigmoid':
          if (gx && needInput) backward.push(...await ew.sigmoidBackward(gpu, n.y, gy, gx));
          break;
        case 'tanh':
          if (gx && needInput) backward.push(...await ew.tanhBackward(gpu, n.y, gy, gx));
          break;
      }
    }

    // mask refresh: one top-k per pruning group, k read from the group's buffer
    const prune: Dispatch[] = [];
    let scratch: Tensor[] | undefined;
    for (const g of opts.prune ?? []) {
      const views = g.names.map((nm) => arena.view(nm));
      const total = views.reduce((s, v) => s + v.length, 0);
      const k = this.alloc([1], `prune.k[${g.names.join(',')}]`, 'u32');
      const r = await topkMask(gpu, { weights: arena.parts.weights, mask: arena.parts.mask, views: views.map((v) => ({ offset: v.offset, length: v.length })), k, scratch });
      if (!scratch) { scratch = r.scratch; this.owned.push(...r.scratch); }
      prune.push(...r.dispatches);
      this.pruneGroups.push({ names: g.names, k, total });
    }

    const update = await sgdL2(gpu, { w: arena.parts.weights, g: arena.parts.grads, v: arena.parts.momentum, mask: arena.parts.mask }, this.hyper, { decayEnd: arena.decayEnd });
    const prep = await prepareStep(gpu, { state: this.state, table: this.table, hyper: this.hyper });
    this.train = [...prep, ...gather, ...forward, ...lossRecords, ...backward, ...update, ...adv];
    this.trainPrune = [...prep, ...gather, ...forward, ...lossRecords, ...backward, ...prune, ...update, ...adv];
    this.records.push(prep, backward, prune, update);
  }

  /** Sets the GPU step counter and the step at which `perm` starts. */
  setStep(step: number, permStart: number): void {
    this.gpu.device.queue.writeBuffer(this.state.buffer, 0, new Uint32Array([step, permStart, 0, 0]));
  }

  setPermutation(perm: Uint32Array): void {
    if (perm.length !== this.data.n) throw new Error(`plan: permutation must hold ${this.data.n} indices, got ${perm.length}`);
    this.gpu.device.queue.writeBuffer(this.perm.buffer, 0, perm.buffer, perm.byteOffset, perm.byteLength);
  }

  /** Writes table rows (lr, momentum, l2) for steps [from, from + rows.length). */
  setHyperRows(from: number, rows: [number, number, number][]): void {
    if (rows.length > TABLE_CAP) throw new Error(`plan: at most ${TABLE_CAP} table rows at once`);
    const buf = new Float32Array(TABLE_CAP * 4);
    // rows may wrap around the ring: write the whole ring once
    for (let i = 0; i < rows.length; i++) {
      const r = ((from + i) % TABLE_CAP) * 4;
      buf.set([...rows[i]!, 0], r);
    }
    this.gpu.device.queue.writeBuffer(this.table.buffer, 0, buf);
  }

  setPruneK(values: number[]): void {
    values.forEach((k, i) => this.gpu.device.queue.writeBuffer(this.pruneGroups[i]!.k.buffer, 0, new Uint32Array([k])));
  }

  destroy(): void {
    for (const r of this.records) destroyDispatches(r);
    this.records = [];
    for (const t of this.owned) t.dispose();
    this.owned = [];
  }
}
