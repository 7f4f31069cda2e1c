// The contract between the .slimz container/coder and a fixed, pretrained byte model evaluated in
// integer arithmetic (issue 22). The model does not train while coding, so the same calls give the
// same tables on every device (WGSL i32 path, TypeScript CPU path): that is what makes a file coded
// with it portable. The tables are frequencies() tables (cum[0] = 0, cum[256] = FREQ_TOTAL, every
// byte ≥ 1), which the CM mixes as extra inputs exactly as it mixes the GPT's (cm/index.ts).

/** A fixed byte model whose next-byte tables are bit-identical on every device. */
export interface BytePredictor {
  /** Names the model in .slimz headers: the first 16 bytes of sha256 of the model file, lower-case hex (32 chars). */
  readonly id: string;
  /** A human-readable name for reports and errors (e.g. the file name). */
  readonly name: string;
  /** Opens `n` independent streams, each starting with an empty history. */
  open(n: number): PredictorStreams;
  /**
   * True where one evaluation of many streams costs about as much as one (the GPU path): the encoder
   * then splits large inputs into streams by default (v5 defaultStreams). Absent: one stream (the CPU
   * path, where streams only cost compression).
   */
  readonly batched?: boolean;
  /**
   * The model's built-in dictionary (absent: none). Encoder and decoder run the CM over this text,
   * with this model's tables, before a file's first byte (v5/prime.ts); it is part of the model
   * file, so the id names it.
   */
  readonly prime?: BytePrime;
}

/** Text a model primes the coder with (brotli's built-in dictionary, done with the model). */
export interface BytePrime {
  readonly text: Uint8Array;
  /** The first cmOnly bytes run through the CM alone (no tables: 3× faster), the rest with the model's tables. */
  readonly cmOnly: number;
  /** log2 of the CM's table size for every file coded with this model, whatever its length (the primed state's). */
  readonly memoryLog2: number;
  /** One stream of the model's tables on the CPU path (the same bits as open(1) on any device): priming runs there. */
  open(): PredictorStreams;
}

/** n streams of one BytePredictor, advanced together (one batched evaluation per call of next()). */
export interface PredictorStreams {
  readonly n: number;
  /**
   * The next-byte cum tables of every stream, given each stream's history so far: n tables of
   * Uint32Array(257) (they may be views into one buffer, valid until the next call of push()).
   */
  next(): Promise<Uint32Array[]>;
  /** Appends bytes[s] to stream s's history; a stream that has ended passes −1 (its table is then ignored). */
  push(bytes: Int32Array): void;
  /** Frees GPU buffers (a no-op on the CPU path). */
  dispose(): void;
}
