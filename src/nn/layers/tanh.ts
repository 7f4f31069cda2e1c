// tanh: elementwise activation, same shape, no parameters.
import type { LayerKindDef } from './kind.js';

export const tanh: LayerKindDef<'tanh'> = { kind: 'tanh', resolve() {} };
