// `slimgpu train --task recommend --model rec:ncf-D-H…`: load + split, the popularity baseline,
// rec:ncf trained epoch by epoch with the BPR loss (validation HR/NDCG after each by full ranking on
// a seeded sample of users), then the test metrics of the epoch with the best validation NDCG.
import type { Gpu } from '../gpu/device.js';
import type { InteractionLog } from '../data/interactions.js';
import type { RecSplit } from '../data/rec-split.js';
import { scoreLists, type Metrics } from './eval.js';
import { NcfModel } from './ncf.js';
import { NcfRanker, rankNcf } from './ncf-rank.js';
import { epochsKeepingBest, recSetup, testLine, type EpochRow, type EpochsRun, type RecConfig } from './run.js';

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

/** Trains rec:ncf per the config, printing progress lines through `say`. */
export async function trainNcf(gpu: Gpu, cfg: NcfConfig, say: (line: string) => void = () => {}): Promise<NcfTrained> {
  const { dim, hidden } = parseNcfModel(cfg.model);
  if (cfg.loss !== undefined && (cfg.loss as string) !== 'bpr')
    throw new RecModelError(
      `slimgpu: rec:ncf trains with --loss bpr only, got '${cfg.loss}' (a full softmax would run the MLP tower over every item at every step)`,
    );
  const { log, split, vUsers, testUsers, popularity } = await recSetup(cfg, say);
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
  let run: EpochsRun<Awaited<ReturnType<NcfModel['readTables']>>>;
  try {
    run = await epochsKeepingBest(
      cfg.epochs,
      {
        train: () => model.trainEpoch(),
        validate: async () => scoreLists(split, vUsers, await ranker.run(), 'valid'),
        snapshot: () => model.readTables(),
        showRanking: true,
      },
      say,
    );
  } finally {
    ranker.dispose();
  }
  const { epochs, best } = run;
  model.writeTables(run.state!);
  const test = await rankNcf(gpu, model, testUsers, 'test');
  say(testLine(best, testUsers, test, popularity.test));
  return { log, split, model, popularity, epochs, best, test, testUsers, validUsers: vUsers };
}
