// Deep Compression of rec:seq — the networks' path, since rec:seq is a GPT network: per matrix
// magnitude pruning (the item table wte at --item-sparsity, its rows of rare items whole with
// --rare-items; every other matrix — wpe, c_attn, c_proj, c_fc: the network that turns a
// history into a user vector — at --user-sparsity), masked fine-tuning (AdamW keeps pruned
// weights at 0; the epoch with the best validation NDCG is kept, 0 = none), k-means sharing of
// every matrix (compress/sharing.ts shareWeights: wte at --item-bits, the others at --user-bits;
// biases and layer norms stay f32) and the `.slim.safetensors` export (io/export.ts, the format
// unchanged: the GPT spec with the item vocabulary). The file is loaded back (loadCompressed), must
// give back exactly the evaluated weights, and the last row's metrics are the loaded file's.
import type { Gpu } from '../gpu/device.js';
import { shareWeights } from '../compress/sharing.js';
import { compressedSizes, exportCompressed, loadCompressed } from '../io/export.js';
import type { Network } from '../nn/network.js';
import { magnitudeMask, type RecCompressPlan, type StageRow, type TableSize } from './compress.js';
import type { Metrics } from './eval.js';
import { rankSeq, SeqRanker } from './seq-rank.js';
import { formatStages } from './stages.js';
import type { SeqTrained } from './seq-run.js';

const ITEMS = 'wte';

/** Bytes of the item table, of the other matrices and the rest (biases, norms, header) in a file. */
function fileTables(bytes: Uint8Array, net: Network): TableSize[] {
  const s = compressedSizes(bytes);
  const of = (l: (typeof s.layers)[number]) => l.indexBytes + l.valueBytes + l.codebookBytes;
  const it = s.layers.find((l) => l.layer === ITEMS)!;
  const matrices = new Set(net.layers.filter((l) => l.weightShape && l.name !== ITEMS).map((l) => l.name));
  const others = s.layers.filter((l) => matrices.has(l.layer));
  const netBytes = others.reduce((a, l) => a + of(l), 0);
  const restParams = [...net.arena.views.values()].filter((v) => !v.prunable).reduce((a, v) => a + v.length, 0);
  return [
    {
      table: 'network (wpe, attention, MLP)',
      params: others.reduce((a, l) => a + l.params, 0),
      kept: others.reduce((a, l) => a + l.kept, 0),
      bits: Math.max(0, ...others.map((l) => l.bits)),
      bytes: netBytes,
    },
    { table: 'E (items, wte)', params: it.params, kept: it.kept, bits: it.bits, bytes: of(it) },
    { table: 'biases, norms + header', params: restParams, kept: restParams, bits: 32, bytes: s.fileBytes - netBytes - of(it) },
  ];
}

/** The pruning masks of the current weights (see the file comment). */
export async function seqMasks(net: Network, popularity: Uint32Array, plan: RecCompressPlan): Promise<Map<string, Float32Array>> {
  const w = await net.arena.read('weights');
  const masks = new Map<string, Float32Array>();
  for (const v of net.arena.prunable()) {
    const vals = w.get(v.name)!;
    const items = v.name === `${ITEMS}.weight`;
    const s = items ? plan.itemSparsity : plan.userSparsity;
    const D = v.shape[1]!;
    const allowed =
      items && plan.rareItems > 0
        ? (i: number) => Math.floor(i / D) >= popularity.length || popularity[Math.floor(i / D)]! >= plan.rareItems
        : undefined;
    masks.set(v.name, magnitudeMask(vals, Math.round((1 - s) * vals.length), allowed));
  }
  return masks;
}

/** The stages (dense → pruned + fine-tuned → shared, exported, loaded back), each with the test HR/NDCG. */
export async function compressSeq(
  gpu: Gpu,
  t: SeqTrained,
  plan: RecCompressPlan,
  say: (l: string) => void = () => {},
): Promise<{ rows: StageRow[]; bytes: Uint8Array }> {
  const m = t.model;
  const net = m.net;
  const dense = 4 * net.paramCount;
  const rows: StageRow[] = [];
  const add = (stage: string, tables: TableSize[], bytes: number, test: Metrics) => {
    rows.push({ stage, tables, bytes, ratio: dense / bytes, test });
    say(
      `stage ${stage}: ${bytes} bytes (${(dense / bytes).toFixed(1)}× smaller than fp32 dense), test NDCG@10 ${test.ndcg.toFixed(4)} (${(100 * (test.ndcg / t.test.ndcg - 1)).toFixed(1)}%)`,
    );
  };
  const denseTables = fileTables(await exportCompressed(net), net).map((x) => ({ ...x, bytes: 4 * x.params, bits: 32 }));
  add('dense fp32', denseTables, dense, t.test);

  await m.setMasks(await seqMasks(net, t.split.popularity, plan));
  m.resetOptimizer();
  m.setLr(plan.fineTuneLr);
  const t0 = performance.now();
  const ranker = await SeqRanker.create(net, t.split, t.validUsers, 'valid');
  let best = { e: 0, ndcg: 0, params: await m.readParams() };
  try {
    best.ndcg = (await ranker.metrics()).ndcg;
    for (let e = 1; e <= plan.fineTuneEpochs; e++) {
      await m.trainEpoch();
      const v = await ranker.metrics();
      if (v.ndcg > best.ndcg) best = { e, ndcg: v.ndcg, params: await m.readParams() };
    }
  } finally {
    ranker.dispose();
  }
  await m.writeParams(best.params);
  const pct = (x: number) => (100 * x).toFixed(0);
  say(
    `pruned E ${pct(plan.itemSparsity)}%${plan.rareItems > 0 ? ` (items seen < ${plan.rareItems} times: whole rows)` : ''}, the other matrices ${pct(plan.userSparsity)}%; masked fine-tuning: ${plan.fineTuneEpochs} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s, kept epoch ${best.e} (validation NDCG ${best.ndcg.toFixed(4)})`,
  );
  const pruned = await exportCompressed(net);
  add(
    `pruned ${pct(plan.userSparsity)}/${pct(plan.itemSparsity)}% + fine-tune`,
    fileTables(pruned, net),
    pruned.length,
    await rankSeq(net, t.split, t.testUsers, 'test'),
  );

  const bits: Record<string, number> = {};
  for (const l of net.layers) if (l.weightShape) bits[l.name] = l.name === ITEMS ? plan.itemBits : plan.userBits;
  const sharing = await shareWeights(net, { bits, iterations: plan.iterations, init: 'linear' });
  const bytes = await exportCompressed(net, sharing);
  const back = await loadCompressed(gpu, bytes);
  try {
    const [want, got] = await Promise.all([net.arena.read('weights'), back.arena.read('weights')]);
    for (const [k, v] of want) {
      const g = got.get(k)!;
      for (let i = 0; i < v.length; i++)
        if (g[i] !== v[i]) throw new Error(`rec:seq: the exported file decodes ${k}[${i}] to ${g[i]}, the evaluated network holds ${v[i]}`);
    }
    add(
      `+ k-means ${plan.userBits}/${plan.itemBits} bits, huffman`,
      fileTables(bytes, back),
      bytes.length,
      await rankSeq(back, t.split, t.testUsers, 'test'),
    );
  } finally {
    back.dispose();
  }
  return { rows, bytes };
}

/** The stage table (network / item-table bytes, ratio, test HR/NDCG, change, ratio to popularity). */
export function formatSeqStages(rows: StageRow[], popularityNdcg: number): string {
  return formatStages(rows, popularityNdcg, ['network bytes', 'E bytes']);
}
