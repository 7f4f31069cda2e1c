// `slimgpu train --task recommend --model rec:seq-L-D-H-T`: the same protocol as rec:mf/rec:dae
// (run.ts: data, split, popularity, per-epoch validation on a seeded sample of users, the epoch with
// the best validation NDCG tested on all evaluated users) with the sequential model of seq.ts.
import type { Gpu } from '../gpu/device.js';
import { loadRecData } from '../data/interactions-load.js';
import type { InteractionLog } from '../data/interactions.js';
import type { RecSplit } from '../data/rec-split.js';
import { evalUsers, popularityLists, scoreLists, type Metrics } from './eval.js';
import { datasetLines, type EpochRow, type RecConfig } from './run.js';
import { parseSeqModel, SEQ_DEFAULTS, SeqModel, type SeqOptions } from './seq.js';
import { rankSeq, SeqRanker } from './seq-rank.js';

export interface SeqRecConfig extends RecConfig {
  /** Global gradient-norm clip (default 1). */
  clip?: number;
  /** Untimed logs: reshuffle each user's training items every epoch (default true). */
  reshuffle?: boolean;
}

export interface SeqTrained {
  log: InteractionLog;
  split: RecSplit;
  model: SeqModel;
  popularity: { valid: Metrics; test: Metrics };
  epochs: EpochRow[];
  best: number;
  test: Metrics;
  testUsers: Uint32Array;
  validUsers: Uint32Array;
}

const fmt = (m: Metrics) => `HR@10 ${m.hr.toFixed(4)}  NDCG@10 ${m.ndcg.toFixed(4)}`;

/** What a sequence model does with the split's order, said once in the report. */
export function orderLine(s: RecSplit): string {
  return s.timed
    ? 'rec:seq reads each user’s items in timestamp order (ties: file order)'
    : 'rec:seq: no timestamps — each user’s items are in the split’s seeded random order, so there is no recency to learn; the model sees a random order (a set model with a position embedding)';
}

/** Trains rec:seq per the config (batch = windows of T items per step), printing progress through `say`. */
export async function trainSeqRecommender(gpu: Gpu, cfg: SeqRecConfig, say: (line: string) => void = () => {}): Promise<SeqTrained> {
  const c = parseSeqModel(cfg.model);
  if (!c) throw new Error(`slimgpu: '${cfg.model}' is not a rec:seq-L-D-H-T model`);
  const { log, split } = await loadRecData(cfg.data, { seed: cfg.seed, ...cfg.dataOptions });
  for (const l of datasetLines(log, split)) say(l);
  say(orderLine(split));
  const vUsers = evalUsers(split, Number.isFinite(cfg.evalUsers) ? cfg.evalUsers : undefined, cfg.seed);
  const testUsers = evalUsers(split);
  const popularity = {
    valid: scoreLists(split, vUsers, popularityLists(split, vUsers, 'valid'), 'valid'),
    test: scoreLists(split, testUsers, popularityLists(split, testUsers, 'test'), 'test'),
  };
  say(`popularity (valid, ${vUsers.length} users): ${fmt(popularity.valid)}`);
  const opts: SeqOptions = {
    batch: cfg.batch,
    lr: cfg.lr,
    weightDecay: cfg.weightDecay,
    seed: cfg.seed,
    clip: cfg.clip ?? SEQ_DEFAULTS.clip,
    reshuffle: cfg.reshuffle ?? SEQ_DEFAULTS.reshuffle,
  };
  const model = await SeqModel.create(gpu, split, c, opts);
  say(
    `rec:seq: ${model.net.paramCount} parameters, ${model.windows.n} windows of T = ${c.T} (${model.windows.pairs} next-item targets), ${model.steps} steps of ${model.B} windows per epoch`,
  );
  const ranker = await SeqRanker.create(model.net, split, vUsers, 'valid');
  const epochs: EpochRow[] = [];
  let best = -1,
    bestParams: Map<string, Float32Array> | undefined;
  try {
    for (let e = 1; e <= cfg.epochs; e++) {
      const t0 = performance.now();
      const loss = await model.trainEpoch();
      const seconds = (performance.now() - t0) / 1000;
      const valid = await ranker.metrics();
      epochs.push({ epoch: e, loss, valid, seconds });
      say(`epoch ${String(e).padStart(3)}  loss ${loss.toFixed(4)}  valid ${fmt(valid)}  ${seconds.toFixed(2)} s`);
      if (best < 0 || valid.ndcg > epochs[best - 1]!.valid.ndcg) {
        best = e;
        bestParams = await model.readParams();
      }
    }
  } finally {
    ranker.dispose();
  }
  await model.writeParams(bestParams!);
  const test = await rankSeq(model.net, split, testUsers, 'test');
  say(
    `best epoch ${best}: test (${testUsers.length} users) model ${fmt(test)} | popularity ${fmt(popularity.test)} | NDCG ratio ${(test.ndcg / Math.max(1e-12, popularity.test.ndcg)).toFixed(2)}×`,
  );
  return { log, split, model, popularity, epochs, best, test, testUsers, validUsers: vUsers };
}
