// IDX files (the MNIST / Fashion-MNIST format), plain or gzipped, parsed as untrusted input:
//   bytes 0-1: 0, byte 2: dtype code, byte 3: number of dimensions d (1..4),
//   then d big-endian u32 dimensions (each > 0), then exactly product(dims) big-endian values.
import { computeNormalization, DataError, type DatasetSplit, type RawDataset } from './dataset.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, gunzip, isGzip, readFileBytes } from './files.js';
import { thrower } from '../gpu/errors.js';

export type IdxDType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDType;
  /** All dimensions, the first being the sample count. */
  dims: number[];
  /** The values in host order, row-major. */
  data: IdxData;
}

const CODES: Record<number, { dtype: IdxDType; size: number }> = {
  0x08: { dtype: 'u8', size: 1 },
  0x09: { dtype: 'i8', size: 1 },
  0x0b: { dtype: 'i16', size: 2 },
  0x0c: { dtype: 'i32', size: 4 },
  0x0d: { dtype: 'f32', size: 4 },
  0x0e: { dtype: 'f64', size: 8 },
};
const CODE_OF: Record<IdxDType, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };
const MAX_DIMS = 4;

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function hex(v: number, digits: number): string {
  return '0x' + v.toString(16).padStart(digits, '0');
}

/** Parses (already decompressed) IDX bytes. `name` (usually the file path) appears in every error. */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  const fail = thrower(DataError, `slimgpu.data: IDX file '${name}': `);
  if (!(bytes instanceof Uint8Array)) fail('expected a Uint8Array of bytes');
  if (bytes.length < 4) fail(`is ${bytes.length} bytes long, too short for the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(
      `bad magic number ${hex(magic, 8)}: an IDX file starts with two zero bytes, a dtype byte and a dimension count${isGzip(bytes) ? ' (these bytes are gzip data: decompress first)' : ''}`,
    );
  }
  const code = bytes[2]!;
  const kind = CODES[code];
  if (!kind)
    fail(`unknown dtype byte ${hex(code, 2)} in magic ${hex(magic, 8)} (expected 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32 or 0x0e f64)`);
  const { dtype, size } = kind!;
  const ndim = bytes[3]!;
  if (ndim < 1 || ndim > MAX_DIMS) fail(`has ${ndim} dimensions (magic ${hex(magic, 8)}); expected 1 to ${MAX_DIMS}`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes)
    fail(`is ${bytes.length} bytes long, too short for its ${headerBytes}-byte header with ${ndim} dimensions (truncated)`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) fail(`dimension ${i} is 0 (dims [${[...dims, d]}...]); every dimension must be > 0`);
    dims.push(d);
  }
  let count = 1;
  for (const d of dims) count *= d; // exact while ≤ 2^53; anything larger cannot match the byte count below
  const expected = count * size;
  const actual = bytes.length - headerBytes;
  if (expected !== actual) {
    const why = expected > actual ? 'truncated, or dimensions too large' : `${actual - expected} bytes too many: oversized or corrupt`;
    fail(`dims [${dims}] of ${dtype} need exactly ${expected} data bytes after the ${headerBytes}-byte header, but ${actual} are present (${why})`);
  }
  let data: IdxData;
  switch (dtype) {
    case 'u8':
      data = bytes.slice(headerBytes);
      break;
    case 'i8':
      data = new Int8Array(Uint8Array.prototype.slice.call(bytes, headerBytes).buffer); // a copy even for a Node Buffer
      break;
    case 'i16':
      data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(headerBytes + 2 * i, false);
      break;
    case 'i32':
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(headerBytes + 4 * i, false);
      break;
    case 'f32':
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(headerBytes + 4 * i, false);
      break;
    case 'f64':
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(headerBytes + 8 * i, false);
      break;
  }
  return { dtype, dims, data };
}

/** Serialises an IDX array (big-endian), the inverse of parseIdx. Used for tests and exports. */
export function encodeIdx(arr: IdxArray): Uint8Array {
  const { dtype, dims, data } = arr;
  const code = CODE_OF[dtype];
  if (code === undefined) throw new DataError(`slimgpu.data: encodeIdx: unknown dtype ${String(dtype)}`);
  if (dims.length < 1 || dims.length > MAX_DIMS || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 0xffffffff)) {
    throw new DataError(`slimgpu.data: encodeIdx: dims must be 1 to ${MAX_DIMS} positive u32 integers, got [${dims}]`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new DataError(`slimgpu.data: encodeIdx: dims [${dims}] need ${count} values, got ${data.length}`);
  const size = CODES[code]!.size;
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const o = header + i * size,
      v = Number(data[i]);
    switch (dtype) {
      case 'u8':
        view.setUint8(o, v);
        break;
      case 'i8':
        view.setInt8(o, v);
        break;
      case 'i16':
        view.setInt16(o, v, false);
        break;
      case 'i32':
        view.setInt32(o, v, false);
        break;
      case 'f32':
        view.setFloat32(o, v, false);
        break;
      case 'f64':
        view.setFloat64(o, v, false);
        break;
    }
  }
  return out;
}

export interface IdxReadOptions {
  /** Cap on the decompressed size of a .gz file (default 512 MiB). */
  maxDecompressedBytes?: number;
}

/** Decompresses if gzipped (detected by its magic bytes, not the file name), then parses. */
export async function decodeIdx(bytes: Uint8Array, name: string, opts: IdxReadOptions = {}): Promise<IdxArray> {
  const raw = isGzip(bytes) ? await gunzip(bytes, name, opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES) : bytes;
  return parseIdx(raw, name);
}

/** Reads and parses one IDX file, plain or gzipped (Node). */
export async function readIdx(path: string, opts: IdxReadOptions = {}): Promise<IdxArray> {
  return decodeIdx(await readFileBytes(path, 'IDX file'), path, opts);
}

export interface IdxDatasetOptions extends IdxReadOptions {
  name?: string;
  /** Labels must be < numClasses (default: largest label + 1). */
  numClasses?: number;
  classNames?: string[];
}

/**
 * Builds a classification dataset from an images array (n × ...) and a labels array (n, integer).
 * u8 images stay bytes with scale 1/255; other dtypes become float32 with scale 1. Mean and std
 * are computed from these images (give a test split its train split's normalisation yourself).
 */
export function idxToDataset(
  images: IdxArray,
  labels: IdxArray,
  opts: IdxDatasetOptions & { imagesName?: string; labelsName?: string } = {},
): RawDataset {
  const imagesName = opts.imagesName ?? 'images',
    labelsName = opts.labelsName ?? 'labels';
  const fail = thrower(DataError, `slimgpu.data: `);
  if (labels.dims.length !== 1) fail(`IDX labels '${labelsName}' must be 1-D, got dims [${labels.dims}]`);
  if (labels.dtype === 'f32' || labels.dtype === 'f64') fail(`IDX labels '${labelsName}' must be integers, got dtype ${labels.dtype}`);
  const n = images.dims[0]!;
  if (labels.dims[0] !== n)
    fail(`IDX images '${imagesName}' hold ${n} samples but labels '${labelsName}' hold ${labels.dims[0]}; the counts must be equal`);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const v = labels.data[i]!;
    if (v < 0 || v > 255) fail(`IDX labels '${labelsName}': label ${v} at sample ${i} is outside [0, 255]`);
    if (v > maxLabel) maxLabel = v;
  }
  const numClasses = opts.numClasses ?? Math.max(1, maxLabel + 1);
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) fail(`numClasses must be an integer in [1, 256], got ${numClasses}`);
  if (maxLabel >= numClasses) {
    let at = 0;
    while (labels.data[at]! < numClasses) at++;
    fail(`IDX labels '${labelsName}': label ${labels.data[at]} at sample ${at} is not < numClasses = ${numClasses}`);
  }
  const rest = images.dims.slice(1);
  const inputShape = rest.length === 0 ? [1] : rest.length === 2 ? [1, rest[0]!, rest[1]!] : rest;
  const featureCount = rest.reduce((a, b) => a * b, 1);
  const inputs = images.data instanceof Uint8Array ? images.data : Float32Array.from(images.data);
  const scale = images.dtype === 'u8' ? 1 / 255 : 1;
  const ds: RawDataset = {
    name: opts.name ?? imagesName,
    task: 'classification',
    n,
    inputShape,
    featureCount,
    inputs,
    normalization: computeNormalization(inputs, scale),
    labels: Uint8Array.from(labels.data as ArrayLike<number>),
    numClasses,
    targets: undefined,
    targetDim: 0,
  };
  if (opts.classNames) {
    if (opts.classNames.length !== numClasses) fail(`classNames has ${opts.classNames.length} names, expected numClasses = ${numClasses}`);
    ds.classNames = [...opts.classNames];
  }
  return ds;
}

/** Loads an images file and a labels file (IDX, plain or .gz) as one classification dataset (Node). */
export async function loadIdx(imagesPath: string, labelsPath: string, opts: IdxDatasetOptions = {}): Promise<RawDataset> {
  // sequential, so the error reported for two bad files is always the images file's
  const images = await readIdx(imagesPath, opts);
  const labels = await readIdx(labelsPath, opts);
  return idxToDataset(images, labels, { ...opts, imagesName: imagesPath, labelsName: labelsPath });
}

async function pickFile(dir: string, base: string): Promise<string> {
  const { access } = await import('node:fs/promises');
  const sep = dir.endsWith('/') ? '' : '/';
  const candidates = [`${dir}${sep}${base}.gz`, `${dir}${sep}${base}`];
  for (const c of candidates) {
    try {
      await access(c);
      return c;
    } catch {
      /* try the next */
    }
  }
  throw new DataError(
    `slimgpu.data: neither ${candidates.join(' nor ')} exists (Fashion-MNIST: install Debian's dataset-fashion-mnist package, or pass the directory holding the IDX files)`,
  );
}

