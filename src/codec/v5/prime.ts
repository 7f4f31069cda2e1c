// Priming (a model's built-in dictionary): before a file's first byte, encoder and decoder run the
// CM over the model's prime text (BytePredictor.prime), the first `cmOnly` bytes alone and the rest
// with the model's tables, exactly as they would code it — so a 1 KB file starts with a CM that has
// already seen English, and a mixer that has already learnt how far to trust the model. The state
// depends only on the model (its file, hence its id), the stream count and the codec version: it is
// computed once per process (the fixed cost, docs/pretrained.md) and every file starts from a copy.
import { CmModel } from '../cm/index.js';
import { cloneCm } from '../cm/clone.js';
import type { BytePredictor, BytePrime } from '../predictor.js';

/** Yield to the event loop every this many prime bytes (a page stays responsive while priming). */
const YIELD_EVERY = 1 << 16;

const states = new WeakMap<BytePrime, Map<string, Promise<CmModel>>>();

export interface CmSettings {
  streams: number;
  refine: 5 | 6;
  externalWeight: number;
}

/** Runs a fresh CM over the prime (stream 0), as coding it would, and returns that CM. */
export async function primeCm(prime: BytePrime, s: CmSettings): Promise<CmModel> {
  const cm = new CmModel(s.streams, { memoryLog2: prime.memoryLog2, refine: s.refine, externalWeight: s.externalWeight });
  const ps = prime.open();
  const push = new Int32Array(1);
  const text = prime.text;
  try {
    for (let i = 0; i < text.length; i++) {
      if (i > 0 && i % YIELD_EVERY === 0) await new Promise((r) => setTimeout(r, 0));
      const b = text[i]!;
      cm.begin(0, i < prime.cmOnly ? null : (await ps.next())[0]!);
      for (let k = 7; k >= 0; k--) {
        cm.predict();
        cm.update((b >> k) & 1);
      }
      push[0] = b;
      ps.push(push);
    }
  } finally {
    ps.dispose();
  }
  return cm;
}

/**
 * Where primed states come from besides computing them: the Node entry points install an on-disk
 * cache (prime-cache.ts, `installPrimeCache`); the browser keeps none and primes in memory.
 */
export interface PrimedStore {
  /** The primed CM of `predictor` for `s`: a stored one, or `compute()` (which the store may keep). */
  get(predictor: BytePredictor & { prime: BytePrime }, s: CmSettings, compute: () => Promise<CmModel>): Promise<CmModel>;
}

let store: PrimedStore | null = null;

/** Sets (or with null removes) the store every primed state of this process is asked from first. */
export function setPrimedStore(s: PrimedStore | null): void {
  store = s;
}

/** A fresh copy of the primed CM of `predictor` for these settings (computed on first use, then cached). */
export async function primedCm(predictor: BytePredictor & { prime: BytePrime }, s: CmSettings): Promise<CmModel> {
  const prime = predictor.prime;
  let byKey = states.get(prime);
  if (!byKey) states.set(prime, (byKey = new Map()));
  const key = `${s.streams}/${s.refine}/${s.externalWeight}`;
  let p = byKey.get(key);
  if (!p) {
    p = store ? store.get(predictor, s, () => primeCm(prime, s)) : primeCm(prime, s);
    byKey.set(key, p);
    p.catch(() => byKey.delete(key));
  }
  return cloneCm(await p);
}
