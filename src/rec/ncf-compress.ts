// Deep Compression of rec:ncf: the embedding tables U (item inputs) and V (items) are pruned
// (+ masked fine-tuning), k-means shared and Huffman coded exactly as rec:mf's (src/rec/compress.ts);
// the MLP tower, the GMF weights and the item bias stay f32 (a few thousand values).
// The file is the `.slim.safetensors` format unchanged: its model is a graph of dense nodes that
// holds every tensor with its shape —
//   history (items → D: U, bias 0), item (D → items: Vᵀ, bias b), mlp1u (D → H1: W1u, bias c1),
//   mlp1v (D → H1: W1v, bias 0), mlp2 … mlpL (H_{l-1} → H_l: W_l, c_l), gmf (D → 1: hg, bias 0),
//   out (HL → 1: hm, bias 0),
// every node but `item`, `mlp1u`, `mlp1v` and `gmf` reading its predecessor or `history`. The graph stores NeuMF's
// tensors; it is not NeuMF's computation (the spec has no pairwise product), so read it with
// ncfFromFile (or python/slim_reader.py, which gives every tensor by name), not `slimgpu predict`.
import type { Gpu } from '../gpu/device.js';
import type { ModelSpec } from '../nn/model.js';
import type { WeightSharing } from '../compress/sharing.js';
import { compressedSizes, decodeCompressed, serializeCompressed } from '../io/format/index.js';
import { codebookOf, pruneMasks, shareTables, transpose, type RecCompressPlan, type StageRow, type TableSize } from './compress.js';
import type { MfModel } from './mf.js';
import { ncfSegments, type NcfModel } from './ncf.js';
import { rankNcf } from './ncf-rank.js';
import type { NcfTrained } from './ncf-run.js';

/** The file's model graph for rec:ncf-D-H… over nI items. */
export function ncfSpec(nI: number, D: number, hidden: number[]): ModelSpec {
  const L = hidden.length;
  const mlp = hidden.slice(1).map((h, l) => ({ kind: 'dense' as const, units: h, name: `mlp${l + 2}`, inputs: [l === 0 ? 2 : 3 + l] }));
  return {
    name: `rec:ncf-${D}-${hidden.join('-')}`,
    input: [nI],
    layers: [
      { kind: 'dense', units: D, name: 'history', inputs: [-1] },
      { kind: 'dense', units: nI, name: 'item', inputs: [0] },
      { kind: 'dense', units: hidden[0]!, name: 'mlp1u', inputs: [0] },
      { kind: 'dense', units: hidden[0]!, name: 'mlp1v', inputs: [0] },
      ...mlp,
      { kind: 'dense', units: 1, name: 'gmf', inputs: [0] },
      { kind: 'dense', units: 1, name: 'out', inputs: [L === 1 ? 2 : 3 + L - 1] },
    ],
    loss: 'softmax-ce',
    task: 'classification',
  };
}

/** The file's tensors by name from the model's tables (rest = [W1u … hm] as in the arena). */
function ncfValues(m: NcfModel, t: { U: Float32Array; V: Float32Array; b: Float32Array; rest: Float32Array }): Map<string, Float32Array> {
  const segs = ncfSegments(m.nI, m.D, m.hidden);
  const seg = (name: string) => {
    const s = segs.find((x) => x.name === name)!;
    const o = m.offsets[name]! - m.offsets.W1u;
    return t.rest.slice(o, o + s.shape.reduce((a, b) => a * b, 1));
  };
  const z = (n: number) => new Float32Array(n);
  const H1 = m.hidden[0]!;
  const v = new Map<string, Float32Array>([
    ['history.weight', t.U],
    ['history.bias', z(m.D)],
    ['item.weight', transpose(t.V, m.nI, m.D)],
    ['item.bias', t.b],
    ['mlp1u.weight', seg('W1u')],
    ['mlp1u.bias', seg('c1')],
    ['mlp1v.weight', seg('W1v')],
    ['mlp1v.bias', z(H1)],
  ]);
  m.hidden.slice(1).forEach((_, l) => {
    v.set(`mlp${l + 2}.weight`, seg(`W${l + 2}`));
    v.set(`mlp${l + 2}.bias`, seg(`c${l + 2}`));
  });
  v.set('gmf.weight', seg('hg'));
  v.set('gmf.bias', z(1));
  v.set('out.weight', seg('hm'));
  v.set('out.bias', z(1));
  return v;
}

/** U, V, b and the tower (arena order) from a decoded rec:ncf file. */
export function ncfFromFile(bytes: Uint8Array): {
  spec: ModelSpec;
  U: Float32Array;
  V: Float32Array;
  b: Float32Array;
  tower: Map<string, Float32Array>;
} {
  const d = decodeCompressed(bytes);
  const get = (k: string) => {
    const x = d.values.get(k);
    if (!x) throw new Error(`rec:ncf: the file has no tensor '${k}' (model '${d.spec.name}')`);
    return x;
  };
  const D = d.spec.layers[0]!.kind === 'dense' ? (d.spec.layers[0] as { units: number }).units : 0;
  const nI = d.spec.input[0]!;
  const tower = new Map([...d.values].filter(([k]) => !/^(history|item)\./.test(k)));
  return { spec: d.spec, U: get('history.weight'), V: transpose(get('item.weight'), D, nI), b: get('item.bias'), tower };
}

