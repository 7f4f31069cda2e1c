// Compression plans of `npm run results:rec` / `npm run results -- --only rec`, and the table that
// compares them (ratio vs NDCG@10, Deep Compression's way): one row per plan, its final file.
//   --plans 'US:IS:UB:IB,…'          one-shot plans (user/item sparsity, user/item bits), as before;
//   --plans-json '[{…}, …]'           plans as JSON objects over RecCompressPlan's fields, with
//                                     "mixedDims": "64:0.1,32:0.3,8" in --mixed-dims' syntax.
import { REC_COMPRESS_DEFAULTS, type RecCompressPlan, type StageRow } from './compress.js';
import { formatMixedDims, MixedDimsError, parseMixedDims } from './mixed.js';

export class RecPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecPlanError';
  }
}

const KEYS = new Set([...Object.keys(REC_COMPRESS_DEFAULTS), 'mixedDims', 'gradual', 'rampEpochs', 'shareEpochs']);

/** Checks a plan's numbers (named errors: the sparsities in [0, 1), bits 1..8, epochs ≥ 0, …). */
export function checkPlan(p: RecCompressPlan): RecCompressPlan {
  const chk = (name: string, v: unknown, ok: (x: number) => boolean, want: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new RecPlanError(`rec plan: ${name} must be ${want}, got ${JSON.stringify(v)}`);
  };
  const int = (lo: number, hi: number) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;
  chk('userSparsity', p.userSparsity, (x) => x >= 0 && x < 1, 'in [0, 1)');
  chk('itemSparsity', p.itemSparsity, (x) => x >= 0 && x < 1, 'in [0, 1)');
  chk('userBits', p.userBits, int(1, 8), 'an integer in 1..8');
  chk('itemBits', p.itemBits, int(1, 8), 'an integer in 1..8');
  chk('fineTuneEpochs', p.fineTuneEpochs, int(0, 1000), 'an integer in 0..1000');
  chk('fineTuneLr', p.fineTuneLr, (x) => x >= 0, '≥ 0');
  chk('rareItems', p.rareItems, int(0, 2 ** 31), 'a non-negative integer');
  chk('iterations', p.iterations, int(0, 1000), 'an integer in 0..1000');
  if (p.shareEpochs !== undefined) chk('shareEpochs', p.shareEpochs, int(0, 1000), 'an integer in 0..1000');
  if (p.gradual && p.fineTuneEpochs < 1) throw new RecPlanError('rec plan: a gradual plan needs fineTuneEpochs ≥ 1');
  if (p.rampEpochs !== undefined) chk('rampEpochs', p.rampEpochs, int(1, p.fineTuneEpochs), `an integer in 1..fineTuneEpochs (${p.fineTuneEpochs})`);
  return p;
}

/** `--plans-json` text → plans over `base` (the model's D checks mixedDims). */
export function parsePlansJson(text: string, base: RecCompressPlan, D: number): RecCompressPlan[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RecPlanError(`--plans-json: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new RecPlanError('--plans-json: expected a non-empty JSON array of plan objects');
  return raw.map((o: unknown, k) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new RecPlanError(`--plans-json: plan ${k} is not an object`);
    const rec = o as Record<string, unknown>;
    for (const key of Object.keys(rec)) if (!KEYS.has(key)) throw new RecPlanError(`--plans-json: plan ${k} has an unknown field '${key}'`);
    const { mixedDims, ...rest } = rec;
    if (mixedDims !== undefined && typeof mixedDims !== 'string')
      throw new RecPlanError(`--plans-json: plan ${k}'s mixedDims must be a string like "64:0.1,16"`);
    try {
      return checkPlan({ ...base, ...rest, mixedDims: mixedDims === undefined ? base.mixedDims : parseMixedDims(mixedDims, D) } as RecCompressPlan);
    } catch (e) {
      if (e instanceof MixedDimsError || e instanceof RecPlanError) throw new RecPlanError(`--plans-json: plan ${k}: ${e.message}`);
      throw e;
    }
  });
}

/** `--plans 'US:IS:UB:IB,…'` → one-shot plans over `base`. */
export function parsePlansList(text: string, base: RecCompressPlan): RecCompressPlan[] {
  return text.split(',').map((p) => {
    const f = p.split(':');
    if (f.length !== 4 || f.some((x) => x.trim() === '' || !Number.isFinite(Number(x))))
      throw new RecPlanError(`--plans: '${p}' is not USER_SPARSITY:ITEM_SPARSITY:USER_BITS:ITEM_BITS (e.g. 0.5:0.5:4:4)`);
    const [us, is, ub, ib] = f.map(Number);
    return checkPlan({ ...base, userSparsity: us!, itemSparsity: is!, userBits: ub!, itemBits: ib! });
  });
}

/** A plan in a few words: `mixed 64:0.1,8 · prune 50/50% gradual (4 ep) · 2/2 bits`. */
export function describePlan(p: RecCompressPlan): string {
  const parts = [];
  if (p.mixedDims) parts.push(`mixed ${formatMixedDims(p.mixedDims)}`);
  if (p.userSparsity > 0 || p.itemSparsity > 0 || !p.mixedDims)
    parts.push(`prune ${(100 * p.userSparsity).toFixed(0)}/${(100 * p.itemSparsity).toFixed(0)}%${p.gradual ? ' gradual' : ''}`);
  if (p.rareItems > 0) parts.push(`rare < ${p.rareItems}`);
  parts.push(
    `${p.fineTuneEpochs} ep @ ${p.fineTuneLr}`,
    `${p.userBits}/${p.itemBits} bits${p.shareEpochs ? ` + ${p.shareEpochs} retrain rounds` : ''}`,
  );
  return parts.join(' · ');
}

/** One row per plan (its last stage: the shared file): plan, bytes, ratio, HR@10, NDCG@10, ΔNDCG, /popularity; markdown. */
export function formatPlanTable(plans: { plan: RecCompressPlan; rows: StageRow[] }[], popularityNdcg: number): string {
  const dense = plans[0]!.rows[0]!;
  const row = (name: string, r: StageRow) =>
    `| ${name} | ${r.bytes.toLocaleString('en-US')} | ${r.ratio.toFixed(1)}× | ${r.test.hr.toFixed(4)} | ${r.test.ndcg.toFixed(4)} | ${(100 * (r.test.ndcg / dense.test.ndcg - 1)).toFixed(1)}% | ${(r.test.ndcg / popularityNdcg).toFixed(2)}× |`;
  return [
    '| plan | bytes | ratio | HR@10 | NDCG@10 | ΔNDCG | /popularity |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('dense fp32', dense),
    ...plans.map((p) => row(describePlan(p.plan), p.rows[p.rows.length - 1]!)),
  ].join('\n');
}
