// `slimgpu export --format torch --out model.safetensors (--checkpoint C [--bits b …] | --compressed F)`:
// the model's dense weights (pruned = 0, shared = their codebook values) as a plain F32 safetensors
// state_dict in PyTorch's names and layouts (src/io/torch.ts), which the twins in python/twins.py
// load with load_state_dict(strict=True). From a checkpoint, --bits first shares the weights and
// fine-tunes the centroids as `export --format slim` does; from a compressed file, the weights are
// exactly its decoded values.
import type { InitMethod } from '../compress/sharing.js';
import type { PerLayer } from '../nn/targets.js';
import { createGpu } from '../gpu/device.js';
import { decodeCompressed } from '../io/export.js';
import { readFileBytes, writeFileAtomic } from '../io/files.js';
import { exportStateDict, type NameScheme } from '../io/torch.js';
import type { ModelSpec } from '../nn/model.js';
import { compressNetwork, loadData, readCheckpoint, type RunConfig } from '../run/run.js';

export interface ExportTorchFlags {
  checkpoint?: string;
  compressed?: string;
  out: string;
  names: NameScheme;
  bits?: PerLayer;
  convBits: number;
  shareInit: InitMethod;
  fineTuneSteps?: number;
  fineTuneLr?: number;
  fineTuneDenseLr?: number;
  json?: boolean;
  qatSteps?: number;
  qatLr?: number;
  qatRefitEvery?: number;
  qatCentroidLr?: number;
  qatDampen?: number;
  qatIterations?: number;
  qatStages?: string;
}

/** A checkpoint's run config with the export flags' weight-sharing settings (the fine-tuning rates fall back to the checkpoint's). */
export function sharingConfig(
  cfg: RunConfig,
  f: Pick<
    ExportTorchFlags,
    | 'bits'
    | 'convBits'
    | 'shareInit'
    | 'fineTuneSteps'
    | 'fineTuneLr'
    | 'fineTuneDenseLr'
    | 'qatSteps'
    | 'qatLr'
    | 'qatRefitEvery'
    | 'qatCentroidLr'
    | 'qatDampen'
    | 'qatIterations'
    | 'qatStages'
  >,
): RunConfig {
  return {
    ...cfg,
    bits: f.bits?.default,
    layerBits: f.bits && Object.keys(f.bits.layers).length ? f.bits.layers : undefined,
    convBits: f.convBits,
    shareInit: f.shareInit,
    fineTuneSteps: f.fineTuneSteps,
    fineTuneLr: f.fineTuneLr ?? cfg.fineTuneLr,
    fineTuneDenseLr: f.fineTuneDenseLr ?? cfg.fineTuneDenseLr,
    // the export's own QAT fine-tuning (the training run's QAT settings do not apply here)
    qatBits: undefined,
    qatLayerBits: undefined,
    qatBegin: undefined,
    qatSteps: f.qatSteps,
    qatLr: f.qatLr,
    qatRefitEvery: f.qatRefitEvery,
    qatCentroidLr: f.qatCentroidLr,
    qatDampen: f.qatDampen,
    qatIterations: f.qatIterations,
    qatStages: f.qatStages,
  };
}

async function fromCheckpoint(f: ExportTorchFlags): Promise<{ spec: ModelSpec; values: Map<string, Float32Array> }> {
  const gpu = await createGpu();
  try {
    const r = await readCheckpoint(gpu, f.checkpoint!);
    try {
      if (f.bits !== undefined) {
        const cfg = sharingConfig(r.cfg, f);
        const data = await loadData(cfg.data, { dataDir: cfg.dataDir, trainSize: cfg.trainSize, testSize: cfg.testSize, seed: cfg.seed });
        await compressNetwork(r.net, cfg, data.train, data.test);
      }
      return { spec: r.net.spec, values: await r.net.arena.read('weights') };
    } finally {
      r.net.dispose();
    }
  } finally {
    gpu.destroy();
  }
}

export async function exportTorchCommand(f: ExportTorchFlags): Promise<void> {
  if (!f.checkpoint === !f.compressed)
    throw new Error('slimgpu export --format torch: needs exactly one of --checkpoint <path> or --compressed <path>');
  if (f.compressed && f.bits !== undefined)
    throw new Error('slimgpu export --format torch: --bits applies to --checkpoint; a --compressed file is written out as it is');
  let spec: ModelSpec, values: Map<string, Float32Array>;
  if (f.compressed) ({ spec, values } = decodeCompressed(await readFileBytes(f.compressed, 'compressed model'), { name: f.compressed }));
  else ({ spec, values } = await fromCheckpoint(f));
  const source = f.compressed ?? f.checkpoint!;
  const chunks = exportStateDict(spec, values, f.names, { source });
  await writeFileAtomic(f.out, chunks);
  const bytes = chunks.reduce((s, c) => s + c.byteLength, 0);
  let nonzero = 0,
    total = 0;
  for (const v of values.values()) {
    total += v.length;
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) nonzero++;
  }
  if (f.json) console.log(JSON.stringify({ out: f.out, source, model: spec.name, names: f.names, bytes, params: total, nonzeros: nonzero }, null, 2));
  else console.log(`wrote ${f.out} (${bytes} bytes): model ${spec.name}, ${total} parameters (${nonzero} non-zero), ${f.names} names, dense F32`);
}
