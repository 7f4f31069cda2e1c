// `slimgpu train --task recommend` (also `slimgpu recommend`): train rec:mf-D on interaction data,
// print the report (dataset, popularity baseline, HR/NDCG per epoch, test), then optionally compress
// the tables (prune + fine-tune, k-means sharing, .slim.safetensors) with HR/NDCG after each stage.
import { Command, InvalidArgumentError } from 'commander';
import { createGpu } from '../gpu/device.js';
import { REC_DATA_SOURCES } from '../data/interactions-load.js';
import { parseRecModel, REC_DEFAULTS, trainRecommender, type RecConfig } from '../rec/run.js';
import { parseMixedDims } from '../rec/mixed.js';
import { checkPlan, RecPlanError } from '../rec/plans.js';
import { REC_COMPRESS_DEFAULTS, type RecCompressPlan } from '../rec/compress.js';
import { compressRecommender, formatStages } from '../rec/stages.js';
import { RATING_DEFAULTS } from '../rec/ratings.js';
import { seqRecommendCommand } from './recommend-seq.js';
import { isNcfName } from '../rec/ncf-run.js';
import { recommendNcf } from './recommend-ncf.js';

/** `slimgpu train --task recommend ...` → `slimgpu recommend ...` (other argv unchanged). */
export function routeRecommend(argv: string[]): string[] {
  const i = argv.indexOf('train');
  if (i < 0) return argv;
  const j = argv.findIndex((a, k) => k > i && (a === '--task' ? argv[k + 1] === 'recommend' : a === '--task=recommend'));
  if (j < 0) return argv;
  const out = [...argv];
  out.splice(j, argv[j] === '--task' ? 2 : 1);
  out[i] = 'recommend';
  return out;
}

function num(name: string, opts: { int?: boolean; min?: number; max?: number } = {}) {
  return (v: string): number => {
    const x = Number(v);
    if (
      v.trim() === '' ||
      !Number.isFinite(x) ||
      (opts.int && !Number.isInteger(x)) ||
      (opts.min !== undefined && x < opts.min) ||
      (opts.max !== undefined && x > opts.max)
    ) {
      throw new InvalidArgumentError(
        `${name} must be ${opts.int ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}${opts.max !== undefined ? ` and ≤ ${opts.max}` : ''}, got '${v}'`,
      );
    }
    return x;
  };
}

function lossName(v: string): 'softmax' | 'bpr' {
  if (v !== 'softmax' && v !== 'bpr') throw new InvalidArgumentError(`--loss must be 'softmax' or 'bpr', got '${v}'`);
  return v;
}

function negativesName(v: string): 'uniform' | 'popular' {
  if (v !== 'uniform' && v !== 'popular') throw new InvalidArgumentError(`--negatives must be 'uniform' or 'popular', got '${v}'`);
  return v;
}

interface RecFlags {
  model: string;
  data: string;
  epochs: number;
  batch: number;
  lr: number;
  userLrScale: number;
  weightDecay: number;
  seed: number;
  evalUsers: string;
  ratingEpochs: number;
  ratingDim: number;
  minItemUsers?: number;
  minUserItems?: number;
  userColumn?: string;
  itemColumn?: string;
  ratingColumn?: string;
  timestampColumn?: string;
  debianFile?: string;
  compress: boolean;
  userSparsity: number;
  itemSparsity: number;
  rareItems: number;
  userBits: number;
  itemBits: number;
  fineTuneEpochs: number;
  fineTuneLr: number;
  mixedDims?: string;
  gradual?: boolean;
  rampEpochs?: number;
  out?: string;
  json?: boolean;
  loss?: 'softmax' | 'bpr';
  pairs?: number;
  negatives?: 'uniform' | 'popular';
}

/** --mixed-dims, --gradual, --ramp-epochs (docs/rec-compression.md); checked before any training. */
function mixedPlan(f: RecFlags): Partial<RecCompressPlan> {
  const mixedDims = f.mixedDims === undefined ? undefined : parseMixedDims(f.mixedDims, parseRecModel(f.model).dim);
  const p = { ...REC_COMPRESS_DEFAULTS, fineTuneEpochs: f.fineTuneEpochs, mixedDims, gradual: f.gradual, rampEpochs: f.rampEpochs };
  if (f.rampEpochs !== undefined && !f.gradual) throw new RecPlanError('slimgpu: --ramp-epochs needs --gradual');
  if ((f.mixedDims !== undefined || f.gradual) && !f.compress) throw new RecPlanError('slimgpu: --mixed-dims and --gradual need --compress');
  checkPlan(p);
  return { mixedDims, gradual: f.gradual, rampEpochs: f.rampEpochs };
}

