// slimgpu train: the options (addTrainCommand) and the run (trainCommand).
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createGpu } from '../gpu/device.js';
import { DATA_SOURCES, formatReport, runTraining, type RunConfig } from '../run/run.js';
import { OPTIMIZERS, type OptimizerKind } from '../nn/optimizer.js';
import { defaultLr, PRESETS } from '../nn/model.js';
import { INIT_METHODS, type InitMethod } from '../compress/sharing.js';
import { RUN_DEFAULTS as D } from '../run/run.js';
import { type PerLayer } from '../nn/targets.js';
import { parseFault } from '../nn/faults.js';
import { NAME_SCHEMES, type NameScheme } from '../io/torch.js';
import { num, sparsityArg, bitsArg, qatBitsArg, qatTuningOptions } from './args.js';

interface TrainFlags {
  model: string;
  data: string;
  dataDir?: string;
  epochs: number;
  batch: number;
  lr?: number;
  momentum: number;
  l2: number;
  sparsity: PerLayer;
  schedule: 'constant' | 'polynomial';
  pruning: 'layer' | 'global';
  pruneBegin?: number;
  pruneEnd?: number;
  pruneFrequency?: number;
  lrSchedule: 'constant' | 'step' | 'cosine';
  seed: number;
  out?: string;
  resume?: string;
  json?: boolean;
  maxSteps?: number;
  logEvery?: number;
  trainSize?: number;
  testSize?: number;
  progress: boolean;
  bits?: PerLayer;
  convBits?: number;
  shareInit?: InitMethod;
  fineTuneSteps?: number;
  fineTuneLr?: number;
  fineTuneDenseLr?: number;
  checkpointEvery?: number;
  init?: string;
  names: NameScheme;
  optimizer?: OptimizerKind;
  beta1: number;
  beta2: number;
  weightDecay: number;
  clip: number;
  warmup: number;
  qatBits?: PerLayer;
  qatBegin?: number;
  qatRefitEvery?: number;
  qatCentroidLr?: number;
  qatDampen?: number;
  qatIterations?: number;
}

/** The run's configuration from the flags (a new run: every flag, its default included). */
function configOf(f: TrainFlags): RunConfig {
  return {
    model: f.model,
    data: f.data,
    dataDir: f.dataDir,
    epochs: f.epochs,
    batch: f.batch,
    lr: f.lr ?? defaultLr(f.model),
    momentum: f.momentum,
    l2: f.l2,
    sparsity: f.sparsity.default ?? 0,
    layerSparsity: Object.keys(f.sparsity.layers).length ? f.sparsity.layers : undefined,
    schedule: f.schedule,
    pruning: f.pruning,
    pruneBegin: f.pruneBegin,
    pruneEnd: f.pruneEnd,
    pruneFrequency: f.pruneFrequency,
    lrSchedule: f.lrSchedule,
    seed: f.seed,
    out: f.out,
    maxSteps: f.maxSteps,
    logEvery: f.logEvery,
    trainSize: f.trainSize,
    testSize: f.testSize,
    bits: f.bits?.default,
    layerBits: f.bits && Object.keys(f.bits.layers).length ? f.bits.layers : undefined,
    convBits: f.convBits,
    shareInit: f.shareInit,
    fineTuneSteps: f.fineTuneSteps,
    fineTuneLr: f.fineTuneLr,
    fineTuneDenseLr: f.fineTuneDenseLr,
    checkpointEvery: f.checkpointEvery,
    qatBits: f.qatBits?.default,
    qatLayerBits: f.qatBits && Object.keys(f.qatBits.layers).length ? f.qatBits.layers : undefined,
    qatBegin: f.qatBegin,
    qatRefitEvery: f.qatRefitEvery,
    qatCentroidLr: f.qatCentroidLr,
    qatDampen: f.qatDampen,
    qatIterations: f.qatIterations,
    optimizer: f.optimizer ?? (f.model.startsWith('gpt:') ? 'adamw' : 'sgd'),
    beta1: f.beta1,
    beta2: f.beta2,
    weightDecay: f.weightDecay,
    clip: f.clip,
    warmup: f.warmup,
    ...(f.init ? { init: f.init, initNames: f.names } : {}),
  };
}

