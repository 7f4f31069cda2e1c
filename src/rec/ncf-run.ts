// `slimgpu train --task recommend --model rec:ncf-D-H…`: load + split, the popularity baseline,
// rec:ncf trained epoch by epoch with the BPR loss (validation HR/NDCG after each by full ranking on
// a seeded sample of users), then the test metrics of the epoch with the best validation NDCG.
import type { Gpu } from '../gpu/device.js';
import { loadRecData } from '../data/interactions-load.js';
import type { InteractionLog } from '../data/interactions.js';
import type { RecSplit } from '../data/rec-split.js';
import { evalUsers, popularityLists, scoreLists, type Metrics } from './eval.js';
import { NcfModel } from './ncf.js';
import { NcfRanker, rankNcf } from './ncf-rank.js';
import { datasetLines, type EpochRow, type RecConfig } from './run.js';

export class RecModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecModelError';
  }
}

const NCF_RE = /^rec:ncf-(\d+)((?:-\d+)+)$/;

/** Whether `name` asks for rec:ncf (well-formed or not). */
export const isNcfName = (name: string): boolean => name.startsWith('rec:ncf');

/** `rec:ncf-D-H1-…-HL` → D and the hidden sizes; a named error otherwise. */
export function parseNcfModel(name: string): { dim: number; hidden: number[] } {
  const m = NCF_RE.exec(name);
  const dims = m ? [Number(m[1]), ...m[2]!.slice(1).split('-').map(Number)] : [];
  if (!m || dims.some((d) => d < 1 || d > 1024) || dims.length > 6)
    throw new RecModelError(
      `slimgpu: unknown recommendation model '${name}' (expected rec:ncf-D-H1[-H2…] with D and every hidden size in 1..1024 and at most 5 hidden layers, e.g. rec:ncf-32-64-32)`,
    );
  return { dim: dims[0]!, hidden: dims.slice(1) };
}

/** RecConfig; `loss` must be 'bpr' (or absent), `pairs` defaults to 8. */
export type NcfConfig = RecConfig;

export interface NcfTrained {
  log: InteractionLog;
  split: RecSplit;
  model: NcfModel;
  popularity: { valid: Metrics; test: Metrics };
  epochs: EpochRow[];
  best: number;
  test: Metrics;
  testUsers: Uint32Array;
  validUsers: Uint32Array;
}

const fmt = (m: Metrics) => `HR@10 ${m.hr.toFixed(4)}  NDCG@10 ${m.ndcg.toFixed(4)}`;

/** Trains rec:ncf per the config, printing progress lines through `say`. */
export async function trainNcf(gpu: Gpu, cfg: NcfConfig, say: (line: string) => void = () => {}): Promise<NcfTrained> {
  const { dim, hidden } = parseNcfModel(cfg.model);
  if (cfg.loss !== undefined && (cfg.loss as string) !== 'bpr')
    throw new RecModelError(
      `slimgpu: rec:ncf trains with --loss bpr only, got '${cfg.loss}' (a full softmax would run the MLP tower over every item at every step)`,
    );
  const { log, split } = await loadRecData(cfg.data, { seed: cfg.seed, ...cfg.dataOptions });
  for (const l of datasetLines(log, split)) say(l);
  const vUsers = evalUsers(split, Number.isFinite(cfg.evalUsers) ? cfg.evalUsers : undefined, cfg.seed);
  const testUsers = evalUsers(split);
  const popularity = {
    valid: scoreLists(split, vUsers, popularityLists(split, vUsers, 'valid'), 'valid'),
    test: scoreLists(split, testUsers, popularityLists(split, testUsers, 'test'), 'test'),
  };
  say(`popularity (valid, ${vUsers.length} users): ${fmt(popularity.valid)}`);
  const model = new NcfModel(gpu, split, {
    dim,
    hidden,
    batch: cfg.batch,
    lr: cfg.lr,
    weightDecay: cfg.weightDecay,
    seed: cfg.seed,
    pairs: cfg.pairs,
    negatives: cfg.negatives,
  });
  say(
    `model rec:ncf D ${dim}, MLP ${hidden.join('-')}, BPR with ${model.K} (positive, ${cfg.negatives ?? 'uniform'} negative) pairs per user per step, ${model.steps} steps of ${model.B} users per epoch`,
  );
  await model.build();
  const ranker = await NcfRanker.create(gpu, split, model, vUsers, 'valid');
  const epochs: EpochRow[] = [];
  let best = -1,
    bestTables: Awaited<ReturnType<NcfModel['readTables']>> | undefined;
  try {
    for (let e = 1; e <= cfg.epochs; e++) {
      const t0 = performance.now();
      const loss = await model.trainEpoch();
      const seconds = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const valid = scoreLists(split, vUsers, await ranker.run(), 'valid');
      epochs.push({ epoch: e, loss, valid, seconds });
      say(
        `epoch ${String(e).padStart(3)}  loss ${loss.toFixed(4)}  valid ${fmt(valid)}  ${seconds.toFixed(2)} s (+ ranking ${((performance.now() - t1) / 1000).toFixed(2)} s)`,
      );
      if (best < 0 || valid.ndcg > epochs[best - 1]!.valid.ndcg) {
        best = e;
        bestTables = await model.readTables();
      }
    }
  } finally {
    ranker.dispose();
  }
  model.writeTables(bestTables!);
  const test = await rankNcf(gpu, model, testUsers, 'test');
  say(
    `best epoch ${best}: test (${testUsers.length} users) model ${fmt(test)} | popularity ${fmt(popularity.test)} | NDCG ratio ${(test.ndcg / Math.max(1e-12, popularity.test.ndcg)).toFixed(2)}×`,
  );
  return { log, split, model, popularity, epochs, best, test, testUsers, validUsers: vUsers };
}
