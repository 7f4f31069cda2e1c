// Argument parsers shared by the CLI's commands: numbers with ranges, per-layer targets.
import { InvalidArgumentError, Option } from 'commander';
import { parsePerLayer, TargetError, type PerLayer } from '../nn/targets.js';

/** --sparsity / --bits: one number, or per-layer values (name=value, kind=value, with an optional bare default). */
export function perLayer(flag: string, check: (v: number) => string | undefined) {
  return (v: string): PerLayer => {
    try {
      return parsePerLayer(v, flag, check);
    } catch (e) {
      if (e instanceof TargetError) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}
export const sparsityArg = perLayer('--sparsity', (x) => (x >= 0 && x <= 1 ? undefined : 'must be in [0, 1]'));
export const bitsArg = perLayer('--bits', (x) => (Number.isInteger(x) && x >= 1 && x <= 8 ? undefined : 'must be an integer in [1, 8]'));
export const qatBitsArg = perLayer('--qat-bits', (x) => (Number.isInteger(x) && x >= 1 && x <= 8 ? undefined : 'must be an integer in [1, 8]'));

export function num(name: string, opts: { int?: boolean; min?: number; max?: number; minExclusive?: boolean } = {}) {
  return (v: string): number => {
    const x = Number(v);
    const range = `${opts.min !== undefined ? (opts.minExclusive ? `> ${opts.min}` : `≥ ${opts.min}`) : ''}${opts.max !== undefined ? ` and ≤ ${opts.max}` : ''}`;
    if (
      v.trim() === '' ||
      !Number.isFinite(x) ||
      (opts.int && !Number.isInteger(x)) ||
      (opts.min !== undefined && (opts.minExclusive ? x <= opts.min : x < opts.min)) ||
      (opts.max !== undefined && x > opts.max)
    ) {
      throw new InvalidArgumentError(`${name} must be ${opts.int ? 'an integer' : 'a number'}${range ? ' ' + range : ''}, got '${v}'`);
    }
    return x;
  };
}

/** The QAT tuning flags `train` and `export` share (same names, ranges and help; the re-fit help is each command's own). */
export function qatTuningOptions(refitHelp: string): { refitEvery: Option; centroidLr: Option; dampen: Option; iterations: Option } {
  return {
    refitEvery: new Option('--qat-refit-every <n>', refitHelp).argParser(num('--qat-refit-every', { int: true, min: 0 })),
    centroidLr: new Option(
      '--qat-centroid-lr <x>',
      "during QAT, also train the centroids by their members' summed gradient at this SGD rate (default 0: off; re-fits overwrite it, so pair it with --qat-refit-every 0)",
    ).argParser(num('--qat-centroid-lr', { min: 0 })),
    dampen: new Option(
      '--qat-dampen <x>',
      "during QAT, add x·(latent − snapped) to each quantised weight's gradient, pulling latent weights towards their codebook values (oscillation dampening; default 0: off)",
    ).argParser(num('--qat-dampen', { min: 0 })),
    iterations: new Option(
      '--qat-iterations <n>',
      "Lloyd iterations when the QAT codebooks start from linear centroids over each layer's kept weights (default 30; 0: a uniform grid)",
    ).argParser(num('--qat-iterations', { int: true, min: 0, max: 10000 })),
  };
}
