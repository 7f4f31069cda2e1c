// A primed model file: a bytemlp .slim.safetensors plus its prime text (docs/pretrained.md
// "Priming"), in one safetensors file so that the file's hash — the model id — names both:
//   __metadata__  "slimgpu.primed": "1", "prime": JSON { bytes, cmOnly, memoryLog2, gzipBytes, sources }
//   "model"       U8: the bytemlp file's bytes, unchanged
//   "prime.gz"    U8: the prime text, gzip (DecompressionStream('gzip'): Node ≥ 18 and every current browser)
import { parseSafetensors, serializeSafetensors } from '../../io/safetensors.js';
import { codecFail } from '../errors.js';

export const PRIMED_KEY = 'slimgpu.primed';

export interface PrimeInfo {
  /** Bytes of the prime text. */
  bytes: number;
  /** The first cmOnly bytes are run through the CM without the model's tables. */
  cmOnly: number;
  /** The CM's table size (log2 bytes) of every file coded with this model. */
  memoryLog2: number;
  gzipBytes: number;
  /** Where the text comes from (for people; the manifest has the details). */
  sources?: string[];
}

export interface PrimedParts {
  model: Uint8Array;
  gzip: Uint8Array;
  info: PrimeInfo;
}

/** True when `bytes` is a primed model file (a safetensors file whose metadata has PRIMED_KEY). */
export function isPrimedFile(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8 || n > 1 << 20) return false;
  const head = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return head.includes(`"${PRIMED_KEY}"`);
}

/** The parts of a primed model file (a CodecError when it is not one). */
export function readPrimedFile(bytes: Uint8Array, name = 'model'): PrimedParts {
  let info: PrimeInfo, c: ReturnType<typeof parseSafetensors>;
  try {
    c = parseSafetensors(bytes, { name });
  } catch (e) {
    return codecFail(`${name}: not a valid primed model file (${(e as Error).message})`);
  }
  if (c.metadata[PRIMED_KEY] !== '1') codecFail(`${name}: not a primed model file`);
  try {
    info = JSON.parse(c.metadata.prime ?? '') as PrimeInfo;
  } catch {
    return codecFail(`${name}: the prime's description is not valid JSON`);
  }
  const model = c.tensors.model?.data,
    gzip = c.tensors['prime.gz']?.data;
  if (!(model instanceof Uint8Array) || !(gzip instanceof Uint8Array))
    codecFail(`${name}: a primed model file needs U8 tensors 'model' and 'prime.gz'`);
  const ok = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (!ok(info.bytes, 1, 1 << 26) || !ok(info.cmOnly, 0, info.bytes) || !ok(info.memoryLog2, 16, 28))
    codecFail(`${name}: the prime's description is out of range (${JSON.stringify(info)})`);
  return { model: model as Uint8Array, gzip: gzip as Uint8Array, info };
}

/** A primed model file from its parts (the gzip made by the caller: Node's zlib level 9, say). */
export function writePrimedFile(p: PrimedParts): Uint8Array {
  return serializeSafetensors(
    { model: { dtype: 'U8', shape: [p.model.length], data: p.model }, 'prime.gz': { dtype: 'U8', shape: [p.gzip.length], data: p.gzip } },
    { [PRIMED_KEY]: '1', prime: JSON.stringify(p.info) },
  );
}

/** The prime text of a primed file, checked against its declared length. */
export async function primeText(p: PrimedParts, name = 'model'): Promise<Uint8Array> {
  let text: Uint8Array;
  try {
    const stream = new Blob([new Uint8Array(p.gzip)]).stream().pipeThrough(new DecompressionStream('gzip'));
    text = new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    return codecFail(`${name}: the prime text does not decompress (${(e as Error).message})`);
  }
  if (text.length !== p.info.bytes) codecFail(`${name}: the prime text has ${text.length} bytes, its description says ${p.info.bytes}`);
  return text;
}
