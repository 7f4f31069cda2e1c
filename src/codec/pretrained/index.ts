// The shipped, pretrained byte models (issue 22): loaders by id for the decoder, and the default
// model for the encoder. Models are read from the package's models/ folder (Node: the file system;
// the browser: fetch beside the page, or whatever setModelSource() installs), checked against their
// id (sha256), decoded once and cached, then evaluated on the CPU or on a GPU (same bits).
import type { Gpu } from '../../gpu/device.js';
import { codecFail } from '../errors.js';
import type { BytePredictor, BytePrime } from '../predictor.js';
import type { ByteMlpModel } from './bytemlp.js';
import { CpuBytePredictor, CpuBytePrime } from './cpu.js';
import { decodeByteMlp } from './file.js';
import { GpuBytePredictor } from './gpu.js';
import { isPrimedFile, primeText, readPrimedFile } from './primed.js';
import { SHIPPED_MODELS } from './registry.js';

export { SHIPPED_MODELS } from './registry.js';
export type { ShippedModel } from './registry.js';
export { CpuBytePredictor, CpuBytePrime } from './cpu.js';
export { GpuBytePredictor } from './gpu.js';

export interface PredictorOptions {
  /** Evaluate on this GPU (WGSL integer path); absent or null: the plain-TypeScript CPU path. Both give the same bits. */
  gpu?: Gpu | null;
}

/** Ids (BytePredictor.id) of every model this package can load, newest first; [0] is the default. */
export const SHIPPED_MODEL_IDS: readonly string[] = SHIPPED_MODELS.map((m) => m.id);

/** Reads a shipped model file's bytes by file name (e.g. 'bytemlp.slim.safetensors'). */
export type ModelSource = (file: string) => Promise<Uint8Array>;

let source: ModelSource | null = null;
/** A loaded model file: the network, and its prime (one object per id, so primed CM states are shared: v5/prime.ts). */
interface Loaded {
  model: ByteMlpModel;
  prime?: BytePrime;
}
const cache = new Map<string, Promise<Loaded>>();

/**
 * The browser's (or any host's) loader hook: where model files come from. The default reads
 * <package>/models/ in Node and fetches `models/<file>` relative to the page in a browser.
 */
export function setModelSource(fn: ModelSource | null): void {
  source = fn;
  cache.clear();
}

async function defaultSource(file: string): Promise<Uint8Array> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) {
    const fsName = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    // src/codec/pretrained/ (vitest, tsx) or dist/src/codec/pretrained/ (the build): the package root is 3 or 4 levels up
    const tried: string[] = [];
    for (const up of ['../../../models/', '../../../../models/']) {
      const url = new URL(up + file, import.meta.url);
      try {
        return new Uint8Array(await fs.readFile(url));
      } catch {
        tried.push(url.pathname);
      }
    }
    codecFail(`the model file ${file} is missing from this package (looked in ${tried.join(', ')})`);
  }
  const base = (globalThis as { document?: { baseURI: string } }).document?.baseURI ?? import.meta.url;
  const res = await fetch(new URL(`models/${file}`, base));
  if (!res.ok) codecFail(`could not fetch the model file models/${file}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The hex id of model bytes: the first 16 bytes of their sha256 (WebCrypto: Node ≥ 20 and browsers). */
export async function modelId(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
  return Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function loadModel(id: string, file: string): Promise<Loaded> {
  const bytes = await (source ?? defaultSource)(file);
  const got = await modelId(bytes);
  if (got !== id) codecFail(`the model file ${file} fails its hash: expected id ${id}, the file has ${got} (damaged or replaced)`);
  return decodeModelFile(bytes, file);
}

async function decodeModelFile(bytes: Uint8Array, file: string): Promise<Loaded> {
  const model = decodeByteMlp(bytes, file);
  if (!isPrimedFile(bytes)) return { model };
  const parts = readPrimedFile(bytes, file);
  const text = await primeText(parts, file);
  return { model, prime: new CpuBytePrime(text, parts.info.cmOnly, parts.info.memoryLog2, model) };
}

/** A predictor of model file bytes that need not be shipped (evaluations of a candidate; id = its hash). */
export async function predictorOfFile(bytes: Uint8Array, name: string, opts: PredictorOptions = {}): Promise<BytePredictor> {
  const id = await modelId(bytes);
  const { model, prime } = await decodeModelFile(bytes, name);
  return opts.gpu ? GpuBytePredictor.create(opts.gpu, id, name, model, prime) : new CpuBytePredictor(id, name, model, prime);
}

/** The default pretrained model (SHIPPED_MODEL_IDS[0]). */
export async function loadShippedPredictor(opts: PredictorOptions = {}): Promise<BytePredictor> {
  const id = SHIPPED_MODEL_IDS[0];
  if (id === undefined) codecFail('no pretrained model is shipped in this build of slimgpu (use --model none)');
  return loadPredictorById(id, opts);
}

/** The model a file names by id; a CodecError naming the id when this package does not have it. */
export async function loadPredictorById(id: string, opts: PredictorOptions = {}): Promise<BytePredictor> {
  const entry = SHIPPED_MODELS.find((m) => m.id === id);
  if (!entry) codecFail(`this file was coded with pretrained model ${id}, which this build of slimgpu does not have`);
  let p = cache.get(id);
  if (!p) {
    p = loadModel(id, entry!.file);
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  const { model, prime } = await p;
  return opts.gpu ? GpuBytePredictor.create(opts.gpu, id, entry!.file, model, prime) : new CpuBytePredictor(id, entry!.file, model, prime);
}
