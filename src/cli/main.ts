// The `slimgpu` command line: train, eval, export, bench, info.
import { Command, CommanderError, Option } from 'commander';
import { adapterSummary, createGpu, type AdapterSummary } from '../gpu/device.js';
import { contextOf, formatReport, loadAnyData, readCheckpoint, buildReport, type RunConfig } from '../run/run.js';
import { evaluate } from '../nn/trainer.js';
import { INIT_METHODS } from '../compress/sharing.js';
import { loadCompressed } from '../io/export.js';
import { readFileBytes } from '../io/files.js';
import { compressNetwork, fileBytesOf, RUN_DEFAULTS as D } from '../run/run.js';

import { addCodecCommands } from './codec.js';
import { addTrainCommand } from './train.js';
import { num, bitsArg, qatTuningOptions } from './args.js';
import { addSampleCommand } from './sample.js';
import { addPredictCommand } from './predict.js';
import { addImportCommand } from './import.js';
import { addImageCommand } from './image.js';
import { addRecommendCommand, routeRecommend } from './recommend.js';
import { exportTorchCommand, sharingConfig, type ExportTorchFlags } from './export-torch.js';
import { NAME_SCHEMES } from '../io/torch.js';

function printInfo(info: AdapterSummary): void {
  const rows: [string, string][] = [
    ['backend', info.backend],
    ['vendor', info.vendor || '-'],
    ['architecture', info.architecture || '-'],
    ['device', info.device || '-'],
    ['description', info.description || '-'],
    ['fallback adapter', info.isFallbackAdapter ? 'yes' : 'no'],
    ['features', info.features.join(', ')],
  ];
  for (const [k, v] of Object.entries(info.limits)) rows.push([k, String(v)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

function addInfoCommand(program: Command): void {
  program
    .command('info')
    .description('show the WebGPU adapter: vendor, architecture, features, key limits')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const info = await adapterSummary();
      if (opts.json) console.log(JSON.stringify(info, null, 2));
      else printInfo(info);
    });
}

function addEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a checkpoint, or a compressed model file, on the test split')
    .option('--checkpoint <path>', 'checkpoint.safetensors written by train')
    .option('--compressed <path>', 'a model.slim.safetensors written by train or export (needs --data unless mnist)')
    .option('--data <source>', 'data source (default: the one it was trained on; mnist for --compressed)')
    .option('--data-dir <dir>', 'folder of IDX .gz files')
    .option('--test-size <n>', 'use only the first n test samples', num('--test-size', { int: true, min: 1 }))
    .option('--json', 'print JSON')
    .action(async (f: { checkpoint?: string; compressed?: string; data?: string; dataDir?: string; testSize?: number; json?: boolean }) => {
      if (!f.checkpoint === !f.compressed)
        throw new Error('slimgpu eval: needs exactly one of --checkpoint <path> or --compressed <path> (see slimgpu eval --help)');
      const gpu = await createGpu();
      try {
        let net, cfg: RunConfig, file;
        if (f.checkpoint) {
          ({ net, cfg } = await readCheckpoint(gpu, f.checkpoint));
        } else {
          const bytes = await readFileBytes(f.compressed!, 'compressed model');
          net = await loadCompressed(gpu, bytes, { name: f.compressed });
          file = fileBytesOf(bytes);
          cfg = { model: net.spec.name, data: f.data ?? 'mnist', epochs: 0, batch: 0, lr: 0, momentum: 0, l2: 0, seed: 0 };
        }
        const data = await loadAnyData(f.data ?? cfg.data, {
          dataDir: f.dataDir ?? cfg.dataDir,
          testSize: f.testSize ?? (f.data ? undefined : cfg.testSize),
          seed: cfg.seed,
          context: net.spec.task === 'language' ? net.spec.input[0] : undefined,
        });
        const res = await evaluate(net, data.test);
        const report = await buildReport(net, { ...cfg, data: f.data ?? cfg.data }, res, undefined, gpu.info.description, file);
        if (f.json) console.log(JSON.stringify(report, null, 2));
        else console.log(formatReport(report));
        net.dispose();
      } finally {
        gpu.destroy();
      }
    });
}

