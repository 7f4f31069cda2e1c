// gelu: elementwise activation, same shape, no parameters.
import type { LayerKindDef } from './kind.js';

export const gelu: LayerKindDef<'gelu'> = { kind: 'gelu', resolve() {} };
