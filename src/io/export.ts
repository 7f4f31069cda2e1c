// The compressed export of a Network: the format itself (byte layout, entropy coding, encode,
// decode, sizes) lives in ./format/; this file connects it to the GPU model and to files.
import type { Gpu } from '../gpu/device.js';
import type { WeightSharing } from '../compress/sharing.js';
import { Network } from '../nn/trainer.js';
import { readFileBytes, writeFileAtomic } from './files.js';
import {
  decodeCompressed,
  encodeCompressed,
  serializeCompressed,
  type CompressInput,
  type DecodeOptions,
  type EncodeOptions,
} from './format/index.js';

export * from './format/index.js';

/** The network's values, masks (weights only) and sharing, as the encoder takes them. */
export async function compressInputOf(net: Network, sharing?: WeightSharing): Promise<CompressInput> {
  const [values, masks] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
  for (const v of net.arena.views.values()) if (!v.prunable) masks.delete(v.name);
  return { spec: net.spec, values, masks, sharing };
}

/**
 * The network as a compressed model file: sparse index + codebook indices and codebook for the
 * layers in `sharing`, sparse index + f32 kept values for the others, f32 biases; index and
 * codebook indices huffman-coded where that is smaller.
 */
export async function exportCompressed(net: Network, sharing?: WeightSharing, opts: EncodeOptions = {}): Promise<Uint8Array> {
  return serializeCompressed(await compressInputOf(net, sharing), opts);
}

/** Writes the compressed model file atomically (Node); returns its size in bytes. */
export async function writeCompressed(path: string, net: Network, sharing?: WeightSharing, opts: EncodeOptions = {}): Promise<number> {
  const chunks = encodeCompressed(await compressInputOf(net, sharing), opts);
  await writeFileAtomic(path, chunks);
  return chunks.reduce((s, c) => s + c.byteLength, 0);
}

/** Rebuilds the network of a compressed model file: weights (pruned = 0) and masks exactly as decoded, momentum 0. */
export async function loadCompressed(gpu: Gpu, bytes: Uint8Array, opts: DecodeOptions = {}): Promise<Network> {
  const d = decodeCompressed(bytes, opts);
  const net = Network.create(gpu, d.spec, 0);
  try {
    await net.setParams(d.values, d.masks);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}

/** Reads and loads a compressed model file (Node). */
export async function readCompressed(gpu: Gpu, path: string, opts: Omit<DecodeOptions, 'name'> = {}): Promise<Network> {
  return loadCompressed(gpu, await readFileBytes(path), { ...opts, name: path });
}
