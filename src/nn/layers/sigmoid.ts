// sigmoid: elementwise activation, same shape, no parameters.
import type { LayerKindDef } from './kind.js';

export const sigmoid: LayerKindDef<'sigmoid'> = { kind: 'sigmoid', resolve() {} };
