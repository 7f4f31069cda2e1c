// What the codec needs from a model: next-byte logits for B streams decoded side by side with a
// key/value cache (a prefill of T/2 tokens, then one token per stream per step), and deterministic
// training on the text coded so far. The shipped implementation is the GPT preset (gpt.ts); tests
// may drive the coder with a small CPU double.

export interface CodecModel {
  /** B: windows per forward pass; the coder splits the text into this many parallel streams. */
  readonly windows: number;
  /** T: the model's context (tokens in a full cache). */
  readonly context: number;
  /** True for a model without predictions (the CM codes alone): prefill, step, appendText and train are never called. */
  readonly none?: boolean;
  /**
   * Starts a block: forgets the key/value caches and fills them with H = T/2 tokens per stream
   * (B·H byte values, stream-major) at positions 0..H−1 (nothing is read back).
   */
  prefill(tokens: Uint32Array): void | Promise<void>;
  /**
   * Feeds one token per stream (B byte values) at the next position (H..T−1 after a prefill) and
   * returns the next-byte logits (B, 256), one readback. The same calls give the same numbers, bit
   * for bit: the encoder and the decoder make exactly the same calls.
   */
  step(tokens: Uint32Array): Promise<Float32Array>;
  /** Appends bytes to the training text (coding order); the valid prefix grows by bytes.length. */
  appendText(bytes: Uint8Array): void | Promise<void>;
  /** `steps` training steps on windows of the valid prefix; the same calls give the same weights, bit for bit. */
  train(steps: number): Promise<void>;
  dispose(): void;
}

/** Progress of a compression or decompression. */
export interface CodecProgress {
  /** Bytes of the original coded (or decoded) so far, and in all. */
  done: number;
  total: number;
  /** Ideal code length so far (Σ −log2 p of the coded bytes), bits. */
  bits: number;
  /** Chunks finished, and in all. */
  chunk: number;
  chunks: number;
  /** Seconds since the start. */
  seconds: number;
}

/** No model: the CM mixer codes the streams alone (`--model none`). */
export class NoModel implements CodecModel {
  readonly none = true;
  readonly context = 2;
  constructor(readonly windows: number) {}
  prefill(): void {
    throw new Error('NoModel has no predictions');
  }
  step(): Promise<Float32Array> {
    throw new Error('NoModel has no predictions');
  }
  appendText(): void {}
  async train(): Promise<void> {}
  dispose(): void {}
}
