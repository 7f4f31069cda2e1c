// Token + position embedding   (shaders/embedding.wgsl)
//   embedding:         tokens (N) u32, table (V, C), pos (T, C) optional → out (N, C)
//                      out[n, :] = table[tokens[n], :] + pos[n mod T, :]; a token ≥ V reads a zero row
//   embeddingBackward: dout (N, C) → dtable (V, C), dpos (T, C) optional, both = or += (accumulate)
//                      dtable[v] = Σ_{tokens[n] = v} dout[n] in ascending n; dpos[t] = Σ_b dout[b·T + t]
// The backward has no float atomics: a stable counting sort of the tokens (count per chunk, scan,
// scatter) then a segmented sum per vocabulary row, each in a fixed order, so every run gives the
// same bits. Its scratch (counts per chunk (G, V), ranks (N), bucket starts (V + 1), sorted (N),
// G = ceil(N / EMBEDDING_WG)) is returned in the plan for the caller to keep and dispose.
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import { createTensor, type Tensor } from '../gpu/tensor.js';
import { checkArgs, fail } from './args.js';

/** Workgroup size of every pass, and the chunk length of the counting sort. */
export const EMBEDDING_WG = 64;

export interface EmbeddingDims {
  N: number;
  C: number;
  V: number;
  /** Rows of pos (0 without positions). */
  T: number;
}

/** Checks tokens (N) u32, table (V, C) f32 and pos (T, C) f32 (optional); returns the dims. */
export function embeddingDims(tokens: Tensor, table: Tensor, pos?: Tensor, op = 'embedding'): EmbeddingDims {
  checkArgs(op, { tokens: { t: tokens, rank: 1, dtype: 'u32', what: '(N)' }, table: { t: table, rank: 2, dtype: 'f32', what: '(V, C)' } });
  const [V, C] = table.shape as [number, number];
  let T = 0;
  if (pos !== undefined) {
    checkArgs(op, { pos: { t: pos, rank: 2, dtype: 'f32', what: `(T, ${C})` } });
    if (pos.shape[1] !== C) fail(op, `pos must have shape (T, ${C}) like table's C, got [${pos.shape}]`);
    T = pos.shape[0]!;
  }
  const max = tokens.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (V > max) fail(op, `table has ${V} rows (V), beyond this device's ${max} workgroups per dimension`);
  return { N: tokens.shape[0]!, C, V, T };
}

function defines(C: number, pos: boolean, accum: boolean) {
  return { VEC4: C % 4 === 0, POS: pos, ACCUM: accum, WG: EMBEDDING_WG };
}

function params(gpu: Gpu, label: string, d: EmbeddingDims, G = 0): GPUBuffer {
  const CW = d.C % 4 === 0 ? d.C / 4 : d.C;
  return uniformParams(gpu, label, [
    ['u32', d.N],
    ['u32', CW],
    ['u32', Math.max(d.T, 1)],
    ['u32', d.V],
    ['u32', G],
  ]);
}

/** Dispatch record: out = table[tokens] (+ pos[n mod T]). */
export async function embedding(gpu: Gpu, tokens: Tensor, table: Tensor, pos: Tensor | undefined, out: Tensor): Promise<Dispatch[]> {
  const op = 'embedding';
  const d = embeddingDims(tokens, table, pos, op);
  checkArgs(op, {
    tokens: { t: tokens },
    table: { t: table },
    pos: { t: pos, optional: true },
    out: { t: out, dtype: 'f32', shape: [d.N, d.C], out: true },
  });
  const pipeline = await pipelines(gpu).get('embedding', defines(d.C, !!pos, false), 'forward');
  const u = params(gpu, 'embedding.params', d);
  const label = `embedding ${d.N}x${d.C} V=${d.V}${pos ? ` T=${d.T}` : ''}`;
  return [
    {
      label,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, label, [u, tokens, table, pos, out]),
      workgroups: grid(gpu, Math.ceil(d.N / EMBEDDING_WG)),
      owned: [u],
    },
  ];
}

