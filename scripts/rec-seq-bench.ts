// node dist/scripts/rec-seq-bench.js [--users 2000 --items 600 --clusters 20 --min-length 8 --max-length 40 --seed 1]
//   [--models rec:seq-2-64-2-32,rec:dae-64,rec:mf-64] [--epochs 20] [--seq-epochs N] [--batch 128] [--lr X]
//   [--keep DIR] [--data SOURCE] [--compress U:I:bU:bI,... --fine-tune-epochs 1 --fine-tune-lr 0.0005]
// The rec:seq comparison of docs/rec-seq.md: writes a generated u.data with sequential structure
// (src/data/rec-seq-synth.ts: users walking item chains, drifting between clusters) to a temporary
// directory (or --keep DIR), loads it as `movielens:DIR` and trains each model with the protocol of
// `slimgpu train --task recommend`, printing one table row per model: epochs, best epoch, test
// NDCG@10 / HR@10, the ratio to popularity and the mean epoch time. --data debian-deps (or any
// source) skips the generator. --compress runs each pruning/sharing plan (user = the network's
// matrices, item = wte; sparsities and bits) on the trained rec:seq and prints its stage table.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu } from '../src/gpu/device.js';
import { sequentialUData, SEQ_SYNTH_DEFAULTS } from '../src/data/rec-seq-synth.js';
import { trainRecommender } from '../src/rec/run.js';
import { trainSeqRecommender } from '../src/rec/seq-run.js';
import { SEQ_DEFAULTS } from '../src/rec/seq.js';
import { REC_COMPRESS_DEFAULTS } from '../src/rec/compress.js';
import { compressSeq, formatSeqStages } from '../src/rec/seq-compress.js';
import type { SeqTrained } from '../src/rec/seq-run.js';
import type { Gpu } from '../src/gpu/device.js';

/** --compress U:I:bU:bI,...: each plan from the same trained dense weights; prints each plan's stage table. */
async function compressPlans(gpu: Gpu, t: SeqTrained, plans: string): Promise<void> {
  const dense = await t.model.readParams();
  for (const p of plans.split(',')) {
    const [us, is, ub, ib] = p.split(':').map(Number) as [number, number, number, number];
    await t.model.writeParams(new Map([...dense].map(([k, v]) => [k, v.slice()])));
    await t.model.setMasks(new Map([...dense].map(([k, v]) => [k, new Float32Array(v.length).fill(1)])));
    const plan = {
      ...REC_COMPRESS_DEFAULTS,
      userSparsity: us,
      itemSparsity: is,
      userBits: ub,
      itemBits: ib,
      fineTuneEpochs: num('fine-tune-epochs', REC_COMPRESS_DEFAULTS.fineTuneEpochs),
      fineTuneLr: num('fine-tune-lr', 0.0005),
    };
    const c = await compressSeq(gpu, t, plan, (l) => console.log(`[compress ${p}] ${l}`));
    console.log(formatSeqStages(c.rows, t.popularity.test.ndcg));
  }
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}
const num = (name: string, def: number) => Number(arg(name, String(def)));

async function main(): Promise<void> {
  const d = SEQ_SYNTH_DEFAULTS;
  const keep = arg('keep', '');
  let source = arg('data', '');
  const dir = source ? '' : keep || (await mkdtemp(join(tmpdir(), 'slimgpu-rec-seq-bench-')));
  if (!source) {
    await mkdir(dir, { recursive: true });
    const text = sequentialUData({
      users: num('users', d.users),
      items: num('items', d.items),
      clusters: num('clusters', d.clusters),
      minLength: num('min-length', d.minLength),
      maxLength: num('max-length', d.maxLength),
      seed: num('seed', d.seed),
    });
    await writeFile(join(dir, 'u.data'), text);
    source = `movielens:${dir}`;
  }
  const gpu = await createGpu();
  const rows: string[] = [
    '| data | model | epochs (best) | NDCG@10 | HR@10 | /popularity | s / epoch (contended) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  try {
    for (const model of arg('models', 'rec:seq-2-64-2-32,rec:dae-64,rec:mf-64').split(',')) {
      const seq = model.startsWith('rec:seq');
      const epochs = seq ? num('seq-epochs', num('epochs', 20)) : num('epochs', 20);
      const cfg = {
        data: source,
        model,
        epochs,
        batch: seq ? num('batch', SEQ_DEFAULTS.batch) : num('rec-batch', 128),
        lr: num(seq ? 'lr' : 'rec-lr', seq ? SEQ_DEFAULTS.lr : 0.01),
        weightDecay: seq ? num('weight-decay', SEQ_DEFAULTS.weightDecay) : 0,
        seed: 0,
        evalUsers: num('eval-users', 2000),
        reshuffle: !process.argv.includes('--no-reshuffle'),
      };
      const say = (l: string) => console.log(`[${model}] ${l}`);
      const t = seq ? await trainSeqRecommender(gpu, cfg, say) : await trainRecommender(gpu, cfg, say);
      const secs = t.epochs.reduce((a, e) => a + e.seconds, 0) / t.epochs.length;
      rows.push(
        `| ${source.replace(/^movielens:.*/, 'generated sequential u.data')} | ${model} | ${epochs} (${t.best}) | ${t.test.ndcg.toFixed(4)} | ${t.test.hr.toFixed(4)} | ${(t.test.ndcg / t.popularity.test.ndcg).toFixed(2)}× | ${secs.toFixed(2)} |`,
      );
      if (rows.length === 3)
        rows.splice(2, 0, `| | popularity | | ${t.popularity.test.ndcg.toFixed(4)} | ${t.popularity.test.hr.toFixed(4)} | 1.00× | |`);
      if (seq && arg('compress', '')) await compressPlans(gpu, t as SeqTrained, arg('compress', ''));
      t.model.dispose();
    }
    console.log(rows.join('\n'));
  } finally {
    gpu.destroy();
    if (dir && !keep) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
