// cluster: 1-D k-means weight sharing over the kept weights of one parameter view   (shaders/cluster.wgsl)
//   w, mask: (n) f32 (any shapes of n elements, e.g. the arena's weights/mask views of one layer)
//   assign:  (n) u32: the nearest centroid of each kept weight, CLUSTER.NONE for pruned ones
//   centroids: (K) f32, 1 ≤ K ≤ 256 (K = 2^bits); the scratch of one view: createClusterState.
//   clusterAssign   assign = nearest centroid (ties → lower index), NONE where mask = 0
//   clusterReduce   sums/counts[c] = Σ/# of values[i] with assign[i] = c (values: weights or
//                   gradients): per-workgroup partials (per-invocation slices of K accumulators
//                   in workgroup memory) then a combine pass: no float atomics
//   clusterUpdate   centroids[c] = sums[c] / counts[c] (an empty cluster keeps its centroid)
//   clusterSgd      centroids[c] −= lr · sums[c] (fine-tuning: sums = per-centroid gradient sums)
//   clusterApply    w = centroids[assign] where mask ≠ 0, exactly 0 elsewhere
//   kmeansIteration assign + reduce + update: one Lloyd iteration; record it L times into one
//                   encoder (no readback in between), then clusterAssign + clusterApply.
// The order of every addition is fixed (see shaders/cluster.wgsl), so the results are
// deterministic and src/reference/cluster.ts reproduces them.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, distinctBuffers, fail, finite, type TensorArg } from './args.js';

export const CLUSTER = {
  /** Workgroup size of the per-element passes (assign, apply) and the per-centroid passes. */
  WG: 256,
  /** Accumulators (f32 sum + u32 count each) per reduce_partial workgroup: 16 KiB of workgroup memory. */
  SLOTS: 2048,
  /** Elements per reduce_partial workgroup (one partial sum per centroid each). */
  CHUNK: 4096,
  MAX_K: 256,
  /** The assignment of a pruned weight. */
  NONE: 0xffffffff,
} as const;

const OP = 'cluster';

/**
 * Workgroup size of reduce_partial for K centroids: each invocation keeps a slice of K
 * accumulators, RWG·K ≤ SLOTS: 64 for K ≤ 32, 32 for K ≤ 64, 16 for K ≤ 128, 8 for K ≤ 256.
 */
export function clusterReduceWidth(K: number): number {
  let cap = 32;
  while (cap < K) cap *= 2;
  return Math.max(1, CLUSTER.SLOTS / cap);
}

function defines(rwg = 64) {
  return { WG: CLUSTER.WG, RWG: rwg, SLOTS: CLUSTER.SLOTS, CHUNK: CLUSTER.CHUNK };
}

/** Number of reduce_partial workgroups (chunks) for a view of n elements. */
export function clusterChunks(n: number): number {
  return Math.max(1, Math.ceil(n / CLUSTER.CHUNK));
}

/** The GPU scratch of one view: centroids, assignments, partial and final per-centroid sums. */
export interface ClusterState {
  /** f32 (K): the codebook. */
  centroids: Tensor<'f32'>;
  /** u32 (n). */
  assign: Tensor<'u32'>;
  /** f32 (chunks·K) and u32 (chunks·K). */
  partialSums: Tensor<'f32'>;
  partialCounts: Tensor<'u32'>;
  /** f32 (K) and u32 (K). */
  sums: Tensor<'f32'>;
  counts: Tensor<'u32'>;
  n: number;
  K: number;
  dispose(): void;
}

/** A state's codebook, read back, with the kept weights' indices packed in position order. */
export interface ReadCodebook {
  codebook: Float32Array;
  /** Index of each kept weight (mask ≠ 0), in position order. */
  assignments: Uint8Array;
  kept: number;
  /** Members per centroid. */
  counts: Uint32Array;
}

/**
 * Reads `state`'s codebook and assignments (one readback each) and packs the kept weights' indices
 * (kept = mask ≠ 0); `missing(i, a)` must throw: it is called for a kept weight i whose index a is
 * not a codebook entry (no assign pass ran over it).
 */
