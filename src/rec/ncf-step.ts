// The dispatch records of one rec:ncf training step (src/rec/ncf.ts), built once per step of an
// epoch. Pair m of the batch (M = 2·B·K, per = 2K pairs per user row) is row m / per, item pitems[m].
//   forward:  A = multi-hot(user, dropout) → Ue = A·U → pairs sampled → P = Ue·W1u + c1, Q = V·W1v
//             → a1 = relu(P[row] + Q[item]) → a_l = relu(a_{l-1}·W_l + c_l) → G = Ue[row] ⊙ V[item]
//             → s = G·hg + a_L·hm + b[item] → BPR (ds, loss)
//   backward: dhg = Gᵀds, dhm = a_Lᵀds, dG = ds·hgᵀ, da_L = ds·hmᵀ → through the layers (ReLU,
//             matmuls, colsum) → dz1 → dP = per-row sums of dz1, dQ = per-item sums (the embedding
//             backward's deterministic sort) → dW1u = Ueᵀ·dP, dc1 = Σ dP, dW1v = Vᵀ·dQ →
//             dUe = dP·W1uᵀ + Σ_row dG ⊙ V[item] → dU = Aᵀ·dUe;  dV = dQ·W1vᵀ + Σ_item dG ⊙ Ue[row];
//             db = Σ_item ds.
import type { Dispatch } from '../gpu/dispatch.js';
import { createTensor, Tensor } from '../gpu/tensor.js';
import { reluBackward } from '../kernels/elementwise.js';
import { embeddingBackward } from '../kernels/embedding.js';
import { colsum, matmul } from '../kernels/matmul.js';
import { type Negatives, recBpr, recPairGmf, recPairMul, recPairRelu, recPairSample, recPairScore, recSegmentSum } from '../kernels/rec-pairs.js';
import { recMultiHot } from '../kernels/rec-softmax.js';
import type { Gpu } from '../gpu/device.js';
import type { RecSplit } from '../data/rec-split.js';

/** The tower's parameters, as views of an arena. */
export interface Tower<T> {
  W1u: T;
  W1v: T;
  c1: T;
  /** Layers 2..L: weight (H_{l-1}, H_l) and bias (H_l). */
  layers: { W: T; c: T }[];
  hg: T;
  hm: T;
}

/** What a step needs of the model (src/rec/ncf.ts's NcfModel). */
export interface StepModel {
  gpu: Gpu;
  split: RecSplit;
  B: number;
  K: number;
  nI: number;
  D: number;
  hidden: number[];
  steps: number;
  U: Tensor;
  V: Tensor;
  b: Tensor;
  tower: Tower<Tensor>;
  viewsOf(x: Tensor): { U: Tensor; V: Tensor; b: Tensor; tower: Tower<Tensor> };
}

export interface NcfScratch {
  rowptr: Tensor;
  items: Tensor;
  state: Tensor;
  A: Tensor;
  Ue: Tensor;
  P: Tensor;
  Q: Tensor;
  pitems: Tensor;
  act: Tensor[];
  dact: Tensor[];
  dz: Tensor[];
  G: Tensor;
  s: Tensor;
  ds: Tensor;
  dG: Tensor;
  dP: Tensor;
  dQ: Tensor;
  dUe: Tensor;
  dVp: Tensor;
  emb?: Tensor[];
  owned: Tensor[];
}

export interface StepContext {
  perm: Tensor;
  loss: Tensor;
  seeds: { drop: GPUBuffer; pairs: GPUBuffer };
  grad: Tensor;
  state: Tensor;
  drop: number;
  negatives: Negatives;
}

function makeScratch(m: StepModel, state: Tensor): NcfScratch {
  const { gpu, B, nI, D, hidden, split: sp } = m;
  const M = 2 * B * m.K;
  const owned: Tensor[] = [];
  const f = (shape: number[], label: string, data?: ArrayLike<number>, dtype: 'f32' | 'u32' = 'f32') => {
    const t = createTensor(gpu, shape, data, { dtype, label: `ncf.${label}` });
    owned.push(t);
    return t;
  };
  owned.push(state);
  const items = sp.trainItems.length ? sp.trainItems : [0];
  const per = (name: string) => hidden.map((h, l) => f([M, h], `${name}${l + 1}`));
  return {
    rowptr: f([sp.trainPtr.length], 'rowptr', sp.trainPtr, 'u32'),
    items: f([items.length], 'items', items, 'u32'),
    state,
    A: f([B, nI], 'A'),
    Ue: f([B, D], 'Ue'),
    P: f([B, hidden[0]!], 'P'),
    Q: f([nI, hidden[0]!], 'Q'),
    pitems: f([M], 'pitems', undefined, 'u32'),
    act: per('act'),
    dact: per('dact'),
    dz: per('dz'),
    G: f([M, D], 'G'),
    s: f([M], 's'),
    ds: f([M, 1], 'ds'),
    dG: f([M, D], 'dG'),
    dP: f([B, hidden[0]!], 'dP'),
    dQ: f([nI, hidden[0]!], 'dQ'),
    dUe: f([B, D], 'dUe'),
    dVp: f([M, D], 'dVp'),
    owned,
  };
}

/** The step records (without the optimizer update) and the scratch they use. */
export async function ncfStepRecords(m: StepModel, c: StepContext, old?: NcfScratch): Promise<{ steps: Dispatch[][]; scratch: NcfScratch }> {
  const sc = old ?? makeScratch(m, c.state);
  const steps: Dispatch[][] = [];
  for (let s = 0; s < m.steps; s++) steps.push([...(await forward(m, c, sc, s * m.B)), ...(await backward(m, c, sc))]);
  return { steps, scratch: sc };
}

