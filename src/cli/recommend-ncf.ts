// `slimgpu train --task recommend --model rec:ncf-D-H…`: train NeuMF with BPR, print the report, and
// with --compress the stages (prune + fine-tune, k-means sharing, .slim.safetensors) — the rec:ncf
// branch of src/cli/recommend.ts (same flags, same report fields).
import { createGpu } from '../gpu/device.js';
import type { RecCompressPlan } from '../rec/compress.js';
import { compressNcf } from '../rec/ncf-compress.js';
import { trainNcf, type NcfConfig } from '../rec/ncf-run.js';
import { formatStages } from '../rec/stages.js';

export async function recommendNcf(cfg: NcfConfig, plan: RecCompressPlan, f: { compress?: boolean; out?: string; json?: boolean }): Promise<void> {
  const say = f.json ? () => {} : (l: string) => console.log(l);
  const gpu = await createGpu();
  try {
    const t = await trainNcf(gpu, cfg, say);
    const report: Record<string, unknown> = {
      data: cfg.data,
      model: cfg.model,
      loss: 'bpr',
      pairs: t.model.K,
      negatives: cfg.negatives ?? 'uniform',
      users: t.split.nUsers,
      items: t.split.nItems,
      interactions: t.split.interactions,
      popularity: t.popularity,
      epochs: t.epochs,
      bestEpoch: t.best,
      test: t.test,
      rmse: 'n/a (rec:ncf ranks; the rating head runs with rec:mf / rec:dae)',
      adapter: gpu.info.description,
    };
    const { writeFileAtomic } = await import('../io/files.js');
    if (f.out) {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(f.out, { recursive: true });
    }
    if (f.compress) {
      const c = await compressNcf(gpu, t, plan, say);
      report.stages = c.rows;
      if (!f.json) console.log(formatStages(c.rows, t.popularity.test.ndcg));
      if (f.out) {
        await writeFileAtomic(`${f.out}/model.slim.safetensors`, [c.bytes]);
        await writeFileAtomic(`${f.out}/items.json`, [new TextEncoder().encode(JSON.stringify(t.log.items) + '\n')]);
        say(`wrote ${f.out}/model.slim.safetensors (${c.bytes.length} bytes) and items.json (the model's items, sorted)`);
      }
    }
    if (f.out) await writeFileAtomic(`${f.out}/report.json`, [new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n')]);
    if (f.json) console.log(JSON.stringify(report, null, 2));
    t.model.dispose();
  } finally {
    gpu.destroy();
  }
}
