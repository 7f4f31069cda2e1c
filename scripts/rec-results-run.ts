// The recommender's Deep Compression table, shared by `npm run results:rec` and `npm run results --
// --only rec`: train rec:mf-D / rec:dae-D (or load its saved dense tables), then for each plan
// prune (+ mixed dimensions, gradual or one-shot) + masked fine-tuning, k-means share, export — with
// the test HR@10 / NDCG@10 (full ranking, all users) after each stage, the popularity baseline, and
// one table comparing the plans (ratio vs NDCG@10). Writes OUT/REC-RESULTS.md (or --out-md) and
// OUT/rec-results.json (or --out-json); --save-dense FILE / --load-dense FILE keep the dense tables.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Gpu } from '../src/gpu/device.js';
import { REC_COMPRESS_DEFAULTS, type RecCompressPlan } from '../src/rec/compress.js';
import { parseMixedDims } from '../src/rec/mixed.js';
import { checkPlan, describePlan, formatPlanTable, parsePlansJson, parsePlansList } from '../src/rec/plans.js';
import { REC_DEFAULTS, trainRecommender, type RecConfig, type RecTrained } from '../src/rec/run.js';
import { compressRecommender, formatStages } from '../src/rec/stages.js';

/** What `npm run results` runs for its recommendation group (the plans measured in docs/rec-compression.md). */
export const REC_RESULTS_ARGS = [
  '--model',
  'dae',
  '--dim',
  '64',
  '--epochs',
  '8',
  '--lr',
  '0.01',
  '--plans-json',
  JSON.stringify([
    { userSparsity: 0.5, itemSparsity: 0.5, userBits: 2, itemBits: 2, fineTuneEpochs: 2, fineTuneLr: 0.002, shareEpochs: 2 },
    {
      mixedDims: '64:0.15,32:0.2,16:0.3,8',
      userSparsity: 0,
      itemSparsity: 0,
      userBits: 2,
      itemBits: 2,
      fineTuneEpochs: 3,
      fineTuneLr: 0.004,
      shareEpochs: 2,
    },
  ]),
];

const argOf = (argv: string[]) => (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

function configOf(argv: string[]): { cfg: RecConfig; dim: number; base: RecCompressPlan } {
  const arg = argOf(argv);
  const dim = Number(arg('dim') ?? 64);
  const cfg: RecConfig = {
    ...REC_DEFAULTS,
    data: arg('data') ?? 'debian-deps',
    model: `rec:${arg('model') ?? 'mf'}-${dim}`,
    epochs: Number(arg('epochs') ?? REC_DEFAULTS.epochs),
    lr: Number(arg('lr') ?? REC_DEFAULTS.lr),
    userLrScale: Number(arg('user-lr-scale') ?? REC_DEFAULTS.userLrScale),
    batch: Number(arg('batch') ?? REC_DEFAULTS.batch),
    weightDecay: Number(arg('weight-decay') ?? REC_DEFAULTS.weightDecay),
    dataOptions: { debianFile: arg('debian-file') },
  };
  const num = (n: string, d: number) => Number(arg(n) ?? d);
  const md = arg('mixed-dims');
  const base = checkPlan({
    ...REC_COMPRESS_DEFAULTS,
    userSparsity: num('user-sparsity', REC_COMPRESS_DEFAULTS.userSparsity),
    itemSparsity: num('item-sparsity', REC_COMPRESS_DEFAULTS.itemSparsity),
    userBits: num('user-bits', REC_COMPRESS_DEFAULTS.userBits),
    itemBits: num('item-bits', REC_COMPRESS_DEFAULTS.itemBits),
    fineTuneEpochs: num('fine-tune-epochs', REC_COMPRESS_DEFAULTS.fineTuneEpochs),
    fineTuneLr: num('fine-tune-lr', REC_COMPRESS_DEFAULTS.fineTuneLr),
    rareItems: num('rare-items', REC_COMPRESS_DEFAULTS.rareItems),
    mixedDims: md === undefined ? undefined : parseMixedDims(md, dim),
    gradual: argv.includes('--gradual') ? true : undefined,
  });
  return { cfg, dim, base };
}

async function loadDense(file: string, cfg: RecConfig): Promise<void> {
  const f = new Float32Array(new Uint8Array(await readFile(file)).buffer);
  const meta = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { model: string; nU: number; nI: number; D: number };
  if (meta.model !== cfg.model) throw new Error(`rec-results: ${file} holds ${meta.model}, not ${cfg.model}`);
  const a = meta.nU * meta.D,
    c = a + meta.nI * meta.D;
  if (f.length !== c + meta.nI) throw new Error(`rec-results: ${file} holds ${f.length} floats, ${meta.model} needs ${c + meta.nI}`);
  cfg.initTables = { U: f.slice(0, a), V: f.slice(a, c), b: f.slice(c) };
  cfg.epochs = 0;
}

async function saveDense(file: string, cfg: RecConfig, t: RecTrained, dense: { U: Float32Array; V: Float32Array; b: Float32Array }) {
  const all = new Float32Array(dense.U.length + dense.V.length + dense.b.length);
  all.set(dense.U);
  all.set(dense.V, dense.U.length);
  all.set(dense.b, dense.U.length + dense.V.length);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, new Uint8Array(all.buffer));
  await rename(`${file}.tmp`, file);
  const meta = { model: cfg.model, data: cfg.data, nU: t.model.nU, nI: t.model.nI, D: t.model.D, test: t.test, best: t.best, epochs: t.epochs };
  await writeFile(`${file}.json`, JSON.stringify(meta, null, 1) + '\n');
}