/**
 * Any MNIST-layout directory: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
 * t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]. The test split gets the train
 * split's normalisation.
 */
export async function loadIdxDirectory(dir: string, opts: IdxDatasetOptions = {}): Promise<DatasetSplit> {
  const name = opts.name ?? 'idx';
  // one file after another: a missing file is reported in a fixed order, not by whichever check loses a race
  const files: string[] = [];
  for (const b of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
    files.push(await pickFile(dir, b));
  const [trI, trL, teI, teL] = files;
  const train = await loadIdx(trI!, trL!, { ...opts, name: `${name}/train` });
  const test = await loadIdx(teI!, teL!, { ...opts, name: `${name}/test`, numClasses: opts.numClasses ?? train.numClasses });
  const sameShape = train.inputShape.length === test.inputShape.length && train.inputShape.every((d, i) => d === test.inputShape[i]);
  if (!sameShape) throw new DataError(`slimgpu.data: train samples have shape [${train.inputShape}] but test samples [${test.inputShape}] in ${dir}`);
  test.normalization = { ...train.normalization };
  return { train, test };
}

/** Fashion-MNIST (60,000 train + 10,000 test, 1×28×28 bytes, 10 classes) from its IDX files (Node). */
export async function loadFashionMnist(dir = FASHION_MNIST_DIR, opts: IdxReadOptions = {}): Promise<DatasetSplit> {
  return loadIdxDirectory(dir, { ...opts, name: 'fashion-mnist', numClasses: 10, classNames: FASHION_MNIST_CLASSES });
}
