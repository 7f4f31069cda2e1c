// npm run results:rec [-- --data SOURCE] [-- --model mf|dae] [-- --dim D] [-- --epochs N]: the recommender's Deep
// Compression table — train rec:mf-D, then prune + fine-tune, k-means share, export — with the
// test HR@10 / NDCG@10 (full ranking, all users) after each stage and the popularity baseline.
// Writes results/REC-RESULTS.md and results/rec-results.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { createGpu } from '../src/gpu/device.js';
import { REC_COMPRESS_DEFAULTS, type RecCompressPlan } from '../src/rec/compress.js';
import { REC_DEFAULTS, trainRecommender, type RecConfig } from '../src/rec/run.js';
import { compressRecommender, formatStages } from '../src/rec/stages.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const data = arg('data') ?? 'debian-deps';
  const dim = Number(arg('dim') ?? 64);
  const kind = arg('model') ?? 'mf';
  const cfg: RecConfig = {
    ...REC_DEFAULTS,
    data,
    model: `rec:${kind}-${dim}`,
    epochs: Number(arg('epochs') ?? REC_DEFAULTS.epochs),
    lr: Number(arg('lr') ?? REC_DEFAULTS.lr),
    userLrScale: Number(arg('user-lr-scale') ?? REC_DEFAULTS.userLrScale),
    batch: Number(arg('batch') ?? REC_DEFAULTS.batch),
    weightDecay: Number(arg('weight-decay') ?? REC_DEFAULTS.weightDecay),
    dataOptions: { debianFile: arg('debian-file') },
  };
  const plan: RecCompressPlan = {
    ...REC_COMPRESS_DEFAULTS,
    userSparsity: Number(arg('user-sparsity') ?? REC_COMPRESS_DEFAULTS.userSparsity),
    itemSparsity: Number(arg('item-sparsity') ?? REC_COMPRESS_DEFAULTS.itemSparsity),
    userBits: Number(arg('user-bits') ?? REC_COMPRESS_DEFAULTS.userBits),
    itemBits: Number(arg('item-bits') ?? REC_COMPRESS_DEFAULTS.itemBits),
    fineTuneEpochs: Number(arg('fine-tune-epochs') ?? REC_COMPRESS_DEFAULTS.fineTuneEpochs),
    fineTuneLr: Number(arg('fine-tune-lr') ?? REC_COMPRESS_DEFAULTS.fineTuneLr),
    rareItems: Number(arg('rare-items') ?? REC_COMPRESS_DEFAULTS.rareItems),
  };
  const gpu = await createGpu();
  const lines: string[] = [];
  const say = (l: string) => {
    console.log(l);
    lines.push(l);
  };
  const t0 = performance.now();
  const t = await trainRecommender(gpu, cfg, say);
  // --plans 'us:is:ub:ib,...' (user sparsity, item sparsity, user bits, item bits): each plan starts
  // from the same trained dense tables with a fresh optimizer
  const plans = (arg('plans') ?? `${plan.userSparsity}:${plan.itemSparsity}:${plan.userBits}:${plan.itemBits}`).split(',').map((p) => {
    const [us, is, ub, ib] = p.split(':').map(Number);
    return { ...plan, userSparsity: us!, itemSparsity: is!, userBits: ub!, itemBits: ib! };
  });
  const dense = await t.model.readTables();
  const tables: string[] = [];
  const stages = [];
  for (const p of plans) {
    t.model.writeTables(dense);
    await t.model.setMask(undefined);
    t.model.resetOptimizer();
    const c = await compressRecommender(gpu, t, p, say);
    stages.push({ plan: p, rows: c.rows, fileBytes: c.bytes.length });
    tables.push(formatStages(c.rows, t.popularity.test.ndcg));
    console.log(tables[tables.length - 1]);
  }
  const table = tables.join('\n\n');
  const when = new Date().toISOString();
  const seconds = (performance.now() - t0) / 1000;
  await mkdir('results', { recursive: true });
  const md = [
    `# Recommendation: compressed embedding tables (${cfg.model} on ${data})`,
    '',
    `Run ${when} on ${gpu.info.description || gpu.info.device} (${seconds.toFixed(0)} s in all; timings on a shared machine are contended).`,
    `Command: \`npm run results:rec -- ${process.argv.slice(2).join(' ')}\``,
    '',
    '```',
    ...lines,
    '',
    table,
    '```',
    '',
  ].join('\n');
  await writeFile('results/REC-RESULTS.md', md);
  await writeFile(
    'results/rec-results.json',
    JSON.stringify({ when, data, cfg, plan, popularity: t.popularity, epochs: t.epochs, best: t.best, test: t.test, stages, seconds }, null, 2) +
      '\n',
  );
  t.model.dispose();
  gpu.destroy();
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
