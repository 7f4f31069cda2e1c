// The scheduler's kernels (shaders/step.wgsl): per-step hyper-parameters from a table indexed by the
// GPU step counter, the step counter itself, and batch gathering through a shuffled index list.
//   state u32[4] ([0] step, [1] first step of the current permutation, [2] hashed text windows'
//   count or 0, [3] their seed), table f32[cap·W], hyper f32[≥ W], perm u32[n], data u32 (bytes
//   packed or f32 bits) (n, D), out f32 (B, D), labels u32[n], outLabels u32[B];
//   gatherText: text bytes packed u32, tokens and targets u32 (B, T).
import type { Gpu } from '../gpu/device.js';
import { bindGroup, grid, uniformParams, type Dispatch } from '../gpu/dispatch.js';
import { pipelines } from '../gpu/pipeline.js';
import type { Tensor } from '../gpu/tensor.js';
import { fail, finite, positiveInt } from './args.js';

const WG = 64;

export interface StepBuffers {
  state: Tensor;
  table: Tensor;
  hyper: Tensor;
}

function params(gpu: Gpu, label: string, B: number, D: number, cap: number, n: number, scale = 1, shift = 0): GPUBuffer {
  return uniformParams(gpu, label, [
    ['u32', B],
    ['u32', D],
    ['u32', cap],
    ['u32', n],
    ['f32', scale],
    ['f32', shift],
    ['u32', 0],
    ['u32', 0],
  ]);
}

/** hyper ← table[state.step % cap] (rows of `width` values; cap = table.size / width). */
export async function prepareStep(gpu: Gpu, s: StepBuffers, width = 4): Promise<Dispatch[]> {
  positiveInt('prepareStep', 'width', width);
  const cap = s.table.size / width;
  if (!Number.isInteger(cap) || cap < 1) fail('prepareStep', `table must hold cap·${width} values, got ${s.table.size}`);
  if (s.hyper.size < width) fail('prepareStep', `hyper must hold a row of ${width} values, got ${s.hyper.size}`);
  const pipeline = await pipelines(gpu).get('step', { U8: false, WORDS: false, WG }, 'prepare');
  const u = params(gpu, 'prepare.params', 0, width, cap, 1);
  return [
    {
      label: 'step.prepare',
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, 'step.prepare', [u, s.state, s.table, s.hyper]),
      workgroups: [1, 1, 1],
      owned: [u],
    },
  ];
}

/** state.step += 1. */
export async function advanceStep(gpu: Gpu, state: Tensor): Promise<Dispatch[]> {
  const pipeline = await pipelines(gpu).get('step', { U8: false, WORDS: false, WG }, 'advance');
  return [{ label: 'step.advance', pipeline, bindGroup: bindGroup(gpu, pipeline, 'step.advance', [undefined, state]), workgroups: [1, 1, 1] }];
}

export interface GatherArgs {
  state: Tensor;
  perm: Tensor;
  /** (n, D) samples: bytes packed 4 per u32 when `bytes`, else f32. */
  data: Tensor;
  bytes: boolean;
  n: number;
  D: number;
  out: Tensor;
  scale?: number;
  shift?: number;
  labels?: Tensor;
  outLabels?: Tensor;
}