export async function readCodebook(state: ClusterState, mask: ArrayLike<number>, missing: (i: number, a: number) => never): Promise<ReadCodebook> {
  const [codebook, assign] = await Promise.all([state.centroids.read(), state.assign.read()]);
  const K = codebook.length;
  let kept = 0;
  for (let i = 0; i < assign.length; i++) if (mask[i] !== 0) kept++;
  const assignments = new Uint8Array(kept);
  const counts = new Uint32Array(K);
  let k = 0;
  for (let i = 0; i < assign.length; i++) {
    if (mask[i] === 0) continue;
    const a = assign[i]!;
    if (a >= K) missing(i, a);
    assignments[k++] = a;
    counts[a]!++;
  }
  return { codebook, assignments, kept, counts };
}

/** Allocates the scratch of a view of n elements with K centroids (optionally initialised). */
export function createClusterState(gpu: Gpu, n: number, K: number, opts: { centroids?: ArrayLike<number>; label?: string } = {}): ClusterState {
  if (!Number.isInteger(n) || n < 1) fail(OP, `n must be a positive integer, got ${n}`);
  if (!Number.isInteger(K) || K < 1 || K > CLUSTER.MAX_K) fail(OP, `K must be an integer in [1, ${CLUSTER.MAX_K}], got ${K}`);
  if (opts.centroids !== undefined && opts.centroids.length !== K) fail(OP, `centroids must hold K = ${K} values, got ${opts.centroids.length}`);
  const l = opts.label ?? 'cluster';
  const G = clusterChunks(n);
  const ts: Tensor[] = [];
  const mk = <D extends 'f32' | 'u32'>(shape: number[], dt: D, label: string, data?: ArrayLike<number>): Tensor<D> => {
    const t = createTensor<D>(gpu, shape, data, { dtype: dt, label });
    ts.push(t);
    return t;
  };
  try {
    return {
      centroids: mk([K], 'f32', `${l}.centroids`, opts.centroids),
      assign: mk([n], 'u32', `${l}.assign`),
      partialSums: mk([G * K], 'f32', `${l}.partialSums`),
      partialCounts: mk([G * K], 'u32', `${l}.partialCounts`),
      sums: mk([K], 'f32', `${l}.sums`),
      counts: mk([K], 'u32', `${l}.counts`),
      n,
      K,
      dispose() {
        for (const t of ts) t.dispose();
      },
    };
  } catch (e) {
    for (const t of ts) t.dispose();
    throw e;
  }
}

/** An operand bound in element ranges: `dt`, at an aligned offset, with `size` elements (`what`: like which) when given. */
function row(t: Tensor | undefined, dt: 'f32' | 'u32', size?: number, what?: string): TensorArg {
  return { t, dtype: dt, size, what: what && `(${what})`, aligned: true };
}

/** K, checked (as the operand's checkArgs `check`). The cluster kernels' buffer rules are their own (distinctBuffers). */
function centroidCount(t: Tensor, name = 'centroids'): number {
  if (t.size > CLUSTER.MAX_K) fail(OP, `${name} must hold K ≤ ${CLUSTER.MAX_K} values (K = 2^bits, bits ≤ 8), got ${t.size}`);
  return t.size;
}

function params(gpu: Gpu, n: number, K: number, lr = 0): GPUBuffer {
  return uniformParams(gpu, 'cluster.params', [
    ['u32', n],
    ['u32', K],
    ['u32', clusterChunks(n)],
    ['u32', 0],
    ['f32', lr],
    ['f32', 0],
    ['f32', 0],
    ['f32', 0],
  ]);
}

//                          0       1       2     3       4      5     6     7     8       9
type Slots = {
  vals?: Tensor;
  mask?: Tensor;
  asg?: Tensor;
  cent?: Tensor;
  psum?: Tensor;
  pcnt?: Tensor;
  sums?: Tensor;
  counts?: Tensor;
  wout?: Tensor;
};

async function record(
  gpu: Gpu,
  entry: string,
  label: string,
  uni: GPUBuffer,
  s: Slots,
  workgroups: readonly [number, number, number],
  rwg?: number,
): Promise<Dispatch> {
  const pipeline = await pipelines(gpu).get('cluster', defines(rwg), entry);
  return {
    label,
    pipeline,
    workgroups,
    owned: [uni],
    bindGroup: bindGroup(gpu, pipeline, label, [uni, s.vals, s.mask, s.asg, s.cent, s.psum, s.pcnt, s.sums, s.counts, s.wout]),
  };
}

