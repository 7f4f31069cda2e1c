// The compression stages of a trained recommender, each followed by the test HR/NDCG (all users,
// full ranking): dense fp32 → pruned (+ masked fine-tuning) → k-means shared → the exported file
// (decoded again and compared with the evaluated tables, so the last row is the file's quality).
import type { Gpu } from '../gpu/device.js';
import { exportTables, pruneMasks, shareTables, type RecCompressPlan, type StageRow } from './compress.js';
import type { RecTrained } from './run.js';
import { rankModel } from './run.js';
import { formatMixedDims, rowCounts } from './mixed.js';
import { sparsityAt, type SparsitySchedule } from '../nn/schedule.js';

/** The epochs of a gradual plan's ramp (the sparsity reaches its target at the end of the last). */
export function rampEpochsOf(plan: RecCompressPlan): number {
  if (!plan.gradual) return 0;
  const r = plan.rampEpochs ?? Math.max(1, plan.fineTuneEpochs - 1);
  if (!Number.isInteger(r) || r < 1 || r > plan.fineTuneEpochs)
    throw new RangeError(`rec: rampEpochs must be an integer in 1..fineTuneEpochs (${plan.fineTuneEpochs}), got ${r}`);
  return r;
}

/**
 * The sparsity of each table during fine-tuning epoch e (1-based): one-shot plans prune to the
 * target before epoch 1; gradual ones follow the polynomial schedule (Zhu & Gupta; src/nn/schedule.ts)
 * with the masks refreshed before each of the first `rampEpochs` epochs, reaching the target before the last of them.
 */
export function sparsityAtEpoch(plan: RecCompressPlan, e: number): { U: number; V: number } {
  const R = rampEpochsOf(plan);
  if (R === 0) return { U: plan.userSparsity, V: plan.itemSparsity };
  const at = (target: number) => {
    const s: SparsitySchedule = { kind: 'polynomial', target, initial: 0, beginStep: 0, endStep: R, frequency: 1 };
    return sparsityAt(s, Math.min(e, R));
  };
  return { U: at(plan.userSparsity), V: at(plan.itemSparsity) };
}

/**
 * Stage 1: the masks (mixed dimensions, rare rows, magnitude; gradual plans step by step) and the
 * masked fine-tuning, keeping the epoch with the best validation NDCG among those at the target
 * sparsity (one-shot plans: epoch 0, the pruned tables before fine-tuning, included).
 */
async function pruneAndFineTune(gpu: Gpu, t: RecTrained, plan: RecCompressPlan) {
  const m = t.model;
  const counts = rowCounts(t.split, m.kind);
  const R = rampEpochsOf(plan);
  const remask = async (s: { U: number; V: number }) => {
    const { U, V } = await m.readTables();
    const masks = pruneMasks(U, V, t.split.popularity, m.D, plan, counts, s);
    m.writeTables({ U: U.map((x, i) => x * masks.U[i]!), V: V.map((x, i) => x * masks.V[i]!) });
    await m.setMask(masks);
    return masks;
  };
  let masks = await remask(sparsityAtEpoch(plan, R === 0 ? 0 : 1));
  m.setLr(plan.fineTuneLr);
  const t0 = performance.now();
  const seen: string[] = [];
  let best: { e: number; ndcg: number; tables: Awaited<ReturnType<typeof m.readTables>> } | undefined;
  if (R === 0) best = { e: 0, ndcg: (await rankModel(gpu, m, t.validUsers, 'valid')).ndcg, tables: await m.readTables() };
  for (let e = 1; e <= Math.max(plan.fineTuneEpochs, R); e++) {
    if (e > 1 && e <= R) masks = await remask(sparsityAtEpoch(plan, e));
    await m.trainEpoch();
    if (e < R) continue;
    const v = await rankModel(gpu, m, t.validUsers, 'valid');
    seen.push(`${e}: ${v.ndcg.toFixed(4)}`);
    if (!best || v.ndcg > best.ndcg) best = { e, ndcg: v.ndcg, tables: await m.readTables() };
  }
  m.writeTables(best!.tables);
  const note = `pruned U ${(100 * plan.userSparsity).toFixed(0)}%, V ${(100 * plan.itemSparsity).toFixed(0)}%${plan.mixedDims ? ` within mixed dims ${formatMixedDims(plan.mixedDims)}` : ''}${R ? ` gradually over ${R} epochs` : ''} (rare items < ${plan.rareItems}: whole rows); masked fine-tuning: ${plan.fineTuneEpochs} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s, kept epoch ${best!.e} (best validation NDCG ${best!.ndcg.toFixed(4)}; per epoch ${seen.join(', ') || '-'})`;
  return { masks, note };
}

