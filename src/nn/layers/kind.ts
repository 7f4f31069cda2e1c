// What one layer kind defines (one file per kind in this folder, one line per kind in index.ts).
// Today: its shape inference and parameters (resolveModel calls `resolve` for every node). The
// kind's forward/backward records, decode step and torch names are still switches in graph.ts,
// nodes-text.ts, decode.ts and io/torch.ts: they move here next (docs/ARCHITECTURE.md).
import type { LayerKind, LayerSpec, ResolvedLayer } from '../spec.js';

export const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
export const posInt = (x: unknown) => Number.isInteger(x) && (x as number) >= 1;

/** The node being resolved, what it reads, and helpers that throw a ModelError naming it. */
export interface ResolveContext {
  /** The resolved node: `resolve` sets outShape, seq, params, weightShape, biasShape, fanIn, fanOut. */
  r: ResolvedLayer;
  inShape: number[];
  /** Its input is per-token rows [T, C]. */
  seq: boolean;
  /** Its input is the language model's tokens. */
  tokens: boolean;
  /** The nodes resolved so far (earlier ones). */
  out: ResolvedLayer[];
  shapeOf(i: number): number[];
  seqOf(i: number): boolean;
  /** Throws ModelError(`model 'M' layer i (name): ${msg}`). */
  fail(msg: string): never;
  needSeq(): void;
  noSeq(): void;
  /** Adds the prunable '<name>.weight' of this shape. */
  weight(shape: number[]): void;
  /** Adds the dense '<name>.bias' of this shape. */
  bias(shape: number[]): void;
}

export interface LayerKindDef<K extends LayerKind = LayerKind> {
  kind: K;
  /** Inputs the node reads (default 1). */
  arity?: number;
  /** Checks the spec against its input and fills the node's shapes and parameters. */
  resolve(l: Extract<LayerSpec, { kind: K }>, c: ResolveContext): void;
}