async function forward(m: StepModel, c: StepContext, sc: NcfScratch, base: number): Promise<Dispatch[]> {
  const { gpu, B, K, nI } = m;
  const t = m.tower,
    per = 2 * K,
    L = m.hidden.length;
  const out: Dispatch[] = [
    ...(await recMultiHot(gpu, { perm: c.perm, rowptr: sc.rowptr, items: sc.items, out: sc.A, seed: c.seeds.drop, base, drop: c.drop })),
    ...(await matmul(gpu, sc.A, m.U, sc.Ue)),
    ...(await recPairSample(gpu, {
      perm: c.perm,
      rowptr: sc.rowptr,
      items: sc.items,
      pitems: sc.pitems,
      seed: c.seeds.pairs,
      R: B,
      K,
      N: nI,
      base,
      negatives: c.negatives,
    })),
    ...(await matmul(gpu, sc.Ue, t.W1u, sc.P, { bias: t.c1 })),
    ...(await matmul(gpu, m.V, t.W1v, sc.Q)),
    ...(await recPairRelu(gpu, { rows: sc.P, table: sc.Q, pitems: sc.pitems, out: sc.act[0]!, per })),
  ];
  for (let l = 1; l < L; l++)
    out.push(...(await matmul(gpu, sc.act[l - 1]!, t.layers[l - 1]!.W, sc.act[l]!, { bias: t.layers[l - 1]!.c, activation: 'relu' })));
  out.push(
    ...(await recPairGmf(gpu, { rows: sc.Ue, table: m.V, pitems: sc.pitems, out: sc.G, per })),
    ...(await recPairScore(gpu, { g: sc.G, hg: t.hg, a: sc.act[L - 1]!, hm: t.hm, bias: m.b, pitems: sc.pitems, out: sc.s, per })),
    ...(await recBpr(gpu, { scores: sc.s, pitems: sc.pitems, ds: sc.ds, loss: c.loss, R: B, K, N: nI, base, scale: 1 / B })),
  );
  return out;
}

async function backward(m: StepModel, c: StepContext, sc: NcfScratch): Promise<Dispatch[]> {
  const { gpu, K, nI, D } = m;
  const t = m.tower,
    g = m.viewsOf(c.grad),
    per = 2 * K,
    L = m.hidden.length,
    HL = m.hidden[L - 1]!;
  const row = (x: Tensor, n: number) => new Tensor<'f32'>(gpu, x.buffer, [1, n], 'f32', x.offset, false);
  const col = (x: Tensor, n: number) => new Tensor<'f32'>(gpu, x.buffer, [n, 1], 'f32', x.offset, false);
  const out: Dispatch[] = [
    ...(await matmul(gpu, sc.G, sc.ds, col(g.tower.hg, D), { transposeA: true })),
    ...(await matmul(gpu, sc.act[L - 1]!, sc.ds, col(g.tower.hm, HL), { transposeA: true })),
    ...(await matmul(gpu, sc.ds, row(t.hg, D), sc.dG)),
    ...(await matmul(gpu, sc.ds, row(t.hm, HL), sc.dact[L - 1]!)),
  ];
  for (let l = L - 1; l >= 1; l--) {
    const W = t.layers[l - 1]!.W,
      gl = g.tower.layers[l - 1]!;
    out.push(
      ...(await reluBackward(gpu, sc.act[l]!, sc.dact[l]!, sc.dz[l]!)),
      ...(await matmul(gpu, sc.act[l - 1]!, sc.dz[l]!, gl.W, { transposeA: true })),
      ...(await colsum(gpu, sc.dz[l]!, gl.c)),
      ...(await matmul(gpu, sc.dz[l]!, W, sc.dact[l - 1]!, { transposeB: true })),
    );
  }
  const emb = async (dout: Tensor, dtable: Tensor, accumulate = false) => {
    const plan = await embeddingBackward(gpu, { tokens: sc.pitems, dout, dtable, accumulate, scratch: sc.emb });
    if (!sc.emb) {
      sc.emb = plan.scratch;
      sc.owned.push(...plan.scratch);
    }
    return plan.dispatches;
  };
  out.push(
    ...(await reluBackward(gpu, sc.act[0]!, sc.dact[0]!, sc.dz[0]!)),
    ...(await recSegmentSum(gpu, { x: sc.dz[0]!, out: sc.dP, per, pitems: sc.pitems })),
    ...(await emb(sc.dz[0]!, sc.dQ)),
    ...(await matmul(gpu, sc.Ue, sc.dP, g.tower.W1u, { transposeA: true })),
    ...(await colsum(gpu, sc.dP, g.tower.c1)),
    ...(await matmul(gpu, m.V, sc.dQ, g.tower.W1v, { transposeA: true })),
    ...(await matmul(gpu, sc.dP, t.W1u, sc.dUe, { transposeB: true })),
    ...(await recSegmentSum(gpu, { x: sc.dG, out: sc.dUe, per, table: m.V, pitems: sc.pitems, accumulate: true })),
    ...(await matmul(gpu, sc.dQ, t.W1v, g.V, { transposeB: true })),
    ...(await recPairMul(gpu, { x: sc.dG, rows: sc.Ue, pitems: sc.pitems, out: sc.dVp, per, N: nI })),
    ...(await emb(sc.dVp, g.V, true)),
    ...(await emb(sc.ds, new Tensor<'f32'>(gpu, g.b.buffer, [nI, 1], 'f32', g.b.offset, false))),
    ...(await matmul(gpu, sc.A, sc.dUe, g.U, { transposeA: true })),
  );
  return out;
}
