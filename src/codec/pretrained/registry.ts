// The model files shipped in the package (models/), newest first; id = first 16 bytes of sha256 of
// the file, lower-case hex. A model once shipped stays listed (files coded with it stay decodable).
export interface ShippedModel {
  id: string;
  /** File name under the package's models/ folder. */
  file: string;
}

export const SHIPPED_MODELS: readonly ShippedModel[] = [{ id: '0c8fb1b1ebe0efa979b22bcfc610c863', file: 'bytemlp.slim.safetensors' }];
