// sigmoid: elementwise activation, same shape, no parameters.
import * as ew from '../../kernels/elementwise.js';
import { activation } from './elementwise.js';

export const sigmoid = activation('sigmoid', ew.sigmoid, ew.sigmoidBackward);
