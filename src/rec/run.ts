// `slimgpu train --task recommend`: load + split the data, the popularity baseline, train rec:mf-D
// epoch by epoch (validation HR/NDCG after each, on a seeded sample of users), then the test
// metrics of the epoch with the best validation NDCG (its tables are kept on the CPU).
import type { Gpu } from '../gpu/device.js';
import { loadRecData, type RecDataOptions } from '../data/interactions-load.js';
import type { InteractionLog } from '../data/interactions.js';
import type { RecSplit } from '../data/rec-split.js';
import { evalUsers, GpuRanker, popularityLists, scoreLists, type Metrics, type Target } from './eval.js';
import { MfModel, type RecKind, type RecLoss } from './mf.js';
import type { Negatives } from '../kernels/rec-pairs.js';
import { fitRatings, ratingLines, ratingSplit, type RatingResult } from './ratings.js';

export interface RecConfig {
  data: string;
  model: string;
  epochs: number;
  batch: number;
  lr: number;
  weightDecay: number;
  seed: number;
  /** Users ranked for the per-epoch validation (default 5000; all: Infinity). */
  evalUsers: number;
  /** The user table's learning rate is lr × this. */
  userLrScale?: number;
  dataOptions?: RecDataOptions;
  /** Epochs of the rating head (explicit ratings only; src/rec/ratings.ts). */
  ratingEpochs?: number;
  /** Factors of the rating head (default 16). */
  ratingDim?: number;
  /** Start from these tables (e.g. a saved dense model); with epochs 0 they are the model, untrained. */
  initTables?: { U: Float32Array; V: Float32Array; b: Float32Array };
  /** Ranking loss: 'softmax' (rec:mf / rec:dae default) or 'bpr' (rec:ncf: the only one). */
  loss?: RecLoss;
  /** --loss bpr: (positive, negative) pairs per user per step. */
  pairs?: number;
  /** --loss bpr: 'uniform' or 'popular' negatives. */
  negatives?: Negatives;
}

export const REC_DEFAULTS = { epochs: 8, batch: 512, lr: 0.01, weightDecay: 0, seed: 0, evalUsers: 5000, userLrScale: 1 } as const;

/** `rec:mf-D` / `rec:dae-D` → kind and D. */
export function parseRecModel(name: string): { kind: RecKind; dim: number } {
  const m = /^rec:(mf|dae)-(\d+)$/.exec(name);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 1024)
    throw new Error(
      `slimgpu: unknown recommendation model '${name}' (expected rec:mf-D or rec:dae-D with D in 1..1024, e.g. rec:mf-64; rec:ncf-D-H… and rec:seq-L-D-H-T are the other model families)`,
    );
  return { kind: m[1] as RecKind, dim: Number(m[2]) };
}

export interface EpochRow {
  epoch: number;
  loss: number;
  valid: Metrics;
  seconds: number;
}

export interface RecTrained {
  log: InteractionLog;
  split: RecSplit;
  model: MfModel;
  popularity: { valid: Metrics; test: Metrics };
  epochs: EpochRow[];
  best: number;
  test: Metrics;
  /** Users of the test ranking (all evaluated users) and of the per-epoch validation. */
  testUsers: Uint32Array;
  validUsers: Uint32Array;
  /** RMSE of the rating head and its baselines (undefined: implicit data). */
  ratings?: RatingResult;
}

/** Model metrics for `target` over `users` with the model's current tables (one GPU ranking). */
export async function rankModel(gpu: Gpu, m: MfModel, users: Uint32Array, target: Target): Promise<Metrics> {
  const r = await GpuRanker.create(gpu, m.split, { U: m.U, V: m.V, b: m.b, kind: m.kind }, users, target);
  try {
    return scoreLists(m.split, users, await r.run(), target);
  } finally {
    r.dispose();
  }
}

export function datasetLines(log: InteractionLog, s: RecSplit): string[] {
  const train = s.trainItems.length;
  return [
    `data ${s.name}: ${s.nUsers} users, ${s.nItems} items, ${s.interactions} interactions (density ${((100 * s.interactions) / (s.nUsers * s.nItems)).toFixed(3)}%), ${log.duplicates} duplicates dropped`,
    `split: leave-last-out by ${s.timed ? 'timestamp' : 'seeded random order'}; ${train} train, ${s.evalUsers} validation + ${s.evalUsers} test items; ${s.nUsers - s.evalUsers} users with < 3 interactions train only${s.explicit ? '; ratings are explicit (ranking: used as implicit feedback; RMSE: the rating head)' : ''}`,
  ];
}

/** "HR@10 … NDCG@10 …" of a metrics pair, as every report line prints it. */
export const fmtMetrics = (m: Metrics) => `HR@10 ${m.hr.toFixed(4)}  NDCG@10 ${m.ndcg.toFixed(4)}`;
const fmt = fmtMetrics;

/** What every recommender's run starts with: the data and split, the evaluated users, popularity. */
export interface RecSetup {
  log: InteractionLog;
  split: RecSplit;
  /** The seeded sample validated per epoch, and every evaluated user (tested once). */
  vUsers: Uint32Array;
  testUsers: Uint32Array;
  popularity: { valid: Metrics; test: Metrics };
}