/** Runs the table for `argv` (rec-results' flags); returns the plan table (markdown). */
export async function recResults(gpu: Gpu, argv: string[], outDir = 'results', command = 'npm run results:rec'): Promise<string> {
  const arg = argOf(argv);
  const { cfg, dim, base } = configOf(argv);
  const json = arg('plans-json');
  const plans = json
    ? parsePlansJson(json, base, dim)
    : parsePlansList(arg('plans') ?? `${base.userSparsity}:${base.itemSparsity}:${base.userBits}:${base.itemBits}`, base);
  const load = arg('load-dense');
  if (load) await loadDense(load, cfg);
  const lines: string[] = [];
  const say = (l: string) => {
    console.log(l);
    lines.push(l);
  };
  const t0 = performance.now();
  const t = await trainRecommender(gpu, cfg, say);
  const dense = await t.model.readTables();
  const save = arg('save-dense');
  if (save) await saveDense(save, cfg, t, dense);
  const tables: string[] = [];
  const stages = [];
  // each plan starts from the same trained dense tables with a fresh optimizer
  for (const p of plans) {
    t.model.writeTables(dense);
    await t.model.setMask(undefined);
    t.model.resetOptimizer();
    say(`plan: ${describePlan(p)}`);
    const c = await compressRecommender(gpu, t, p, say);
    stages.push({ plan: p, rows: c.rows, fileBytes: c.bytes.length });
    tables.push(formatStages(c.rows, t.popularity.test.ndcg));
    console.log(tables[tables.length - 1]);
    const file = arg('save-files');
    if (file) {
      await mkdir(file, { recursive: true });
      await writeFile(`${file}/plan${stages.length}.slim.safetensors`, c.bytes);
    }
  }
  const planTable = formatPlanTable(stages, t.popularity.test.ndcg);
  const when = new Date().toISOString();
  const seconds = (performance.now() - t0) / 1000;
  await mkdir(outDir, { recursive: true });
  const md = [
    `# Recommendation: compressed embedding tables (${cfg.model} on ${cfg.data})`,
    '',
    `Run ${when} on ${gpu.info.description || gpu.info.device} (${seconds.toFixed(0)} s in all; timings on a shared machine are contended).`,
    `Command: \`${command}\` (= \`npm run results:rec -- ${argv.map((a) => (/^[\w.:/=,-]+$/.test(a) ? a : `'${a}'`)).join(' ')}\`)`,
    '',
    planTable,
    '',
    '```',
    ...lines,
    '',
    tables.join('\n\n'),
    '```',
    '',
  ].join('\n');
  await writeFile(arg('out-md') ?? `${outDir}/REC-RESULTS.md`, md);
  const summary = { when, data: cfg.data, model: cfg.model, cfg: { ...cfg, initTables: undefined }, argv, planTable };
  const full = { ...summary, popularity: t.popularity, epochs: t.epochs, best: t.best, test: t.test, stages, seconds };
  await writeFile(arg('out-json') ?? `${outDir}/rec-results.json`, JSON.stringify(full, null, 2) + '\n');
  t.model.dispose();
  return planTable;
}

/** The recommendation section of results/RESULTS.md, from OUT/rec-plans.json (written by `npm run results -- --only rec`; '' when there is none). */
export async function recSection(outDir: string): Promise<string> {
  let j: { when: string; model: string; data: string; argv: string[]; planTable: string };
  try {
    j = JSON.parse(await readFile(`${outDir}/rec-plans.json`, 'utf8')) as typeof j;
  } catch {
    return '';
  }
  if (!j.planTable) return '';
  return [
    '',
    `## Recommendation: compressed embedding tables (${j.model} on ${j.data})`,
    '',
    `Deep Compression's table for a recommender (docs/rec-compression.md): each plan starts from the same dense tables; the ratio is fp32 dense bytes / the \`.slim.safetensors\` file; NDCG@10 by full ranking over every item, all test users. Run ${j.when} by \`npm run results -- --only rec\`${j.argv.includes('--load-dense') ? ' (from saved dense tables, `--rec-load-dense`)' : ''}; the stages of each plan are in REC-PLANS.md.`,
    '',
    j.planTable,
    '',
  ].join('\n');
}

/** `md` with its recommendation section (from '\n## Recommendation: compressed embedding tables' to the end) replaced by `section`. */
export function replaceRecSection(md: string, section: string): string {
  const at = md.indexOf('\n## Recommendation: compressed embedding tables');
  return (at >= 0 ? md.slice(0, at) : md.replace(/\n*$/, '\n')) + section;
}
