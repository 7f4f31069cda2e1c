// What the codec needs from a model: next-byte logits for a batch of windows, and deterministic
// training on the text coded so far. The shipped implementation is the GPT preset (gpt.ts); tests
// may drive the coder with a small CPU double.

export interface CodecModel {
  /** B: windows per forward pass; the coder splits the text into this many parallel streams. */
  readonly windows: number;
  /** T: tokens per window (the model's context). */
  readonly context: number;
  /**
   * Next-byte logits (B·T, 256), row b·T + j predicting the byte after token j of window b, for
   * `tokens` (B·T byte values, window-major), with one readback. The model must be causal *in its
   * arithmetic*: row j depends only on tokens 0..j of its window, bit for bit, whatever the later
   * tokens are (the decoder fills them with padding; the encoder with the text).
   * With `row`, only that row of each window comes back: (B, 256) (the decoder needs one row per pass).
   */
  logits(tokens: Uint32Array, row?: number): Promise<Float32Array>;
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