async function trainCommand(f: TrainFlags, cmd: Command): Promise<void> {
  let cfg: RunConfig = configOf(f);
  if (f.init && f.resume)
    throw new Error('slimgpu train: --init starts a new run from a state_dict, --resume continues a checkpoint; give one of them');
  const fault = parseFault(process.env.SLIMGPU_FAULT);
  if (f.resume) {
    // resuming: only the flags given on the command line override the checkpoint's configuration
    const flagOf: Record<string, string> = {
      dataDir: 'dataDir',
      trainSize: 'trainSize',
      testSize: 'testSize',
      layerSparsity: 'sparsity',
      layerBits: 'bits',
      weightDecay: 'weightDecay',
      qatLayerBits: 'qatBits',
    };
    cfg = Object.fromEntries(Object.entries(cfg).filter(([k]) => cmd.getOptionValueSource(flagOf[k] ?? k) === 'cli')) as unknown as RunConfig;
  }
  const gpu = await createGpu();
  const showBar = !f.json && f.progress && process.stderr.isTTY;
  const bar = new SingleBar(
    {
      format: `train |{bar}| {value}/{total} steps | loss {loss} | ${f.model.startsWith('gpt:') ? 'bits/byte' : 'acc'} {acc} | {sps} ${f.model.startsWith('gpt:') ? 'tokens' : 'samples'}/s | sparsity {sp}`,
      hideCursor: true,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  let started = false;
  try {
    const { report, net } = await runTraining(
      gpu,
      cfg,
      {
        fault,
        onStart: ({ totalSteps, startStep, params }) => {
          if (!f.json)
            console.error(
              `slimgpu: training ${cfg.model} (${params} parameters) on ${cfg.data} for ${totalSteps - startStep} steps on ${gpu.info.description || gpu.info.device}`,
            );
          if (showBar) {
            bar.start(totalSteps, startStep, { loss: '-', acc: '-', sps: '-', sp: '0%' });
            started = true;
          }
        },
        onLog: (e) => {
          const acc = e.bitsPerByte !== undefined ? e.bitsPerByte.toFixed(3) : e.accuracy !== undefined ? `${(100 * e.accuracy).toFixed(1)}%` : '-';
          if (showBar) bar.update(e.step, { loss: e.loss.toFixed(4), acc, sps: e.samplesPerSec.toFixed(0), sp: `${(100 * e.sparsity).toFixed(1)}%` });
          else if (!f.json)
            console.error(
              `step ${e.step}  loss ${e.loss.toFixed(4)}  ${e.bitsPerByte !== undefined ? 'bits/byte' : 'acc'} ${acc}  ${e.samplesPerSec.toFixed(0)} ${e.bitsPerByte !== undefined ? 'tokens' : 'samples'}/s  lr ${e.lr.toPrecision(3)}  sparsity ${(100 * e.sparsity).toFixed(1)}%`,
            );
        },
      },
      f.resume,
    );
    if (started) bar.stop();
    if (f.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(formatReport(report));
      if (cfg.out) console.log(`wrote ${cfg.out}/report.json, ${cfg.out}/checkpoint.safetensors and ${cfg.out}/model.slim.safetensors`);
    }
    net.dispose();
  } finally {
    if (started) bar.stop();
    gpu.destroy();
  }
}

/** The train command's model, data and optimizer options. */
function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <name>', `model: ${PRESETS.join(', ')} (mlp:/autoencoder: take any sizes)`, D.model)
    .option('--data <source>', `data: ${DATA_SOURCES.join(', ')}`, D.data)
    .option('--data-dir <dir>', 'folder of IDX files for --data mnist / fashion-mnist')
    .option('--epochs <n>', 'epochs', num('--epochs', { int: true, min: 1 }), D.epochs)
    .option('--batch <n>', 'batch size', num('--batch', { int: true, min: 1 }), D.batch)
    .option(
      '--lr <x>',
      'learning rate (default per model: 0.1; lenet-5 0.01; autoencoder 20, its MSE is a per-value mean)',
      num('--lr', { min: 0, minExclusive: true }),
    )
    .addOption(new Option('--optimizer <kind>', 'sgd (momentum + L2) or adamw (default: adamw for gpt:, sgd otherwise)').choices([...OPTIMIZERS]))
    .option('--momentum <x>', 'SGD momentum', num('--momentum', { min: 0, max: 0.999999 }), D.momentum)
    .option('--l2 <x>', 'SGD: L2 regularisation λ (weights only, not biases)', num('--l2', { min: 0 }), D.l2)
    .option('--beta1 <x>', 'AdamW β1', num('--beta1', { min: 0, max: 0.999999 }), D.beta1)
    .option('--beta2 <x>', 'AdamW β2', num('--beta2', { min: 0, max: 0.999999 }), D.beta2)
    .option(
      '--weight-decay <x>',
      'AdamW decoupled weight decay (matrices only, not biases or norms)',
      num('--weight-decay', { min: 0 }),
      D.weightDecay,
    )
    .option('--clip <x>', 'clip gradients to this global L2 norm (0: off)', num('--clip', { min: 0 }), D.clip)
    .option('--warmup <steps>', 'linear learning-rate warm-up steps', num('--warmup', { int: true, min: 0 }), D.warmup);
}

/** The train command's pruning, schedule and data-size options. */
function addPruningOptions(cmd: Command): Command {
  return cmd
    .option(
      '--sparsity <s>',
      'target sparsity in [0, 1] (0 = dense), or per layer: conv1=0.34,conv2=0.88,dense1=0.92,dense2=0.81 (a bare number = the rest)',
      sparsityArg,
      { layers: {}, default: 0 },
    )
    .addOption(new Option('--schedule <kind>', 'sparsity schedule').choices(['constant', 'polynomial']).default(D.schedule))
    .addOption(new Option('--pruning <scope>', 'per-layer or global magnitude pruning').choices(['layer', 'global']).default(D.pruning))
    .option('--prune-begin <step>', 'first pruning step (default 10% of training)', num('--prune-begin', { int: true, min: 0 }))
    .option('--prune-end <step>', 'step at which the target sparsity is reached (default 66%)', num('--prune-end', { int: true, min: 0 }))
    .option('--prune-frequency <steps>', 'steps between mask refreshes', num('--prune-frequency', { int: true, min: 1 }))
    .addOption(new Option('--lr-schedule <kind>', 'learning-rate schedule').choices(['constant', 'step', 'cosine']).default(D.lrSchedule))
    .option('--seed <n>', 'random seed (initialisation and shuffling)', num('--seed', { int: true, min: 0 }), D.seed)
    .option('--max-steps <n>', 'stop after this many steps', num('--max-steps', { int: true, min: 1 }))
    .option('--log-every <n>', 'steps between loss readbacks', num('--log-every', { int: true, min: 1 }))
    .option('--train-size <n>', 'use only the first n training samples', num('--train-size', { int: true, min: 1 }))
    .option('--test-size <n>', 'use only the first n test samples', num('--test-size', { int: true, min: 1 }));
}

/** The train command's weight-sharing, fine-tuning and QAT options. */
function addSharingOptions(cmd: Command, qat: ReturnType<typeof qatTuningOptions>): Command {
  return cmd
    .option(
      '--bits <b>',
      'after training, share weights with 2^b centroids per dense layer (1..8), or per kind/layer: conv=8,dense=5 or dense1=6,dense2=5',
      bitsArg,
    )
    .option('--conv-bits <b>', 'bits per conv layer when sharing', num('--conv-bits', { int: true, min: 1, max: 8 }), D.convBits)
    .addOption(new Option('--share-init <method>', 'centroid initialisation').choices([...INIT_METHODS]).default(D.shareInit))
    .option(
      '--fine-tune-steps <n>',
      'centroid fine-tuning steps after sharing (default 100; after QAT 0)',
      num('--fine-tune-steps', { int: true, min: 0 }),
    )
    .option('--fine-tune-lr <x>', 'learning rate of the centroid fine-tuning (default: --lr / 10)', num('--fine-tune-lr', { min: 0 }))
    .option(
      '--fine-tune-dense-lr <x>',
      'during centroid fine-tuning, also train the fp32 parameters (biases, norms, unshared layers) at this lr with --optimizer (default 0: frozen)',
      num('--fine-tune-dense-lr', { min: 0 }),
    )
    .option(
      '--qat-bits <b>',
      'quantisation-aware training: from --qat-begin on, train through 2^b-value codebooks per dense layer (straight-through gradient to fp32 latent weights; conv layers: --conv-bits), or per kind/layer as --bits; the export writes these codebooks',
      qatBitsArg,
    )
    .option('--qat-begin <step>', 'first QAT step (default: --prune-end when pruning, else 0)', num('--qat-begin', { int: true, min: 0 }))
    .addOption(qat.refitEvery)
    .addOption(qat.centroidLr)
    .addOption(qat.dampen)
    .addOption(qat.iterations);
}

/** The train command's output, resume and initialisation options. */
function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--out <dir>', 'write checkpoint.safetensors, model.slim.safetensors and report.json here (e.g. runs/NAME)')
    .option('--resume <checkpoint>', 'continue the run saved in this checkpoint')
    .option('--init <file>', 'start from the weights of a safetensors state_dict (e.g. trained in PyTorch: python/train_torch.py)')
    .addOption(
      new Option('--names <scheme>', 'names and layouts in the --init file: torch (fc1.weight [out, in]) or slimgpu (dense1.weight [in, out])')
        .choices([...NAME_SCHEMES])
        .default('torch'),
    )
    .option(
      '--checkpoint-every <n>',
      'also write the checkpoint every n steps (besides each epoch end)',
      num('--checkpoint-every', { int: true, min: 1 }),
    )
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the report as JSON on stdout');
}

export function addTrainCommand(program: Command): void {
  const qat = qatTuningOptions(
    'steps between k-means re-fits of the QAT codebooks (3 Lloyd iterations on the latent weights; default 0: never — re-fits cost bits on the GPT, README)',
  );
  const cmd = program.command('train').description('train a (compressed) model and print its report');
  addOutputOptions(addSharingOptions(addPruningOptions(addModelOptions(cmd)), qat)).action(trainCommand);
}