function addExportCommand(program: Command): void {
  const qat = qatTuningOptions('steps between k-means re-fits of the QAT codebooks (default 0: never)');
  program
    .command('export')
    .description('write the compressed model of a checkpoint: sparse index + (shared) values in a .slim.safetensors file')
    .option('--checkpoint <path>', 'checkpoint.safetensors written by train or import')
    .option('--compressed <path>', 'with --format torch: a model.slim.safetensors to write out dense')
    .requiredOption('--out <file>', 'output file, e.g. model.slim.safetensors')
    .addOption(
      new Option('--format <format>', 'slim: the compressed file; torch: a dense safetensors state_dict in PyTorch names (load_state_dict)')
        .choices(['slim', 'torch'])
        .default('slim'),
    )
    .addOption(
      new Option('--names <scheme>', 'with --format torch: torch (fc1.weight [out, in]) or slimgpu names')
        .choices([...NAME_SCHEMES])
        .default('torch'),
    )
    .option('--bits <b>', 'weight sharing: 2^b centroids per dense layer (omit: keep fp32 values), or conv=8,dense=5 / per layer', bitsArg)
    .option('--conv-bits <b>', 'bits per conv layer', num('--conv-bits', { int: true, min: 1, max: 8 }), D.convBits)
    .addOption(new Option('--share-init <method>', 'centroid initialisation').choices([...INIT_METHODS]).default(D.shareInit))
    .option(
      '--fine-tune-steps <n>',
      "centroid fine-tuning steps on the checkpoint's training data (default 100; after --qat-steps 0)",
      num('--fine-tune-steps', { int: true, min: 0 }),
    )
    .option('--fine-tune-lr <x>', "learning rate of the centroid fine-tuning (default: the checkpoint's lr / 10)", num('--fine-tune-lr', { min: 0 }))
    .option(
      '--fine-tune-dense-lr <x>',
      'during centroid fine-tuning, also train the fp32 parameters (biases, norms, unshared layers) at this lr (default 0: frozen)',
      num('--fine-tune-dense-lr', { min: 0 }),
    )
    .option(
      '--qat-steps <n>',
      "instead of k-means sharing + centroid fine-tuning: this many quantisation-aware training steps at --bits (every parameter trains, the checkpoint's optimizer, cosine from --qat-lr)",
      num('--qat-steps', { int: true, min: 1 }),
    )
    .option('--qat-lr <x>', "learning rate of the --qat-steps (default: the checkpoint's lr / 10)", num('--qat-lr', { min: 0, minExclusive: true }))
    .option(
      '--qat-stages <groups>',
      "staged QAT: groups of layer-name prefixes, e.g. 'wte,wpe;h0;h1': stage i quantises the layers of groups 1..i (the rest last), --qat-steps each, fresh moments and cosine each",
      (v: string) => v,
    )
    .addOption(qat.refitEvery)
    .addOption(qat.centroidLr)
    .addOption(qat.dampen)
    .addOption(qat.iterations)
    .option('--json', 'print the report as JSON')
    .action(async (f: ExportTorchFlags & { format: 'slim' | 'torch' }) => {
      if (f.format === 'torch') return exportTorchCommand(f);
      if (!f.checkpoint || f.compressed)
        throw new Error('slimgpu export: --format slim needs --checkpoint <path> (--compressed is for --format torch)');
      const gpu = await createGpu();
      try {
        const r = await readCheckpoint(gpu, f.checkpoint);
        const cfg = sharingConfig(r.cfg, f);
        const data = await loadAnyData(cfg.data, {
          dataDir: cfg.dataDir,
          trainSize: cfg.trainSize,
          testSize: cfg.testSize,
          seed: cfg.seed,
          context: contextOf(cfg.model),
        });
        const { bytes, pruned } = await compressNetwork(r.net, cfg, data.train, data.test);
        const { writeFileAtomic } = await import('../io/files.js');
        await writeFileAtomic(f.out, [bytes]);
        const res = await evaluate(r.net, data.test);
        const report = await buildReport(r.net, cfg, res, undefined, gpu.info.description, fileBytesOf(bytes), pruned);
        if (f.json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(formatReport(report));
          console.log(`wrote ${f.out} (${bytes.length} bytes)`);
        }
        r.net.dispose();
      } finally {
        gpu.destroy();
      }
    });
}

export function buildCli(): Command {
  const program = new Command();
  program
    .name('slimgpu')
    .description('Train compressed neural networks on the GPU with WebGPU (Dawn in Node).')
    .showHelpAfterError('(run with --help for usage)')
    .option('--verbose', "show Dawn's start-up warnings (also: SLIMGPU_VERBOSE=1)")
    .hook('preAction', (cmd) => {
      if (cmd.opts().verbose) process.env.SLIMGPU_VERBOSE = '1';
    })
    .exitOverride();
  addInfoCommand(program);
  addTrainCommand(program);
  addEvalCommand(program);
  addExportCommand(program);
  addCodecCommands(program);
  addSampleCommand(program);
  addPredictCommand(program);
  addImportCommand(program);
  addImageCommand(program);
  addRecommendCommand(program);
  return program;
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(routeRecommend(argv));
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    console.error((e as Error).message);
    return 1;
  }
}