export async function compressRecommender(
  gpu: Gpu,
  t: RecTrained,
  plan: RecCompressPlan,
  say: (l: string) => void = () => {},
): Promise<{ rows: StageRow[]; bytes: Uint8Array }> {
  const m = t.model;
  const dense = 4 * (m.nU * m.D + m.nI * m.D + m.nI);
  const rows: StageRow[] = [];
  const add = (stage: string, tables: StageRow['tables'], bytes: number, test: StageRow['test']) => {
    rows.push({ stage, tables, bytes, ratio: dense / bytes, test });
    say(
      `stage ${stage}: ${bytes} bytes (${(dense / bytes).toFixed(1)}× smaller than fp32 dense), test NDCG@10 ${test.ndcg.toFixed(4)} (${(100 * (test.ndcg / t.test.ndcg - 1)).toFixed(1)}%)`,
    );
  };
  add(
    'dense fp32',
    [
      { table: m.kind === 'dae' ? 'U (item inputs)' : 'U (users)', params: m.nU * m.D, kept: m.nU * m.D, bits: 32, bytes: 4 * m.nU * m.D },
      { table: 'V (items)', params: m.nI * m.D, kept: m.nI * m.D, bits: 32, bytes: 4 * m.nI * m.D },
      { table: 'b (item bias)', params: m.nI, kept: m.nI, bits: 32, bytes: 4 * m.nI },
    ],
    dense,
    t.test,
  );

  const { masks, note } = await pruneAndFineTune(gpu, t, plan);
  say(note);
  const pruned = await exportTables(m, masks);
  add(
    `${plan.mixedDims ? `mixed ${formatMixedDims(plan.mixedDims)} + ` : ''}pruned ${(100 * plan.userSparsity).toFixed(0)}/${(100 * plan.itemSparsity).toFixed(0)}%${plan.gradual ? ' gradually' : ''} + fine-tune`,
    pruned.tables,
    pruned.bytes.length,
    await rankModel(gpu, m, t.testUsers, 'test'),
  );

  const bits = { U: plan.userBits, V: plan.itemBits };
  await shareTables(gpu, m, bits, plan.iterations, masks);
  if (plan.shareEpochs) say(await retrainShared(gpu, t, plan, masks));
  const shared = await exportTables(m, masks, bits);
  add(
    `+ k-means ${bits.U}/${bits.V} bits${plan.shareEpochs ? ` (${plan.shareEpochs} retrain rounds)` : ''}, huffman`,
    shared.tables,
    shared.bytes.length,
    await rankModel(gpu, m, t.testUsers, 'test'),
  );
  return { rows, bytes: shared.bytes };
}

/**
 * After k-means: rounds of one masked epoch (the shared weights move freely) then k-means again
 * (fresh linear init), keeping the round (0 = the first sharing) with the best validation NDCG — a
 * cheap stand-in for Deep Compression's centroid fine-tuning that also lets weights change cluster.
 */
async function retrainShared(gpu: Gpu, t: RecTrained, plan: RecCompressPlan, masks: { U: Float32Array; V: Float32Array }): Promise<string> {
  const m = t.model;
  const bits = { U: plan.userBits, V: plan.itemBits };
  let best = { r: 0, ndcg: (await rankModel(gpu, m, t.validUsers, 'valid')).ndcg, tables: await m.readTables() };
  const first = best.ndcg;
  const rounds: string[] = [];
  for (let r = 1; r <= plan.shareEpochs!; r++) {
    await m.trainEpoch();
    await shareTables(gpu, m, bits, plan.iterations, masks);
    const v = await rankModel(gpu, m, t.validUsers, 'valid');
    rounds.push(v.ndcg.toFixed(4));
    if (v.ndcg > best.ndcg) best = { r, ndcg: v.ndcg, tables: await m.readTables() };
  }
  m.writeTables(best.tables);
  return `shared retraining: ${plan.shareEpochs} rounds (epoch + k-means), kept round ${best.r} (validation NDCG ${best.ndcg.toFixed(4)}, first sharing ${first.toFixed(4)}, rounds ${rounds.join(', ')})`;
}

/** The Deep-Compression-style table: stage, bytes per table, ratio, test HR/NDCG and its change. */
export function formatStages(rows: StageRow[], popularityNdcg: number, tables: readonly string[] = ['U bytes', 'V bytes']): string {
  const base = rows[0]!.test.ndcg;
  const head = ['stage', ...tables, 'rest', 'total', 'ratio', 'HR@10', 'NDCG@10', 'ΔNDCG', '/popularity'];
  const body = rows.map((r) => [
    r.stage,
    ...r.tables.map((x) => String(x.bytes)),
    String(r.bytes),
    `${r.ratio.toFixed(1)}×`,
    r.test.hr.toFixed(4),
    r.test.ndcg.toFixed(4),
    `${(100 * (r.test.ndcg / base - 1)).toFixed(1)}%`,
    `${(r.test.ndcg / popularityNdcg).toFixed(2)}×`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