/** out (B, D) ← data[perm[step·B + j]]·scale + shift, and outLabels (B) ← labels[...]. */
export async function gatherBatch(gpu: Gpu, a: GatherArgs): Promise<Dispatch[]> {
  const op = 'gatherBatch';
  positiveInt(op, 'n', a.n);
  positiveInt(op, 'D', a.D);
  const B = a.out.size / a.D;
  if (!Number.isInteger(B) || B < 1) fail(op, `out must hold B·D values with D = ${a.D}, got ${a.out.size}`);
  if (a.perm.size < a.n) fail(op, `perm must hold n = ${a.n} indices, got ${a.perm.size}`);
  const need = a.bytes ? Math.ceil((a.n * a.D) / 4) : a.n * a.D;
  if (a.data.size < need) fail(op, `data must hold ${need} words for (${a.n}, ${a.D}), got ${a.data.size}`);
  finite(op, 'scale', a.scale ?? 1);
  finite(op, 'shift', a.shift ?? 0);
  const u = params(gpu, 'gather.params', B, a.D, 1, a.n, a.scale ?? 1, a.shift ?? 0);
  // whole words per invocation when every sample starts on a word (bytes, D % 4 == 0)
  const words = a.bytes && a.D % 4 === 0;
  const pipeline = await pipelines(gpu).get('step', { U8: a.bytes, WORDS: words, WG }, 'gather');
  const out: Dispatch[] = [
    {
      label: `gather ${B}x${a.D}`,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, 'gather', [u, a.state, undefined, undefined, a.perm, a.data, a.out]),
      workgroups: grid(gpu, Math.ceil((B * (words ? a.D / 4 : a.D)) / WG)),
      owned: [u],
    },
  ];
  if (a.labels && a.outLabels) {
    if (a.outLabels.size !== B) fail(op, `outLabels must hold B = ${B} values, got ${a.outLabels.size}`);
    const pl = await pipelines(gpu).get('step', { U8: a.bytes, WORDS: false, WG }, 'gather_labels');
    out.push({
      label: `gather labels ${B}`,
      pipeline: pl,
      bindGroup: bindGroup(gpu, pl, 'gather_labels', [u, a.state, undefined, undefined, a.perm, undefined, undefined, a.labels, a.outLabels]),
      workgroups: [Math.ceil(B / WG), 1, 1],
    });
  }
  return out;
}

export interface GatherTextArgs {
  state: Tensor;
  /** Window starts (byte offsets), n of them. */
  perm: Tensor;
  n: number;
  /** The text, bytes packed 4 per u32; every window [s, s + T] must lie inside it. */
  text: Tensor;
  /** Window length T (inputs; the targets are the next T bytes). */
  T: number;
  /** u32 (B, T) inputs and next-byte targets. */
  tokens: Tensor;
  targets: Tensor;
}

/** tokens[j, t] = text[s_j + t], targets[j, t] = text[s_j + t + 1], s_j = perm[(step − start)·B + j] (or hashed, state[2] ≠ 0). */
export async function gatherText(gpu: Gpu, a: GatherTextArgs): Promise<Dispatch[]> {
  const op = 'gatherText';
  positiveInt(op, 'n', a.n);
  positiveInt(op, 'T', a.T);
  const B = a.tokens.size / a.T;
  if (!Number.isInteger(B) || B < 1) fail(op, `tokens must hold B·T values with T = ${a.T}, got ${a.tokens.size}`);
  if (a.targets.size !== a.tokens.size) fail(op, `targets must hold B·T = ${a.tokens.size} values like tokens, got ${a.targets.size}`);
  if (a.perm.size < a.n) fail(op, `perm must hold n = ${a.n} window starts, got ${a.perm.size}`);
  for (const [nm, t] of [
    ['tokens', a.tokens],
    ['targets', a.targets],
    ['perm', a.perm],
    ['text', a.text],
    ['state', a.state],
  ] as const) {
    if (t.dtype !== 'u32') fail(op, `${nm} must be u32, got ${t.dtype}`);
  }
  const u = params(gpu, 'gatherText.params', B, a.T, 1, a.n);
  const pipeline = await pipelines(gpu).get('step', { U8: true, WORDS: false, WG }, 'gather_text');
  return [
    {
      label: `gather text ${B}x${a.T}`,
      pipeline,
      bindGroup: bindGroup(gpu, pipeline, 'gather_text', [
        u,
        a.state,
        undefined,
        undefined,
        a.perm,
        a.text,
        undefined,
        undefined,
        a.targets,
        a.tokens,
      ]),
      workgroups: grid(gpu, Math.ceil((B * a.T) / WG)),
      owned: [u],
    },
  ];
}

/** Packs bytes 4 per u32 (little-endian), padding to a whole word. */
export function packBytes(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(Math.max(1, Math.ceil(bytes.length / 4)));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}