export interface EmbeddingBackwardArgs {
  tokens: Tensor;
  /** (N, C): gradient of the embedding output. */
  dout: Tensor;
  /** (V, C): written (or accumulated into). */
  dtable: Tensor;
  /** (T, C): written (or accumulated into); absent when the embedding has no positions. */
  dpos?: Tensor;
  /** Add to dtable and dpos instead of overwriting them (e.g. a table tied to the LM head). */
  accumulate?: boolean;
  /** Scratch from an earlier plan, reused when large enough. */
  scratch?: readonly Tensor[];
}

export interface EmbeddingBackwardPlan {
  dispatches: Dispatch[];
  /** [counts (G·V), ranks (N), starts (V + 1), sorted (N)] u32; the caller disposes them. */
  scratch: Tensor[];
}

/** Scratch sizes of the backward for N tokens and V rows. */
export function embeddingScratchSizes(N: number, V: number): number[] {
  return [Math.ceil(N / EMBEDDING_WG) * V, N, V + 1, N];
}

/** Dispatch records (5, or 4 without dpos) of the deterministic embedding backward. */
export async function embeddingBackward(gpu: Gpu, a: EmbeddingBackwardArgs): Promise<EmbeddingBackwardPlan> {
  const op = 'embeddingBackward';
  if (!a || typeof a !== 'object') fail(op, 'args must be an object { tokens, dout, dtable, dpos?, accumulate? }');
  const { tokens, dout, dtable, dpos } = a;
  const d = embeddingDims(tokens, dtable, dpos, op);
  checkArgs(op, {
    tokens: { t: tokens },
    dout: { t: dout, dtype: 'f32', shape: [d.N, d.C] },
    dtable: { t: dtable, out: true },
    dpos: { t: dpos, out: true, optional: true },
  });
  const G = Math.ceil(d.N / EMBEDDING_WG);
  const sizes = embeddingScratchSizes(d.N, d.V);
  const old = a.scratch;
  const fits = old && old.length === 4 && old.every((t, i) => t.dtype === 'u32' && !t.isDisposed && t.size >= sizes[i]! && t.gpu === gpu);
  const names = ['counts', 'ranks', 'starts', 'sorted'];
  const scratch = fits ? [...old] : sizes.map((n, i) => createTensor(gpu, [n], undefined, { dtype: 'u32', label: `embeddingBackward.${names[i]}` }));
  const [cnt, rnk, start, sorted] = scratch as [Tensor, Tensor, Tensor, Tensor];
  const def = defines(d.C, !!dpos, !!a.accumulate);
  const get = (entry: string) => pipelines(gpu).get('embedding', def, entry);
  const [pc, ps, px, pt, pp] = await Promise.all(['bw_count', 'bw_scan', 'bw_scatter', 'bw_table', dpos ? 'bw_pos' : 'bw_table'].map(get));
  const u = params(gpu, 'embeddingBackward.params', d, G);
  const CW = d.C % 4 === 0 ? d.C / 4 : d.C;
  const tag = `${d.N}x${d.C} V=${d.V}`;
  const rec = (
    name: string,
    pipeline: GPUComputePipeline,
    b: (Tensor | GPUBuffer | undefined)[],
    workgroups: readonly [number, number, number],
    owned?: GPUBuffer[],
  ): Dispatch => {
    const label = `embeddingBackward.${name} ${tag}`;
    return { label, pipeline, bindGroup: bindGroup(gpu, pipeline, label, b), workgroups, owned };
  };
  const out: Dispatch[] = [
    rec('count', pc!, [u, tokens, undefined, undefined, undefined, cnt, rnk], grid(gpu, G), [u]),
    rec('scan', ps!, [u, undefined, undefined, undefined, undefined, cnt, undefined, start], [1, 1, 1]),
    rec('scatter', px!, [u, tokens, undefined, undefined, undefined, cnt, rnk, start, sorted], grid(gpu, G)),
    rec(
      'table',
      pt!,
      [u, undefined, undefined, undefined, undefined, undefined, undefined, start, sorted, dout, dtable],
      [Math.ceil(CW / EMBEDDING_WG), d.V, 1],
    ),
  ];
  if (dpos)
    out.push(
      rec(
        'pos',
        pp!,
        [u, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, dout, undefined, dpos],
        grid(gpu, Math.ceil((d.T * CW) / EMBEDDING_WG)),
      ),
    );
  return { dispatches: out, scratch };
}
