// The layer-kind registry: one line per kind (the mapped type makes a missing kind a type error).
import type { LayerKind } from '../spec.js';
import type { LayerKindDef } from './kind.js';
import { add } from './add.js';
import { attention } from './attention.js';
import { conv2d } from './conv2d.js';
import { dense } from './dense.js';
import { embedding } from './embedding.js';
import { flatten } from './flatten.js';
import { gelu } from './gelu.js';
import { layerNorm } from './layer-norm.js';
import { maxPool2d } from './max-pool2d.js';
import { positions } from './positions.js';
import { relu } from './relu.js';
import { sigmoid } from './sigmoid.js';
import { tanh } from './tanh.js';
import { tiedHead } from './tied-head.js';

export type { BackwardContext, DecodeContext, ForwardContext, InitContext, LayerKindDef, LayerOf, ResolveContext, TorchNames } from './kind.js';

export const LAYER_KINDS: { readonly [K in LayerKind]: LayerKindDef<K> } = {
  dense,
  conv2d,
  maxPool2d,
  relu,
  sigmoid,
  tanh,
  flatten,
  embedding,
  positions,
  layerNorm,
  attention,
  gelu,
  add,
  tiedHead,
};

/** The definition of a kind (undefined for an unknown one, e.g. from a JSON spec). */
export function layerKind(kind: string): LayerKindDef | undefined {
  return Object.hasOwn(LAYER_KINDS, kind) ? (LAYER_KINDS as Record<string, LayerKindDef>)[kind] : undefined;
}
