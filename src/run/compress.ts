// The compression end of a run: per-layer codebook bits, k-means weight sharing + centroid
// fine-tuning, or quantisation-aware training (during `train`, or as the export's fine-tuning of
// a checkpoint), and the compressed export. Used by run.ts and the CLI's export commands.
import { RUN_DEFAULTS, RunError, type RunConfig } from './config.js';
import { resolvePerLayer } from '../nn/targets.js';
import { fineTuneCentroids, shareWeights, type WeightSharing } from '../compress/sharing.js';
import { exportCompressed } from '../io/export.js';
import { sampleCount, type AnyDataset } from '../nn/network.js';
import type { QatOptions } from '../nn/qat.js';
import { evaluate, Network, trainNetwork, type EvalResult, type TrainOptions } from '../nn/trainer.js';
import { thrower } from '../gpu/errors.js';

/** Codebook bits of every layer with weights (undefined: no sharing): layerBits, else bits (dense) / convBits (conv, default 8). */
export function bitsPerLayer(
  net: Network,
  cfg: Pick<RunConfig, 'bits' | 'convBits' | 'layerBits'>,
  flag = 'bits',
): Record<string, number> | undefined {
  const given = cfg.layerBits && Object.keys(cfg.layerBits).length > 0;
  if (cfg.bits === undefined && !given) return undefined;
  const layers = net.layers.filter((l) => l.weightShape).map((l) => ({ name: l.name, kind: l.spec.kind }));
  let per: Map<string, number | undefined>;
  try {
    per = resolvePerLayer({ layers: cfg.layerBits ?? {} }, layers, flag);
  } catch (e) {
    throw new RunError((e as Error).message);
  }
  const out: Record<string, number> = {};
  for (const l of layers) {
    const b = per.get(l.name) ?? (l.kind === 'conv2d' ? (cfg.convBits ?? RUN_DEFAULTS.convBits) : (cfg.bits ?? RUN_DEFAULTS.bits));
    if (!Number.isInteger(b) || b < 1 || b > 8) throw new RunError(`${flag} of layer '${l.name}' must be an integer in [1, 8], got ${b}`);
    out[l.name] = b;
  }
  return out;
}

/** The trainer's QAT options of a run config (undefined without qatBits / qatLayerBits); errors name the flag. */
export function qatOptionsOf(net: Network, cfg: RunConfig): QatOptions | undefined {
  const bits = bitsPerLayer(net, { bits: cfg.qatBits, layerBits: cfg.qatLayerBits, convBits: cfg.convBits }, '--qat-bits');
  if (!bits) {
    for (const k of ['qatBegin', 'qatRefitEvery'] as const) {
      if (cfg[k] !== undefined)
        throw new RunError(`--${k === 'qatBegin' ? 'qat-begin' : 'qat-refit-every'} needs --qat-bits (quantisation-aware training)`);
    }
    return undefined;
  }
  const share = bitsPerLayer(net, cfg);
  if (share) {
    for (const [k, b] of Object.entries(share)) {
      if (bits[k] !== b)
        throw new RunError(
          `--bits gives layer '${k}' ${b} bits but --qat-bits ${bits[k]}; with --qat-bits the export writes the QAT codebooks (leave out --bits)`,
        );
    }
  }
  if (cfg.qatBegin !== undefined && (!Number.isInteger(cfg.qatBegin) || cfg.qatBegin < 0))
    throw new RunError(`--qat-begin must be a non-negative integer, got ${cfg.qatBegin}`);
  if (cfg.qatRefitEvery !== undefined && (!Number.isInteger(cfg.qatRefitEvery) || cfg.qatRefitEvery < 0))
    throw new RunError(`--qat-refit-every must be a non-negative integer, got ${cfg.qatRefitEvery}`);
  if (cfg.qatCentroidLr !== undefined && (!Number.isFinite(cfg.qatCentroidLr) || cfg.qatCentroidLr < 0))
    throw new RunError(`--qat-centroid-lr must be a finite number ≥ 0, got ${cfg.qatCentroidLr}`);
  if (cfg.qatDampen !== undefined && (!Number.isFinite(cfg.qatDampen) || cfg.qatDampen < 0))
    throw new RunError(`--qat-dampen must be a finite number ≥ 0, got ${cfg.qatDampen}`);
  if (cfg.qatIterations !== undefined && (!Number.isInteger(cfg.qatIterations) || cfg.qatIterations < 0))
    throw new RunError(`--qat-iterations must be a non-negative integer, got ${cfg.qatIterations}`);
  return {
    bits,
    begin: cfg.qatBegin,
    refitEvery: cfg.qatRefitEvery,
    centroidLr: cfg.qatCentroidLr,
    dampen: cfg.qatDampen,
    iterations: cfg.qatIterations,
  };
}

/**
 * The training options of the export's QAT fine-tuning of a checkpoint: qatSteps steps with the
 * run's optimizer from fresh moments, a cosine schedule from qatLr (default lr / 10), no pruning
 * (the checkpoint's masks stay), QAT from the first step.
 */