export interface ClusterAssignArgs {
  /** (n) f32: the weights. */
  w: Tensor;
  /** (n) f32: 0 = pruned. */
  mask: Tensor;
  /** (K) f32. */
  centroids: Tensor;
  /** (n) u32, written. */
  assign: Tensor;
}

/** assign[i] = index of the centroid nearest to w[i] (ties → lower index); NONE where mask[i] = 0. */
export async function clusterAssign(gpu: Gpu, a: ClusterAssignArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'clusterAssign needs { w, mask, centroids, assign }');
  const n = a.w?.size;
  checkArgs(OP, {
    w: row(a.w, 'f32'),
    mask: row(a.mask, 'f32', n, 'like w'),
    assign: row(a.assign, 'u32', n, 'like w'),
    centroids: { ...row(a.centroids, 'f32'), check: centroidCount },
  });
  const K = a.centroids.size;
  distinctBuffers(OP, ['assign', a.assign], ['w', a.w]);
  distinctBuffers(OP, ['assign', a.assign], ['mask', a.mask]);
  distinctBuffers(OP, ['assign', a.assign], ['centroids', a.centroids]);
  distinctBuffers(OP, ['centroids', a.centroids], ['w', a.w]);
  distinctBuffers(OP, ['centroids', a.centroids], ['mask', a.mask]);
  return [
    await record(
      gpu,
      'assign_nearest',
      `cluster.assign n=${n} K=${K}`,
      params(gpu, n, K),
      { vals: a.w, mask: a.mask, asg: a.assign, cent: a.centroids },
      grid(gpu, Math.ceil(n / CLUSTER.WG)),
    ),
  ];
}

export interface ClusterReduceArgs {
  /** (n) f32: the weights (k-means) or their gradients (fine-tuning). */
  values: Tensor;
  /** (n) u32 from clusterAssign (NONE: not a member of any cluster). */
  assign: Tensor;
  /** f32 and u32 (≥ clusterChunks(n)·K): per-workgroup partials. */
  partialSums: Tensor;
  partialCounts: Tensor;
  /** f32 (K) and u32 (K): written. K is taken from sums. */
  sums: Tensor;
  counts: Tensor;
}

/** sums[c] = Σ values[i] and counts[c] = #i over the members i of cluster c (two dispatches). */
export async function clusterReduce(gpu: Gpu, a: ClusterReduceArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'clusterReduce needs { values, assign, partialSums, partialCounts, sums, counts }');
  const n = a.values?.size;
  checkArgs(OP, {
    values: row(a.values, 'f32'),
    assign: row(a.assign, 'u32', n, 'like values'),
    sums: { ...row(a.sums, 'f32'), check: (t) => centroidCount(t, 'sums') },
    counts: row(a.counts, 'u32', a.sums?.size, 'like sums'),
    partialSums: row(a.partialSums, 'f32'),
    partialCounts: row(a.partialCounts, 'u32'),
  });
  const K = a.sums.size;
  const G = clusterChunks(n);
  for (const [nm, t] of [
    ['partialSums', a.partialSums],
    ['partialCounts', a.partialCounts],
  ] as const) {
    if (t.size < G * K) fail(OP, `${nm} must hold at least chunks·K = ${G}·${K} = ${G * K} values for n = ${n}, got ${t.size}`);
  }
  distinctBuffers(OP, ['values', a.values], ['assign', a.assign], ['partialSums', a.partialSums], ['partialCounts', a.partialCounts]);
  distinctBuffers(OP, ['partialSums', a.partialSums], ['partialCounts', a.partialCounts], ['sums', a.sums], ['counts', a.counts]);
  const label = `cluster.reduce n=${n} K=${K}`;
  return [
    await record(
      gpu,
      'reduce_partial',
      `${label} partial`,
      params(gpu, n, K),
      { vals: a.values, asg: a.assign, psum: a.partialSums, pcnt: a.partialCounts },
      grid(gpu, G),
      clusterReduceWidth(K),
    ),
    await record(
      gpu,
      'reduce_combine',
      `${label} combine`,
      params(gpu, n, K),
      { psum: a.partialSums, pcnt: a.partialCounts, sums: a.sums, counts: a.counts },
      [1, 1, 1],
    ),
  ];
}

