// The model files shipped in the package (models/), newest first; id = first 16 bytes of sha256 of
// the file, lower-case hex. A model once shipped stays listed (files coded with it stay decodable).
// The newest is the default (`--model auto` / `pretrained`, loadShippedPredictor).
export interface ShippedModel {
  id: string;
  /** File name under the package's models/ folder. */
  file: string;
}

export const SHIPPED_MODELS: readonly ShippedModel[] = [
  // session 7: bytemlp-2's network + a prime of 768 KiB of Debian fortunes (a primed model file,
  // pretrained/primed.ts: the CM runs over the prime before every file; docs/pretrained.md "Priming")
  { id: '8c2f97c069378dbecb46acfd4ad46f9b', file: 'bytemlp-2-fortunes.slim.safetensors' },
  // session 6: the session-5 model trained 72 more minutes (--init-int, lr 1e-3 cosine, QAT last 15%)
  { id: 'c2e0fcc3c711fb8fefe3587d55ef4141', file: 'bytemlp-2.slim.safetensors' },
  // session 5: 60 minutes from scratch
  { id: '0c8fb1b1ebe0efa979b22bcfc610c863', file: 'bytemlp.slim.safetensors' },
];
