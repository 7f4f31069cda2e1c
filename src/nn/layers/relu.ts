// relu: elementwise activation, same shape, no parameters. Fused into the dense/conv it reads when
// that node has no other reader (its kernel applies max(0, ·); its backward applies relu').
import * as ew from '../../kernels/elementwise.js';
import { activation } from './elementwise.js';

export const relu = activation('relu', ew.relu, ew.reluBackward, {
  fuse(l, out) {
    const a = out[l.inputs[0]!];
    if (a && (a.spec.kind === 'dense' || a.spec.kind === 'conv2d') && a.consumers.length === 1) a.fusedActivation = 'relu';
  },
  fused: (_l, src) => src?.fusedActivation === 'relu',
});
