// tanh: elementwise activation, same shape, no parameters.
import * as ew from '../../kernels/elementwise.js';
import { activation } from './elementwise.js';

export const tanh = activation('tanh', ew.tanh, ew.tanhBackward);
