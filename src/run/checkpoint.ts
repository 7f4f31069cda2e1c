// A run's checkpoints: write one from a live network, read one back (model, config, step).
import type { Gpu } from '../gpu/device.js';
import { loadCheckpoint, saveCheckpoint, type Checkpoint, type Json } from '../io/checkpoint.js';
import type { TensorMap } from '../io/safetensors.js';
import { modelParams, resolveModel, type ModelSpec } from '../nn/model.js';
import { Network } from '../nn/trainer.js';
import { RunError, type RunConfig } from './config.js';

// ---- checkpoints -----------------------------------------------------------------------------

export async function writeCheckpoint(path: string, net: Network, step: number, cfg: RunConfig, extra: Record<string, Json> = {}): Promise<void> {
  const [w, m, v] = await Promise.all([net.arena.read('weights'), net.arena.read('mask'), net.arena.read('momentum')]);
  // AdamW's second moment: without it a resumed run would not continue exactly
  const va = net.arena.parts.variance ? await net.arena.read('variance') : undefined;
  for (const [name, values] of w) {
    if (!values.every(Number.isFinite))
      throw new RunError(`not writing checkpoint ${path}: parameter '${name}' holds NaN or Inf (training diverged); the previous checkpoint is kept`);
  }
  const tensors: TensorMap = {};
  for (const view of net.arena.views.values()) {
    tensors[view.name] = { dtype: 'F32', shape: view.shape, data: w.get(view.name)! };
    tensors[`${view.name}.momentum`] = { dtype: 'F32', shape: view.shape, data: v.get(view.name)! };
    if (va) tensors[`${view.name}.variance`] = { dtype: 'F32', shape: view.shape, data: va.get(view.name)! };
    if (view.prunable) tensors[`${view.name}.mask`] = { dtype: 'F32', shape: view.shape, data: m.get(view.name)! };
  }
  const ckpt: Checkpoint = {
    tensors,
    step,
    config: JSON.parse(JSON.stringify(cfg)) as Json,
    rng: { shuffleSeed: cfg.seed, scheme: 'shuffledIndices(n, seed, epoch)' },
    extra: { spec: JSON.parse(JSON.stringify(net.spec)) as Json, ...extra },
  };
  await saveCheckpoint(path, ckpt);
}

/** A checkpoint's model and state, checked against each other on the CPU (no GPU memory yet). */
export interface CheckpointModel {
  spec: ModelSpec;
  cfg: RunConfig;
  step: number;
  weights: Map<string, Float32Array>;
  masks: Map<string, Float32Array>;
  momentum: Map<string, Float32Array>;
  variance: Map<string, Float32Array>;
}

/**
 * Checks a decoded checkpoint: its config names a model and data, its model description resolves,
 * and every parameter of that model is a tensor of the right shape (optimizer state and masks
 * optional). Nothing is allocated for a parameter the file does not hold, so a damaged description
 * cannot ask for more memory than the file carries.
 */
export function checkpointModel(ckpt: Checkpoint, path: string): CheckpointModel {
  const cfg = ckpt.config as unknown as RunConfig;
  const spec = ckpt.extra?.spec as unknown as ModelSpec | undefined;
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg) || typeof cfg.model !== 'string' || typeof cfg.data !== 'string') {
    throw new RunError(`checkpoint ${path}: its config has no model/data`);
  }
  if (!spec || typeof spec !== 'object' || !Array.isArray(spec.layers) || !Array.isArray(spec.input))
    throw new RunError(`checkpoint ${path}: no model description (extra.spec)`);
  let params: { name: string; shape: number[]; prunable: boolean }[];
  try {
    params = modelParams(resolveModel(spec));
  } catch (e) {
    throw new RunError(`checkpoint ${path}: invalid model description: ${(e as Error).message}`);
  }
  const out: CheckpointModel = { spec, cfg, step: ckpt.step, weights: new Map(), masks: new Map(), momentum: new Map(), variance: new Map() };
  for (const view of params) {
    const get = (name: string, required: boolean) => {
      const t = Object.hasOwn(ckpt.tensors, name) ? ckpt.tensors[name] : undefined;
      if (!t) {
        if (required) throw new RunError(`checkpoint ${path}: tensor '${name}' is missing`);
        return undefined;
      }
      if (t.dtype !== 'F32') throw new RunError(`checkpoint ${path}: tensor '${name}' must be F32, got ${t.dtype}`);
      if (t.shape.length !== view.shape.length || t.shape.some((d, i) => d !== view.shape[i])) {
        throw new RunError(`checkpoint ${path}: tensor '${name}' must have shape [${view.shape}], got [${t.shape}]`);
      }
      return t.data as Float32Array;
    };
    out.weights.set(view.name, get(view.name, true)!);
    const mv = get(`${view.name}.momentum`, false);
    if (mv) out.momentum.set(view.name, mv);
    const vv = get(`${view.name}.variance`, false);
    if (vv) out.variance.set(view.name, vv);
    if (view.prunable) {
      const mk = get(`${view.name}.mask`, false);
      if (mk) out.masks.set(view.name, mk);
    }
  }
  return out;
}

/** Rebuilds the network of a checkpoint (weights, masks, optimizer moments) and returns its config and step. */
export async function readCheckpoint(gpu: Gpu, path: string): Promise<{ net: Network; cfg: RunConfig; step: number }> {
  const c = checkpointModel(await loadCheckpoint(path), path);
  let net: Network;
  try {
    net = Network.create(gpu, c.spec, c.cfg.seed ?? 0);
  } catch (e) {
    throw new RunError(`checkpoint ${path}: invalid model description: ${(e as Error).message}`);
  }
  await net.setParams(c.weights, c.masks, c.momentum, c.variance);
  return { net, cfg: c.cfg, step: c.step };
}
