// Text data for language models: any file read as bytes (vocabulary 256), the last 10% held out
// for validation. Windows of T + 1 bytes (T inputs, each predicting the next byte) are gathered on
// the GPU from a seeded permutation of every window start, like image batches.
import { DataError } from './dataset.js';
import { readFileBytes } from './files.js';

export interface TextDataset {
  kind: 'text';
  name: string;
  /** The bytes of this split. */
  bytes: Uint8Array;
}

export interface TextSplit {
  train: TextDataset;
  test: TextDataset;
}

/** Share of the text held out for validation (its end). */
export const TEXT_VALIDATION_SHARE = 0.1;

export function isTextDataset(d: unknown): d is TextDataset {
  return typeof d === 'object' && d !== null && (d as TextDataset).kind === 'text';
}

/** Bytes that are neither printable nor text whitespace (\t \n \v \f \r, ESC). */
function controlShare(bytes: Uint8Array): number {
  const n = Math.min(bytes.length, 1 << 20);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && !(b >= 9 && b <= 13) && b !== 27) || b === 0x7f) c++;
  }
  return c / Math.max(1, n);
}

/**
 * Splits `bytes` into training text (the first 90%) and validation text (the last 10%). Refuses an
 * empty text, binary data (more than 30% control bytes in the first MiB) and a text too short to
 * give both splits one window of `context` + 1 bytes.
 */
export function splitText(bytes: Uint8Array, name: string, context?: number): TextSplit {
  if (!(bytes instanceof Uint8Array)) throw new DataError(`slimgpu.data: text '${name}' must be a Uint8Array of bytes`);
  if (bytes.length === 0) throw new DataError(`slimgpu.data: text '${name}' is empty`);
  const ctl = controlShare(bytes);
  if (ctl > 0.3)
    throw new DataError(`slimgpu.data: '${name}' looks like binary data, not text (${(100 * ctl).toFixed(0)}% control bytes); give a text file`);
  const nTest = Math.floor(bytes.length * TEXT_VALIDATION_SHARE);
  if (context !== undefined) {
    if (!Number.isInteger(context) || context < 1) throw new DataError(`slimgpu.data: context must be a positive integer, got ${context}`);
    const need = Math.ceil((context + 1) / TEXT_VALIDATION_SHARE);
    if (nTest < context + 1)
      throw new DataError(
        `slimgpu.data: text '${name}' has ${bytes.length} bytes; a context of ${context} needs at least ${need} (its last 10% must hold one window of ${context + 1} bytes)`,
      );
  }
  return {
    train: { kind: 'text', name: `${name} (train)`, bytes: bytes.subarray(0, bytes.length - nTest) },
    test: { kind: 'text', name: `${name} (validation)`, bytes: bytes.subarray(bytes.length - nTest) },
  };
}

/** Reads a text file (Node) and splits it (see splitText). */
export async function loadText(path: string, context?: number): Promise<TextSplit> {
  return splitText(await readFileBytes(path, 'text'), path, context);
}

/** Window starts of a split: every start for training, non-overlapping windows for evaluation. */
export function windowCount(bytes: number, T: number, mode: 'train' | 'eval'): number {
  return mode === 'train' ? bytes - T : Math.floor((bytes - 1) / T);
}
