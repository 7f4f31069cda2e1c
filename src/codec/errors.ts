// Errors of the codec layer: every message says what was found, where (which chunk), and what to do.

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export function codecFail(msg: string): never {
  throw new CodecError(`slimgpu.codec: ${msg}`);
}