/** The run configuration of the flags (checked). */
function recConfigOf(f: RecFlags): RecConfig {
  const evalUsers = f.evalUsers === 'all' ? Infinity : Number(f.evalUsers);
  if (!(evalUsers >= 1) || (Number.isFinite(evalUsers) && !Number.isInteger(evalUsers)))
    throw new Error(`slimgpu: --eval-users must be a positive integer or 'all', got '${f.evalUsers}'`);
  return {
    data: f.data,
    model: f.model,
    epochs: f.epochs,
    batch: f.batch,
    lr: f.lr,
    userLrScale: f.userLrScale,
    weightDecay: f.weightDecay,
    seed: f.seed,
    evalUsers,
    ratingEpochs: f.ratingEpochs,
    ratingDim: f.ratingDim,
    loss: f.loss,
    pairs: f.pairs,
    negatives: f.negatives,
    dataOptions: {
      minItemUsers: f.minItemUsers,
      minUserItems: f.minUserItems,
      debianFile: f.debianFile,
      columns: { user: f.userColumn, item: f.itemColumn, rating: f.ratingColumn, timestamp: f.timestampColumn },
    },
  };
}

async function recommendCommand(f: RecFlags, cmd?: Command): Promise<void> {
  const cfg = recConfigOf(f);
  const plan: RecCompressPlan = {
    ...REC_COMPRESS_DEFAULTS,
    userSparsity: f.userSparsity,
    itemSparsity: f.itemSparsity,
    rareItems: f.rareItems,
    userBits: f.userBits,
    itemBits: f.itemBits,
    fineTuneEpochs: f.fineTuneEpochs,
    fineTuneLr: f.fineTuneLr,
    ...mixedPlan(f),
  };
  if (f.model.startsWith('rec:seq')) return seqRecommendCommand(cfg, plan, f, cmd); // rec:seq-L-D-H-T: src/cli/recommend-seq.ts
  if (isNcfName(f.model)) return recommendNcf(cfg, plan, f);
  const say = f.json ? () => {} : (l: string) => console.log(l);
  const gpu = await createGpu();
  try {
    const t = await trainRecommender(gpu, cfg, say);
    const report: Record<string, unknown> = {
      data: cfg.data,
      model: cfg.model,
      users: t.split.nUsers,
      items: t.split.nItems,
      interactions: t.split.interactions,
      popularity: t.popularity,
      epochs: t.epochs,
      bestEpoch: t.best,
      test: t.test,
      rmse: t.ratings ?? 'n/a (implicit data)',
      adapter: gpu.info.description,
    };
    if (f.out) {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(f.out, { recursive: true });
    }
    if (f.compress) {
      const c = await compressRecommender(gpu, t, plan, say);
      report.stages = c.rows;
      if (!f.json) console.log(formatStages(c.rows, t.popularity.test.ndcg));
      if (f.out) {
        const { writeFileAtomic } = await import('../io/files.js');
        await writeFileAtomic(`${f.out}/model.slim.safetensors`, [c.bytes]);
        await writeFileAtomic(`${f.out}/items.json`, [new TextEncoder().encode(JSON.stringify(t.log.items) + '\n')]);
        say(`wrote ${f.out}/model.slim.safetensors (${c.bytes.length} bytes) and items.json (the model's items, sorted)`);
      }
    }
    if (f.out) {
      const { writeFileAtomic } = await import('../io/files.js');
      await writeFileAtomic(`${f.out}/report.json`, [new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n')]);
    }
    if (f.json) console.log(JSON.stringify(report, null, 2));
    t.model.dispose();
  } finally {
    gpu.destroy();
  }
}

/** The training flags. */
function trainingFlags(c: Command): Command {
  return c
    .description('train a recommender (rec:mf-D) on interaction data; also `train --task recommend`')
    .option(
      '--model <name>',
      "rec:dae-D (users = mean of an item table over their items), rec:mf-D (a table of users), rec:ncf-D-H… (NeuMF: GMF + an MLP tower of widths H…, BPR) or rec:seq-L-D-H-T (SASRec: a GPT over the user's item sequence)",
      'rec:dae-64',
    )
    .option(
      '--loss <name>',
      'softmax (rec:mf / rec:dae default: the full multinomial likelihood) or bpr (sampled pairs; rec:ncf: the only one)',
      lossName,
    )
    .option('--pairs <n>', '--loss bpr: seeded (positive, negative) pairs per user per step', num('--pairs', { int: true, min: 1, max: 256 }))
    .option(
      '--negatives <kind>',
      "--loss bpr: 'uniform' over the items (default) or 'popular' (drawn from the training log: ∝ popularity)",
      negativesName,
    )
    .option('--data <source>', `interaction data: ${REC_DATA_SOURCES.join(', ')}`, 'debian-deps')
    .option('--epochs <n>', 'epochs', num('--epochs', { int: true, min: 1 }), REC_DEFAULTS.epochs)
    .option('--batch <n>', 'users per step (a multiple of 64)', num('--batch', { int: true, min: 64 }), REC_DEFAULTS.batch)
    .option('--lr <x>', 'AdamW learning rate', num('--lr', { min: 0 }), REC_DEFAULTS.lr)
    .option(
      '--user-lr-scale <x>',
      "the user table's learning rate is --lr × this (a user's row gets one gradient per epoch, an item's many)",
      num('--user-lr-scale', { min: 0 }),
      REC_DEFAULTS.userLrScale,
    )
    .option(
      '--weight-decay <x>',
      'AdamW decoupled weight decay on the embeddings (not the item bias)',
      num('--weight-decay', { min: 0 }),
      REC_DEFAULTS.weightDecay,
    )
    .option(
      '--seed <n>',
      'seed (initialisation, user order, random leave-one-out without timestamps)',
      num('--seed', { int: true, min: 0 }),
      REC_DEFAULTS.seed,
    )
    .option(
      '--eval-users <n>',
      "users ranked for the per-epoch validation (a seeded sample), or 'all'; the test ranks all",
      String(REC_DEFAULTS.evalUsers),
    )
    .option(
      '--rating-epochs <n>',
      'explicit ratings: most SGD epochs of the rating head μ + b_u + b_i + p_u·q_i (RMSE; CPU; stops 5 epochs after the best validation RMSE)',
      num('--rating-epochs', { int: true, min: 0 }),
      RATING_DEFAULTS.epochs,
    )
    .option(
      '--rating-dim <n>',
      'explicit ratings: factors of the rating head',
      num('--rating-dim', { int: true, min: 0, max: 1024 }),
      RATING_DEFAULTS.dim,
    );
}

/** The data flags (filters, CSV columns, a saved dump). */
function dataFlags(c: Command): Command {
  return c
    .option(
      '--min-item-users <n>',
      'drop items seen by fewer users (default 5 for debian-deps, else 1)',
      num('--min-item-users', { int: true, min: 1 }),
    )
    .option(
      '--min-user-items <n>',
      'then drop users with fewer interactions (default 3 for debian-deps, else 1)',
      num('--min-user-items', { int: true, min: 1 }),
    )
    .option('--user-column <name>', 'interactions CSV: the user column')
    .option('--item-column <name>', 'interactions CSV: the item column')
    .option('--rating-column <name>', "interactions CSV: the rating column ('' = none)")
    .option('--timestamp-column <name>', 'interactions CSV: the timestamp column')
    .option('--debian-file <path>', 'debian-deps: read this saved `apt-cache dumpavail` output instead of running apt-cache');
}

/** The --compress flags. */
function compressFlags(c: Command): Command {
  return c
    .option('--compress', 'after training: prune + fine-tune, k-means sharing, export; HR/NDCG after each stage')
    .option(
      '--user-sparsity <s>',
      'fraction of the user table pruned',
      num('--user-sparsity', { min: 0, max: 1 }),
      REC_COMPRESS_DEFAULTS.userSparsity,
    )
    .option(
      '--item-sparsity <s>',
      'fraction of the item table pruned (rare rows included)',
      num('--item-sparsity', { min: 0, max: 1 }),
      REC_COMPRESS_DEFAULTS.itemSparsity,
    )
    .option(
      '--rare-items <n>',
      'items seen fewer times in training lose their whole row',
      num('--rare-items', { int: true, min: 0 }),
      REC_COMPRESS_DEFAULTS.rareItems,
    )
    .option('--user-bits <b>', 'k-means bits of the user table', num('--user-bits', { int: true, min: 1, max: 8 }), REC_COMPRESS_DEFAULTS.userBits)
    .option('--item-bits <b>', 'k-means bits of the item table', num('--item-bits', { int: true, min: 1, max: 8 }), REC_COMPRESS_DEFAULTS.itemBits)
    .option(
      '--fine-tune-epochs <n>',
      'masked fine-tuning epochs after pruning',
      num('--fine-tune-epochs', { int: true, min: 0 }),
      REC_COMPRESS_DEFAULTS.fineTuneEpochs,
    )
    .option('--fine-tune-lr <x>', 'learning rate of the masked fine-tuning', num('--fine-tune-lr', { min: 0 }), REC_COMPRESS_DEFAULTS.fineTuneLr)
    .option(
      '--mixed-dims <D0:F0,…,DL>',
      'per-frequency mixed dimensions: the most frequent F0 of the rows keep D0 columns, the next F1 D1, …, the rest DL (e.g. 64:0.1,32:0.2,16:0.3,8)',
    )
    .option('--gradual', 'prune gradually (polynomial schedule) over the fine-tuning epochs instead of at once')
    .option(
      '--ramp-epochs <n>',
      'with --gradual: epochs over which the sparsity rises (default: fine-tune epochs − 1)',
      num('--ramp-epochs', { int: true, min: 1 }),
    );
}

export function addRecommendCommand(program: Command): void {
  compressFlags(dataFlags(trainingFlags(program.command('recommend'))))
    .option('--out <dir>', 'write report.json (and with --compress model.slim.safetensors + items.json, the input of compress --interactions) here')
    .option('--json', 'print the report as JSON')
    .action(recommendCommand);
}
