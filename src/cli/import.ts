// `slimgpu import FILE.safetensors --model M [--names torch] --out ckpt.safetensors`: a foreign
// state_dict (PyTorch's names and layouts by default; see src/io/torch.ts and docs/format.md)
// becomes a slimgpu checkpoint — weights, zero momentum, all-ones masks, the run configuration —
// that `slimgpu eval --checkpoint`, `export` and `train --resume` take. Everything is checked
// before anything is written; on any problem nothing is written.
import { Command, Option } from 'commander';
import { saveCheckpoint, type Json } from '../io/checkpoint.js';
import { readFileBytes } from '../io/files.js';
import { importStateDict, NAME_SCHEMES, stateDictNames, type NameScheme } from '../io/torch.js';
import type { TensorMap } from '../io/safetensors.js';
import { defaultLr, modelFromName, parseGptName, PRESETS, resolveModel } from '../nn/model.js';
import { GPT_VOCAB } from '../nn/presets.js';
import { DATA_SOURCES, loadData, specFor, RUN_DEFAULTS, type RunConfig } from '../run/run.js';

interface ImportFlags {
  model: string;
  names: NameScheme;
  data: string;
  dataDir?: string;
  out: string;
  json?: boolean;
}

async function importCommand(file: string, f: ImportFlags): Promise<void> {
  const gpt = parseGptName(f.model);
  // a gpt: model's shapes follow from its name; the others from the data (input shape, classes)
  const spec = gpt
    ? modelFromName(f.model, { input: [gpt.T], numClasses: GPT_VOCAB })
    : specFor(f.model, (await loadData(f.data, { dataDir: f.dataDir })).train);
  const bytes = await readFileBytes(file, 'state_dict');
  const { values, converted, metadata } = importStateDict(bytes, spec, { names: f.names, name: file });
  const tensors: TensorMap = {};
  // the layout of writeCheckpoint (src/run.ts): weights, momentum, and masks of the prunable ones
  for (const l of resolveModel(spec)) {
    for (const { name, shape, prunable } of l.params) {
      const n = shape.reduce((a, b) => a * b, 1);
      tensors[name] = { dtype: 'F32', shape: [...shape], data: values.get(name)! };
      tensors[`${name}.momentum`] = { dtype: 'F32', shape: [...shape], data: new Float32Array(n) };
      if (prunable) tensors[`${name}.mask`] = { dtype: 'F32', shape: [...shape], data: new Float32Array(n).fill(1) };
    }
  }
  const cfg: RunConfig = {
    model: f.model,
    data: f.data,
    dataDir: f.dataDir,
    epochs: RUN_DEFAULTS.epochs,
    batch: RUN_DEFAULTS.batch,
    lr: defaultLr(f.model),
    momentum: RUN_DEFAULTS.momentum,
    l2: RUN_DEFAULTS.l2,
    seed: RUN_DEFAULTS.seed,
    init: file,
    initNames: f.names,
  };
  await saveCheckpoint(f.out, {
    tensors,
    step: 0,
    config: JSON.parse(JSON.stringify(cfg)) as Json,
    rng: { shuffleSeed: 0, scheme: 'shuffledIndices(n, seed, epoch)' },
    extra: { spec: JSON.parse(JSON.stringify(spec)) as Json, imported: { file, names: f.names, metadata } },
  });
  const rows = stateDictNames(spec, f.names).map((m) => ({
    file: m.file,
    fileShape: m.fileShape,
    param: m.param,
    shape: m.shape,
    transposed: m.transpose,
    convertedFrom: converted.get(m.file) ?? null,
  }));
  if (f.json) {
    console.log(JSON.stringify({ file, out: f.out, model: f.model, data: f.data, names: f.names, tensors: rows }, null, 2));
    return;
  }
  const fmt = (s: number[]) => `[${s.join('×')}]`;
  const w = Math.max(...rows.map((r) => r.file.length)),
    pw = Math.max(...rows.map((r) => r.param.length));
  const sw = Math.max(...rows.map((r) => fmt(r.fileShape).length));
  for (const r of rows) {
    const note = [r.transposed ? 'transposed' : '', r.convertedFrom ? `${r.convertedFrom} → F32` : ''].filter(Boolean).join(', ');
    console.log(`${r.file.padEnd(w)}  ${fmt(r.fileShape).padEnd(sw)}  →  ${r.param.padEnd(pw)}  ${fmt(r.shape).padEnd(sw)}  ${note}`.trimEnd());
  }
  console.log(`wrote ${f.out} (model ${f.model}, data ${f.data}); evaluate it with: slimgpu eval --checkpoint ${f.out}`);
}

export function addImportCommand(program: Command): void {
  program
    .command('import')
    .description('turn a safetensors state_dict (PyTorch names and layouts by default) into a slimgpu checkpoint')
    .argument('<file>', 'the state_dict, e.g. lenet.safetensors written by python/train_torch.py')
    .requiredOption('--model <name>', `the model the weights belong to: ${PRESETS.join(', ')}`)
    .addOption(
      new Option(
        '--names <scheme>',
        'tensor names and layouts in the file: torch (fc1.weight [out, in], conv1.weight) or slimgpu (dense1.weight [in, out])',
      )
        .choices([...NAME_SCHEMES])
        .default('torch'),
    )
    .option('--data <source>', `the data the checkpoint evaluates and trains on: ${DATA_SOURCES.join(', ')}`, 'mnist')
    .option('--data-dir <dir>', 'folder of IDX files for --data fashion-mnist')
    .requiredOption('--out <file>', 'the checkpoint to write, e.g. runs/torch/checkpoint.safetensors')
    .option('--json', 'print the mapping as JSON')
    .action(importCommand);
}
