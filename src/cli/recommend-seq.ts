// `slimgpu train --task recommend --model rec:seq-L-D-H-T` (recommend.ts hands rec:seq models here):
// the same flags; --batch counts windows of T items per step, and --lr, --batch and --weight-decay
// take rec:seq's own defaults (SEQ_DEFAULTS; --fine-tune-lr: SEQ_FINE_TUNE_LR) when not given. --compress runs the networks' Deep
// Compression path (src/rec/seq-compress.ts): --item-sparsity/--item-bits act on the item table
// (wte, also the tied output layer), --user-sparsity/--user-bits on every other matrix.
import type { Command } from 'commander';
import { createGpu } from '../gpu/device.js';
import type { RecCompressPlan } from '../rec/compress.js';
import type { RecConfig } from '../rec/run.js';
import { SEQ_DEFAULTS, SEQ_FINE_TUNE_LR } from '../rec/seq.js';
import { compressSeq, formatSeqStages } from '../rec/seq-compress.js';
import { trainSeqRecommender } from '../rec/seq-run.js';

/** The config with rec:seq's defaults for the flags the user did not give. */
export function seqConfig(cfg: RecConfig, cmd?: Command): RecConfig {
  const given = (k: string) => cmd?.getOptionValueSource(k) === 'cli';
  return {
    ...cfg,
    lr: given('lr') ? cfg.lr : SEQ_DEFAULTS.lr,
    batch: given('batch') ? cfg.batch : SEQ_DEFAULTS.batch,
    weightDecay: given('weightDecay') ? cfg.weightDecay : SEQ_DEFAULTS.weightDecay,
  };
}

export async function seqRecommendCommand(
  cfg: RecConfig,
  plan: RecCompressPlan,
  f: { compress?: boolean; out?: string; json?: boolean },
  cmd?: Command,
): Promise<void> {
  const c = seqConfig(cfg, cmd);
  if (cmd?.getOptionValueSource('fineTuneLr') !== 'cli') plan = { ...plan, fineTuneLr: SEQ_FINE_TUNE_LR };
  const say = f.json ? () => {} : (l: string) => console.log(l);
  const gpu = await createGpu();
  try {
    const t = await trainSeqRecommender(gpu, c, say);
    const report: Record<string, unknown> = {
      data: c.data,
      model: c.model,
      users: t.split.nUsers,
      items: t.split.nItems,
      interactions: t.split.interactions,
      order: t.split.timed ? 'timestamp' : 'seeded random (no timestamps)',
      popularity: t.popularity,
      epochs: t.epochs,
      bestEpoch: t.best,
      test: t.test,
      adapter: gpu.info.description,
    };
    const { writeFileAtomic } = await import('../io/files.js');
    if (f.out) await (await import('node:fs/promises')).mkdir(f.out, { recursive: true });
    if (f.compress) {
      const s = await compressSeq(gpu, t, plan, say);
      report.stages = s.rows;
      if (!f.json) console.log(formatSeqStages(s.rows, t.popularity.test.ndcg));
      if (f.out) {
        await writeFileAtomic(`${f.out}/model.slim.safetensors`, [s.bytes]);
        await writeFileAtomic(`${f.out}/items.json`, [new TextEncoder().encode(JSON.stringify(t.log.items) + '\n')]);
        say(`wrote ${f.out}/model.slim.safetensors (${s.bytes.length} bytes; token ${t.split.nItems} is PAD) and items.json`);
      }
    }
    if (f.out) await writeFileAtomic(`${f.out}/report.json`, [new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n')]);
    if (f.json) console.log(JSON.stringify(report, null, 2));
    t.model.dispose();
  } finally {
    gpu.destroy();
  }
}
