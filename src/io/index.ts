// The io layer: safetensors, checkpoints, atomic file writes.
export {
  DEFAULT_MAX_HEADER_BYTES,
  METADATA_KEY,
  SAFETENSORS_DTYPES,
  SafetensorsError,
  dtypeSize,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  serializeSafetensors,
  serializeSafetensorsChunks,
  writeSafetensorsAtomic,
} from './safetensors.js';
export type {
  DTypeArrays,
  ParseOptions,
  SafeTensor,
  SafetensorsContent,
  SafetensorsDType,
  SafetensorsHeader,
  TensorData,
  TensorEntry,
  TensorMap,
} from './safetensors.js';
export {
  CHECKPOINT_FORMAT_KEY,
  CHECKPOINT_VERSION,
  CheckpointError,
  checkpointMetadata,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
export type { Checkpoint, Json } from './checkpoint.js';
export { FileError, readFileBytes, writeFileAtomic } from './files.js';
export { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, fromBf16, fromF16, toBf16, toF16 } from './half.js';
