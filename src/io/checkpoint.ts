// Training checkpoints: a safetensors file whose tensors are the model state (weights, momentum,
// masks, ...) and whose __metadata__ holds, as JSON strings:
//   "slimgpu.checkpoint": format version ("1"), "step": integer, "config": any JSON,
//   "rng": the random state (any JSON), "extra": a JSON object (optional).
// encode/decode are pure (browser and Node); save/load touch files (Node) and write atomically.
import { readFileBytes, writeFileAtomic } from './files.js';
import { parseSafetensors, SafetensorsError, serializeSafetensorsChunks, type ParseOptions, type TensorMap } from './safetensors.js';
import { thrower } from '../gpu/errors.js';

export class CheckpointError extends SafetensorsError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export const CHECKPOINT_FORMAT_KEY = 'slimgpu.checkpoint';
export const CHECKPOINT_VERSION = '1';

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Checkpoint {
  tensors: TensorMap;
  /** Optimiser steps taken (non-negative integer). */
  step: number;
  /** The run's configuration (model, optimiser, compression schedule, ...). */
  config: Json;
  /** Random state needed to resume exactly (e.g. `{ shuffleSeed, epoch, rngState }`). */
  rng: Json;
  /** Anything else worth keeping (metrics so far, data set name, ...). */
  extra?: { [key: string]: Json };
}

const REQUIRED = ['step', 'config', 'rng'] as const;

function toJson(what: string, v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch (e) {
    throw new CheckpointError(`slimgpu.checkpoint: ${what} is not JSON-serialisable (${(e as Error).message})`);
  }
  if (s === undefined) throw new CheckpointError(`slimgpu.checkpoint: ${what} is not JSON-serialisable (got ${typeof v})`);
  return s;
}

/** The checkpoint's __metadata__ (checked and serialised). */
export function checkpointMetadata(ckpt: Omit<Checkpoint, 'tensors'>): Record<string, string> {
  if (!ckpt || typeof ckpt !== 'object') throw new CheckpointError('slimgpu.checkpoint: checkpoint must be an object');
  if (!Number.isSafeInteger(ckpt.step) || ckpt.step < 0)
    throw new CheckpointError(`slimgpu.checkpoint: step must be a non-negative integer, got ${ckpt.step}`);
  const meta: Record<string, string> = {
    [CHECKPOINT_FORMAT_KEY]: CHECKPOINT_VERSION,
    step: String(ckpt.step),
    config: toJson('config', ckpt.config === undefined ? null : ckpt.config),
    rng: toJson('rng', ckpt.rng === undefined ? null : ckpt.rng),
  };
  if (ckpt.extra !== undefined) {
    if (typeof ckpt.extra !== 'object' || ckpt.extra === null || Array.isArray(ckpt.extra))
      throw new CheckpointError('slimgpu.checkpoint: extra must be a plain object');
    meta.extra = toJson('extra', ckpt.extra);
  }
  return meta;
}

/** The checkpoint as file chunks (see serializeSafetensorsChunks). */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array[] {
  return serializeSafetensorsChunks(ckpt.tensors, checkpointMetadata(ckpt));
}

/** Parses a checkpoint, checking that it is one: format key, version, and every required key parses. */
export function decodeCheckpoint(bytes: Uint8Array, opts: ParseOptions = {}): Checkpoint {
  const { tensors, metadata } = parseSafetensors(bytes, opts);
  const where = opts.name ? `'${opts.name}'` : 'checkpoint';
  const fail = thrower(CheckpointError, `slimgpu.checkpoint: ${where}: `);
  const version = metadata[CHECKPOINT_FORMAT_KEY];
  if (version === undefined) fail(`not a slimgpu checkpoint: __metadata__ has no "${CHECKPOINT_FORMAT_KEY}" key`);
  if (version !== CHECKPOINT_VERSION)
    fail(`checkpoint format version ${JSON.stringify(version)} is not supported (this build reads version ${CHECKPOINT_VERSION})`);
  for (const k of REQUIRED) if (metadata[k] === undefined) fail(`__metadata__ lacks the required key "${k}"`);
  const parse = (k: string): Json => {
    try {
      return JSON.parse(metadata[k]!) as Json;
    } catch (e) {
      return fail(`__metadata__ "${k}" is not valid JSON (${(e as Error).message})`);
    }
  };
  const step = parse('step');
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0)
    fail(`__metadata__ "step" must be a non-negative integer, got ${metadata.step}`);
  const ckpt: Checkpoint = { tensors, step: step as number, config: parse('config'), rng: parse('rng') };
  if (metadata.extra !== undefined) {
    const extra = parse('extra');
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) fail('__metadata__ "extra" must hold a JSON object');
    ckpt.extra = extra as { [key: string]: Json };
  }
  return ckpt;
}

/** Writes a checkpoint atomically (temp file in the same directory, fsync, rename). Node only. */
export async function saveCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(ckpt));
}

/** Reads and validates a checkpoint. Node only. */
export async function loadCheckpoint(path: string, opts: Omit<ParseOptions, 'name'> = {}): Promise<Checkpoint> {
  return decodeCheckpoint(await readFileBytes(path, 'checkpoint'), { ...opts, name: path });
}
