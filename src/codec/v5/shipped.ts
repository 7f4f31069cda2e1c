// The decoder's default resolver: the pretrained models this package ships (pretrained/index.ts),
// found by the 16 hex digits a v5 header stores.
import { codecFail } from '../errors.js';
import { loadPredictorById, SHIPPED_MODEL_IDS, type PredictorOptions } from '../pretrained/index.js';
import type { BytePredictor } from '../predictor.js';
import type { PredictorResolver } from './index.js';

/** A resolver over `ids` (default: SHIPPED_MODEL_IDS), loading each model at most once. */
export function shippedResolver(opts: PredictorOptions = {}, ids: readonly string[] = SHIPPED_MODEL_IDS): PredictorResolver {
  const cache = new Map<string, Promise<BytePredictor>>();
  return (prefix: string) => {
    const id = ids.find((x) => x.startsWith(prefix));
    if (id === undefined) {
      codecFail(
        `this file was coded with pretrained model ${prefix}…, which this build of slimgpu does not have ` +
          `(it has ${ids.length ? ids.map((x) => x.slice(0, 16) + '…').join(', ') : 'no pretrained model'}); decompress it with a slimgpu that ships that model`,
      );
    }
    let p = cache.get(id);
    if (!p) cache.set(id, (p = loadPredictorById(id, opts)));
    return p;
  };
}