export interface ClusterUpdateArgs {
  centroids: Tensor;
  sums: Tensor;
  counts: Tensor;
}

/** centroids[c] = sums[c] / counts[c] where counts[c] > 0. */
export async function clusterUpdate(gpu: Gpu, a: ClusterUpdateArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'clusterUpdate needs { centroids, sums, counts }');
  const K0 = a.centroids?.size;
  checkArgs(
    OP,
    {
      centroids: { ...row(a.centroids, 'f32'), check: centroidCount },
      sums: row(a.sums, 'f32', K0, 'like centroids'),
      counts: row(a.counts, 'u32', K0, 'like centroids'),
    },
    { distinct: 'all' },
  );
  const K = a.centroids.size;
  return [
    await record(
      gpu,
      'update_centroids',
      `cluster.update K=${K}`,
      params(gpu, 1, K),
      { cent: a.centroids, sums: a.sums, counts: a.counts },
      [1, 1, 1],
    ),
  ];
}

export interface ClusterSgdArgs {
  centroids: Tensor;
  /** (K) f32: per-centroid gradient (the sum of its members' gradients, from clusterReduce). */
  grads: Tensor;
  lr: number;
}

/** centroids[c] −= lr · grads[c]. */
export async function clusterSgd(gpu: Gpu, a: ClusterSgdArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'clusterSgd needs { centroids, grads, lr }');
  checkArgs(
    OP,
    { centroids: { ...row(a.centroids, 'f32'), check: centroidCount }, grads: row(a.grads, 'f32', a.centroids?.size, 'like centroids') },
    { distinct: 'all' },
  );
  const K = a.centroids.size;
  finite(OP, 'lr', a.lr);
  return [await record(gpu, 'sgd_centroids', `cluster.sgd K=${K}`, params(gpu, 1, K, a.lr), { cent: a.centroids, sums: a.grads }, [1, 1, 1])];
}

export interface ClusterApplyArgs {
  /** (n) f32: the weights, written. */
  w: Tensor;
  mask: Tensor;
  assign: Tensor;
  centroids: Tensor;
}

/** w[i] = centroids[assign[i]] where mask[i] ≠ 0, else exactly 0. */
export async function clusterApply(gpu: Gpu, a: ClusterApplyArgs): Promise<Dispatch[]> {
  if (!a || typeof a !== 'object') fail(OP, 'clusterApply needs { w, mask, assign, centroids }');
  const n = a.w?.size;
  checkArgs(
    OP,
    {
      w: row(a.w, 'f32'),
      mask: row(a.mask, 'f32', n, 'like w'),
      assign: row(a.assign, 'u32', n, 'like w'),
      centroids: { ...row(a.centroids, 'f32'), check: centroidCount },
    },
    { distinct: 'all' },
  );
  const K = a.centroids.size;
  return [
    await record(
      gpu,
      'apply_codebook',
      `cluster.apply n=${n} K=${K}`,
      params(gpu, n, K),
      { mask: a.mask, asg: a.assign, cent: a.centroids, wout: a.w },
      grid(gpu, Math.ceil(n / CLUSTER.WG)),
    ),
  ];
}

/** One Lloyd iteration over a view: assign, reduce the weights per cluster, update the centroids. */
export async function kmeansIteration(gpu: Gpu, w: Tensor, mask: Tensor, s: ClusterState): Promise<Dispatch[]> {
  return [
    ...(await clusterAssign(gpu, { w, mask, centroids: s.centroids, assign: s.assign })),
    ...(await clusterReduce(gpu, {
      values: w,
      assign: s.assign,
      partialSums: s.partialSums,
      partialCounts: s.partialCounts,
      sums: s.sums,
      counts: s.counts,
    })),
    ...(await clusterUpdate(gpu, { centroids: s.centroids, sums: s.sums, counts: s.counts })),
  ];
}
