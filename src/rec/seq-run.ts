// `slimgpu train --task recommend --model rec:seq-L-D-H-T`: the same protocol as rec:mf/rec:dae
// (run.ts: data, split, popularity, per-epoch validation on a seeded sample of users, the epoch with
// the best validation NDCG tested on all evaluated users) with the sequential model of seq.ts.
import type { Gpu } from '../gpu/device.js';
import type { InteractionLog } from '../data/interactions.js';
import type { RecSplit } from '../data/rec-split.js';
import type { Metrics } from './eval.js';
import { epochsKeepingBest, recSetup, testLine, type EpochRow, type EpochsRun, type RecConfig } from './run.js';
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
  const { log, split, vUsers, testUsers, popularity } = await recSetup(cfg, say, orderLine);
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
  let run: EpochsRun<Map<string, Float32Array>>;
  try {
    run = await epochsKeepingBest(
      cfg.epochs,
      { train: () => model.trainEpoch(), validate: () => ranker.metrics(), snapshot: () => model.readParams() },
      say,
    );
  } finally {
    ranker.dispose();
  }
  const { epochs, best } = run;
  await model.writeParams(run.state!);
  const test = await rankSeq(model.net, split, testUsers, 'test');
  say(testLine(best, testUsers, test, popularity.test));
  return { log, split, model, popularity, epochs, best, test, testUsers, validUsers: vUsers };
}
