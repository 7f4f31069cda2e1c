// One row of `npm run bench -- compressors`: shared by compressors.ts and compressors-v5.ts.
export interface CompressorRow {
  name: string;
  command: string;
  bytes: number;
  bitsPerByte: number;
  compressSeconds: number;
  decompressSeconds?: number;
  /** Two-part: bytes of the stored model, and its share of the file. */
  modelBytes?: number;
  modelShare?: number;
  /** GPT+CM and two-part: the code length under the GPT's tables alone in the same run (bits per byte, no container). */
  gptBitsPerByte?: number;
  note?: string;
}