/** Loads and splits the data, says its lines (and `note`'s, after them), picks the users and prints the popularity baseline. */
export async function recSetup(cfg: RecConfig, say: (line: string) => void, note?: (s: RecSplit) => string): Promise<RecSetup> {
  const { log, split } = await loadRecData(cfg.data, { seed: cfg.seed, ...cfg.dataOptions });
  for (const l of datasetLines(log, split)) say(l);
  if (note) say(note(split));
  const vUsers = evalUsers(split, Number.isFinite(cfg.evalUsers) ? cfg.evalUsers : undefined, cfg.seed);
  const testUsers = evalUsers(split);
  const popularity = {
    valid: scoreLists(split, vUsers, popularityLists(split, vUsers, 'valid'), 'valid'),
    test: scoreLists(split, testUsers, popularityLists(split, testUsers, 'test'), 'test'),
  };
  say(`popularity (valid, ${vUsers.length} users): ${fmt(popularity.valid)}`);
  return { log, split, vUsers, testUsers, popularity };
}

export interface EpochsRun<S> {
  epochs: EpochRow[];
  /** The epoch with the best validation NDCG (1-based; −1 when no epoch ran). */
  best: number;
  /** `snapshot()` taken after that epoch. */
  state: S | undefined;
}

/**
 * `n` epochs of train → validate, each said in one line (with the ranking's own time when
 * `showRanking`), keeping a snapshot of the model after the epoch with the best validation NDCG.
 */
export async function epochsKeepingBest<S>(
  n: number,
  r: { train: () => Promise<number>; validate: () => Promise<Metrics>; snapshot: () => Promise<S>; showRanking?: boolean },
  say: (line: string) => void,
): Promise<EpochsRun<S>> {
  const epochs: EpochRow[] = [];
  let best = -1,
    state: S | undefined;
  for (let e = 1; e <= n; e++) {
    const t0 = performance.now();
    const loss = await r.train();
    const seconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const valid = await r.validate();
    epochs.push({ epoch: e, loss, valid, seconds });
    const ranking = r.showRanking ? ` (+ ranking ${((performance.now() - t1) / 1000).toFixed(2)} s)` : '';
    say(`epoch ${String(e).padStart(3)}  loss ${loss.toFixed(4)}  valid ${fmt(valid)}  ${seconds.toFixed(2)} s${ranking}`);
    if (best < 0 || valid.ndcg > epochs[best - 1]!.valid.ndcg) {
      best = e;
      state = await r.snapshot();
    }
  }
  return { epochs, best, state };
}

/** The report's test line: the best epoch, the model beside popularity and their NDCG ratio. */
export function testLine(best: number, testUsers: Uint32Array, test: Metrics, popularity: Metrics): string {
  return `best epoch ${best}: test (${testUsers.length} users) model ${fmt(test)} | popularity ${fmt(popularity)} | NDCG ratio ${(test.ndcg / Math.max(1e-12, popularity.ndcg)).toFixed(2)}×`;
}

/** Trains per the config, printing progress lines through `say`. */
export async function trainRecommender(gpu: Gpu, cfg: RecConfig, say: (line: string) => void = () => {}): Promise<RecTrained> {
  const { dim, kind } = parseRecModel(cfg.model);
  const { log, split, vUsers, testUsers, popularity } = await recSetup(cfg, say);
  const model = new MfModel(gpu, split, {
    dim,
    batch: cfg.batch,
    lr: cfg.lr,
    weightDecay: cfg.weightDecay,
    seed: cfg.seed,
    userLrScale: cfg.userLrScale,
    kind,
    loss: cfg.loss,
    pairs: cfg.pairs,
    negatives: cfg.negatives,
  });
  await model.build();
  if (cfg.initTables) model.writeTables(cfg.initTables);
  const ranker = await GpuRanker.create(gpu, split, { U: model.U, V: model.V, b: model.b, kind }, vUsers, 'valid');
  let run: EpochsRun<Awaited<ReturnType<MfModel['readTables']>>>;
  try {
    run = await epochsKeepingBest(
      cfg.epochs,
      {
        train: () => model.trainEpoch(),
        validate: async () => scoreLists(split, vUsers, await ranker.run(), 'valid'),
        snapshot: () => model.readTables(),
      },
      say,
    );
  } finally {
    ranker.dispose();
  }
  const { epochs } = run;
  const best = Math.max(run.best, 0);
  model.writeTables(run.state ?? (await model.readTables()));
  const test = await rankModel(gpu, model, testUsers, 'test');
  say(testLine(best, testUsers, test, popularity.test));
  const rs = ratingSplit(log, cfg.seed);
  const ratings = rs && fitRatings(rs, { dim: cfg.ratingDim, epochs: cfg.ratingEpochs, seed: cfg.seed }).result;
  for (const l of ratingLines(ratings)) say(l);
  return { log, split, model, popularity, epochs, best, test, testUsers, validUsers: vUsers, ratings };
}