/** Encodes the model's current parameters (U, V masked and optionally shared) and checks the decode gives them back exactly. */
export async function exportNcf(m: NcfModel, maskCpu?: { U: Float32Array; V: Float32Array }, bits?: { U: number; V: number }) {
  const t = await m.readTables();
  const values = ncfValues(m, t);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const mU = maskCpu?.U ?? ones(t.U.length),
    mVt = maskCpu ? transpose(maskCpu.V, m.nI, m.D) : ones(t.V.length);
  const masks = new Map([
    ['history.weight', mU],
    ['item.weight', mVt],
  ]);
  const sharing: WeightSharing | undefined = bits && {
    init: 'linear',
    iterations: 0,
    layers: {
      history: codebookOf(t.U, mU, bits.U, 'history', 'history.weight', [m.nI, m.D]),
      item: codebookOf(values.get('item.weight')!, mVt, bits.V, 'item', 'item.weight', [m.D, m.nI]),
    },
  };
  const bytes = serializeCompressed({ spec: ncfSpec(m.nI, m.D, m.hidden), values, masks, sharing });
  const dec = decodeCompressed(bytes);
  for (const [k, v] of values) {
    const got = dec.values.get(k)!,
      mk = masks.get(k);
    for (let i = 0; i < v.length; i++) {
      const want = mk && mk[i] === 0 ? 0 : v[i]!;
      if (got[i] !== want) throw new Error(`rec:ncf: the exported file decodes ${k}[${i}] to ${got[i]}, the evaluated model holds ${want}`);
    }
  }
  const per = new Map(compressedSizes(bytes).layers.map((l) => [l.layer, l.indexBytes + l.valueBytes + l.codebookBytes]));
  const u = per.get('history')!,
    v = per.get('item')!;
  const tables: TableSize[] = [
    { table: 'U (item inputs)', params: t.U.length, kept: mU.reduce((a, b) => a + b, 0), bits: bits?.U ?? 32, bytes: u },
    { table: 'V (items)', params: t.V.length, kept: mVt.reduce((a, b) => a + b, 0), bits: bits?.V ?? 32, bytes: v },
    { table: 'b + tower + header', params: t.b.length + t.rest.length, kept: t.b.length + t.rest.length, bits: 32, bytes: bytes.length - u - v },
  ];
  return { bytes, tables };
}

/** dense fp32 → pruned (+ masked fine-tuning) → k-means shared; test HR/NDCG after each, the last row is the file's. */
export async function compressNcf(gpu: Gpu, t: NcfTrained, plan: RecCompressPlan, say: (l: string) => void = () => {}) {
  const m = t.model;
  const towerN = (await m.readTables()).rest.length;
  const dense = 4 * (2 * m.nI * m.D + m.nI) + 4 * towerN;
  const rows: StageRow[] = [];
  const add = (stage: string, tables: TableSize[], bytes: number, test: StageRow['test']) => {
    rows.push({ stage, tables, bytes, ratio: dense / bytes, test });
    say(
      `stage ${stage}: ${bytes} bytes (${(dense / bytes).toFixed(1)}× smaller than fp32 dense), test NDCG@10 ${test.ndcg.toFixed(4)} (${(100 * (test.ndcg / t.test.ndcg - 1)).toFixed(1)}%)`,
    );
  };
  const dt = (table: string, n: number) => ({ table, params: n, kept: n, bits: 32, bytes: 4 * n });
  add('dense fp32', [dt('U (item inputs)', m.nI * m.D), dt('V (items)', m.nI * m.D), dt('b + tower', m.nI + towerN)], dense, t.test);
  const { U, V } = await m.readTables();
  const masks = pruneMasks(U, V, t.split.popularity, m.D, plan);
  m.writeTables({ U: U.map((x, i) => x * masks.U[i]!), V: V.map((x, i) => x * masks.V[i]!) });
  m.resetOptimizer();
  await m.setMask(masks);
  m.setLr(plan.fineTuneLr);
  const t0 = performance.now();
  let best = { e: 0, ndcg: (await rankNcf(gpu, m, t.validUsers, 'valid')).ndcg, tables: await m.readTables() };
  for (let e = 1; e <= plan.fineTuneEpochs; e++) {
    await m.trainEpoch();
    const v = await rankNcf(gpu, m, t.validUsers, 'valid');
    if (v.ndcg > best.ndcg) best = { e, ndcg: v.ndcg, tables: await m.readTables() };
  }
  m.writeTables(best.tables);
  say(
    `pruned U ${(100 * plan.userSparsity).toFixed(0)}%, V ${(100 * plan.itemSparsity).toFixed(0)}%; masked fine-tuning: ${plan.fineTuneEpochs} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s, kept epoch ${best.e} (validation NDCG ${best.ndcg.toFixed(4)})`,
  );
  const pruned = await exportNcf(m, masks);
  const stage = `pruned ${(100 * plan.userSparsity).toFixed(0)}/${(100 * plan.itemSparsity).toFixed(0)}% + fine-tune`;
  add(stage, pruned.tables, pruned.bytes.length, await rankNcf(gpu, m, t.testUsers, 'test'));
  const bits = { U: plan.userBits, V: plan.itemBits };
  await shareTables(gpu, m as unknown as MfModel, bits, plan.iterations, masks);
  const shared = await exportNcf(m, masks, bits);
  add(`+ k-means ${bits.U}/${bits.V} bits, huffman`, shared.tables, shared.bytes.length, await rankNcf(gpu, m, t.testUsers, 'test'));
  return { rows, bytes: shared.bytes };
}
