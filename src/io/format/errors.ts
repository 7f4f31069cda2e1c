// The compressed model format's error: a SafetensorsError (the container's) whose message names the
// file and the section ('parameter 'dense1.weight': relative index: ...').
import { SafetensorsError } from '../safetensors.js';

export class CompressedModelError extends SafetensorsError {
  constructor(message: string) {
    super(message);
    this.name = 'CompressedModelError';
  }
}