export function qatTrainOptions(net: Network, cfg: RunConfig, train: AnyDataset, bits: Record<string, number>): TrainOptions {
  const steps = cfg.qatSteps!;
  if (!Number.isInteger(steps) || steps < 1) throw new RunError(`--qat-steps must be a positive integer, got ${steps}`);
  const lr = cfg.qatLr ?? cfg.lr * 0.1;
  if (!Number.isFinite(lr) || lr <= 0) throw new RunError(`--qat-lr must be a finite number > 0, got ${lr}`);
  const batch = Math.min(cfg.batch, sampleCount(net.spec, train));
  const perEpoch = Math.max(1, Math.floor(sampleCount(net.spec, train) / batch));
  return {
    ...cfg,
    batch,
    lr,
    epochs: Math.ceil(steps / perEpoch),
    maxSteps: steps,
    lrSchedule: 'cosine',
    warmup: 0,
    sparsity: 0,
    layerSparsity: undefined,
    checkpointEvery: undefined,
    logEvery: Math.min(steps, 100),
    qat: { bits, begin: 0, refitEvery: cfg.qatRefitEvery, centroidLr: cfg.qatCentroidLr, dampen: cfg.qatDampen, iterations: cfg.qatIterations },
  };
}

/**
 * The layers each stage of a staged QAT quantises (cumulative), from `spec` = 'G1;G2;…' where a
 * group is a comma list of layer-name prefixes ('wte,wpe;h0;h1'): stage i quantises every layer
 * matched by groups 1..i; layers no group matches join a last stage. Errors name --qat-stages.
 */
export function qatStagesOf(layers: string[], spec: string): string[][] {
  const bad = thrower(RunError, `--qat-stages: `);
  if (typeof spec !== 'string' || spec.trim() === '')
    bad(`expected groups of layer-name prefixes separated by ';', e.g. 'wte,wpe;h0;h1', got '${String(spec)}'`);
  const groups = spec.split(';').map((g) => g.split(',').map((x) => x.trim()));
  const done = new Set<string>();
  const out: string[][] = [];
  for (const g of groups) {
    for (const prefix of g) {
      if (prefix === '') bad(`empty layer prefix in '${spec}'`);
      const hit = layers.filter((l) => l === prefix || l.startsWith(prefix.endsWith('.') ? prefix : `${prefix}.`));
      if (hit.length === 0) bad(`'${prefix}' matches no layer with weights (layers: ${layers.join(', ')})`);
      for (const l of hit) done.add(l);
    }
    out.push(layers.filter((l) => done.has(l)));
  }
  if (done.size < layers.length) out.push([...layers]);
  return out;
}

/**
 * Weight sharing (when cfg.bits or cfg.layerBits is set) and the compressed export: returns the file's bytes and,
 * when sharing was applied, the test result of the pruned model before it. `qat`: the codebooks a
 * QAT run ended on (the arena holds exactly their values): written as they are, after
 * cfg.fineTuneSteps (default 0 then) centroid fine-tuning steps. With cfg.qatSteps (and bits), the
 * sharing is that many QAT steps instead of k-means + centroid fine-tuning (per stage of
 * cfg.qatStages, when given).
 */
export async function compressNetwork(
  net: Network,
  cfg: RunConfig,
  train: AnyDataset,
  test: AnyDataset,
  qat?: WeightSharing,
): Promise<{ bytes: Uint8Array; sharing?: WeightSharing; pruned?: EvalResult }> {
  const fineTune = (s: WeightSharing, steps: number) =>
    fineTuneCentroids(net, s, train, {
      steps,
      lr: cfg.fineTuneLr ?? cfg.lr * 0.1,
      batch: Math.min(cfg.batch, sampleCount(net.spec, train)),
      seed: cfg.seed,
      denseLr: cfg.fineTuneDenseLr,
      optimizer: cfg.optimizer,
    });
  if (qat) {
    let sharing = qat;
    const steps = cfg.fineTuneSteps ?? 0;
    if (steps > 0) sharing = (await fineTune(sharing, steps)).sharing;
    return { bytes: await exportCompressed(net, sharing), sharing };
  }
  if (cfg.qatStages !== undefined && cfg.qatSteps === undefined) throw new RunError('--qat-stages needs --qat-steps (the steps of each stage)');
  const bits = bitsPerLayer(net, cfg);
  if (!bits) {
    if (cfg.qatSteps !== undefined) throw new RunError('--qat-steps needs --bits (the codebook bits of the QAT fine-tuning)');
    return { bytes: await exportCompressed(net) };
  }
  const pruned = await evaluate(net, test, { batch: cfg.evalBatch });
  let sharing: WeightSharing;
  if (cfg.qatSteps !== undefined) {
    // staged: each stage quantises more layers (the earlier ones stay quantised) with its own
    // qatSteps, fresh moments and cosine cycle; the layers quantised last adapt to the earlier ones
    const stages = cfg.qatStages !== undefined ? qatStagesOf(Object.keys(bits), cfg.qatStages) : [Object.keys(bits)];
    let last: WeightSharing | undefined;
    for (const layers of stages) {
      const o = qatTrainOptions(net, cfg, train, Object.fromEntries(layers.map((l) => [l, bits[l]!])));
      const enc = net.gpu.device.createCommandEncoder({ label: 'qat.clearMoments' });
      enc.clearBuffer(net.arena.parts.momentum.buffer);
      if (net.arena.parts.variance) enc.clearBuffer(net.arena.parts.variance.buffer);
      net.gpu.device.queue.submit([enc.finish()]);
      last = (await trainNetwork(net, train, o, { step: 0 })).qat!;
    }
    sharing = last!;
    const steps = cfg.fineTuneSteps ?? 0;
    if (steps > 0) sharing = (await fineTune(sharing, steps)).sharing;
  } else {
    sharing = await shareWeights(net, { bits, init: cfg.shareInit ?? 'linear', seed: cfg.seed });
    const steps = cfg.fineTuneSteps ?? 100;
    if (steps > 0) sharing = (await fineTune(sharing, steps)).sharing;
  }
  return { bytes: await exportCompressed(net, sharing), sharing, pruned };
}
