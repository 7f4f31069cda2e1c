// The codec page's engines (demo/codec.ts): the browser's gzip/brotli streams, the shipped
// pretrained model loaded once, codec 5's round trip, and the live box that compresses a short
// message as it is typed.
import { codec } from '../src/index.js';
import type { CodecProgress } from '../src/codec/model.js';
import { $, fmtInt } from './page.js';

export interface LiveProbe {
  bytes: number;
  slimz: number;
  gzip: number;
  brotli?: number;
  exact: boolean;
}

export const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
export const isSlimz = (b: Uint8Array) => codec.v5.isV5(b) || (b.length >= codec.SLIMZ_MAGIC.length && codec.SLIMZ_MAGIC.every((x, i) => b[i] === x));

export async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream)).arrayBuffer());
}

/** The browser's brotli, or undefined where CompressionStream has no 'brotli'. */
export async function brotli(bytes: Uint8Array): Promise<Uint8Array | undefined> {
  let s: CompressionStream;
  try {
    s = new CompressionStream('brotli' as CompressionFormat);
  } catch {
    return undefined;
  }
  return pipe(bytes, s);
}

/**
 * The shipped pretrained model, loaded (fetched) once for the page's life. It runs on the CPU path
 * (the same bits as its WGSL path): decoding asks for one byte's table at a time, and a GPU round
 * trip per byte is slower than the CPU in a browser (SwiftShader: 4,000 bytes took over 2 minutes).
 */
let pretrainedModel: Promise<codec.BytePredictor> | undefined;
export function pretrained(): Promise<codec.BytePredictor> {
  pretrainedModel ??= codec.loadShippedPredictor({ gpu: null });
  pretrainedModel.catch(() => {
    pretrainedModel = undefined;
  });
  return pretrainedModel;
}
export const resolver = (prefix: string) => codec.shippedResolver({ gpu: null })(prefix);

/** Codec 5 (pretrained or none) on the CPU/GPU integer path: compress, then decode and compare. */
export async function v5RoundTrip(
  bytes: Uint8Array,
  k: string,
  onProgress?: (p: CodecProgress) => void,
): Promise<{ z: codec.v5.V5Compressed; ms: number }> {
  const predictor = k === 'pretrained' ? await pretrained() : null;
  const t = performance.now();
  const z = await codec.v5.compressBytes(bytes, predictor, { onProgress });
  return { z, ms: performance.now() - t };
}

/** The live box (#live → #live-out): each pause in typing compresses and decompresses the message. */
export function setupLiveBox(kind: () => string, report: (r: LiveProbe) => void): void {
  let liveSeq = 0;
  const live = async (): Promise<void> => {
    const seq = ++liveSeq;
    const bytes = new TextEncoder().encode(($('live') as HTMLTextAreaElement).value);
    const k = kind() === 'pretrained' ? 'pretrained' : 'none';
    const [{ z }, gz, br] = await Promise.all([v5RoundTrip(bytes, k), pipe(bytes, new CompressionStream('gzip')), brotli(bytes)]);
    const back = await codec.v5.decompressBytes(z.bytes, resolver);
    if (seq !== liveSeq) return; // a newer keystroke won
    const exact = equal(back.text, bytes);
    report({ bytes: bytes.length, slimz: z.bytes.length, gzip: gz.length, brotli: br?.length, exact });
    $('live-out').textContent =
      `${fmtInt(bytes.length)} bytes → slimgpu ${k === 'pretrained' ? 'pretrained + CM' : 'CM alone'}: ${fmtInt(z.bytes.length)} bytes ` +
      `(${exact ? '✓ decompressed exactly' : '✗ differs'}) · gzip ${fmtInt(gz.length)}${br ? ` · brotli ${fmtInt(br.length)}` : ' · brotli: not in this browser'}`;
  };
  let liveTimer: ReturnType<typeof setTimeout> | undefined;
  $('live').addEventListener('input', () => {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => {
      live().catch((e) => {
        $('live-out').textContent = `failed: ${(e as Error).message}`;
      });
    }, 200);
  });
}
