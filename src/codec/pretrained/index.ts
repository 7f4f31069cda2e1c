// The shipped, pretrained byte models (issue 22): loaders by id for the decoder, and the default
// model for the encoder. This file is the interface the container and the CLI call; the model, its
// integer inference (CPU and WGSL) and its registry replace the bodies below.
import type { Gpu } from '../../gpu/device.js';
import { codecFail } from '../errors.js';
import type { BytePredictor } from '../predictor.js';

export interface PredictorOptions {
  /** Evaluate on this GPU (WGSL integer path); absent or null: the plain-TypeScript CPU path. Both give the same bits. */
  gpu?: Gpu | null;
}

/** Ids (BytePredictor.id) of every model this package can load, newest first; [0] is the default. */
export const SHIPPED_MODEL_IDS: readonly string[] = [];

/** The default pretrained model (SHIPPED_MODEL_IDS[0]). */
export async function loadShippedPredictor(opts: PredictorOptions = {}): Promise<BytePredictor> {
  const id = SHIPPED_MODEL_IDS[0];
  if (id === undefined) codecFail('no pretrained model is shipped in this build of slimgpu (use --model none)');
  return loadPredictorById(id, opts);
}

/** The model a file names by id; a CodecError naming the id when this package does not have it. */
export async function loadPredictorById(id: string, _opts: PredictorOptions = {}): Promise<BytePredictor> {
  codecFail(`this file was coded with pretrained model ${id}, which this build of slimgpu does not have`);
}
