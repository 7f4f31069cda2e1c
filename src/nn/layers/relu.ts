// relu: elementwise activation, same shape, no parameters.
import type { LayerKindDef } from './kind.js';

export const relu: LayerKindDef<'relu'> = { kind: 'relu', resolve() {} };
