// `slimgpu compress [FILE]` and `slimgpu decompress [FILE]`, gzip/zstd style (docs/codec-v5.md): a
// file or stdin in, a file (atomic) or stdout out; --model pretrained (the default: the shipped
// integer model mixed into the CM, portable), none (the CM alone, CPU only, never loads WebGPU), or
// gpt:L-D-H-T (the prequential GPU GPT: decodes only on the same kind of adapter).
import { Command, InvalidArgumentError, Option } from 'commander';
import { OPTIMIZERS, type OptimizerKind } from '../nn/optimizer.js';
import { SingleBar, Presets } from 'cli-progress';
import { createGpu, type Gpu } from '../gpu/device.js';
import { codecFail } from '../codec/errors.js';
import { loadPredictorById, loadShippedPredictor } from '../codec/pretrained/index.js';
import type { BytePredictor } from '../codec/predictor.js';
import { decodeStream, encodeStream, isV5, type V5Header, type V5Stats } from '../codec/v5/index.js';
import { shippedResolver } from '../codec/v5/shipped.js';
import { installPrimeCache } from '../codec/v5/prime-cache.js';
import { compressInteractions, decompressInteractions, isSlimrFile } from './interactions.js';
import { CliError, checkOutput, openInput, peek, readAll, removeInput, writeOutput, type Input, type Output } from './codec-io.js';
import type { CodecProgress } from '../codec/model.js';
import { GPT_CODEC_DEFAULTS, type GptCodecOptions } from '../codec/gpt.js';
import { compressWithGpt, decompressCmAlone, decompressWithGpt, isCmAloneFile } from '../codec/api.js';
import { MIXERS, type Mixer } from '../codec/prequential.js';

function num(name: string, o: { int?: boolean; min?: number; max?: number; above?: number } = {}) {
  return (v: string): number => {
    const x = Number(v);
    if (
      v.trim() === '' ||
      !Number.isFinite(x) ||
      (o.int && !Number.isInteger(x)) ||
      (o.min !== undefined && x < o.min) ||
      (o.above !== undefined && x <= o.above) ||
      (o.max !== undefined && x > o.max)
    ) {
      const range = [o.min !== undefined ? `≥ ${o.min}` : '', o.above !== undefined ? `> ${o.above}` : '', o.max !== undefined ? `≤ ${o.max}` : '']
        .filter(Boolean)
        .join(' and ');
      throw new InvalidArgumentError(`${name} must be ${o.int ? 'an integer' : 'a number'}${range ? ' ' + range : ''}, got '${v}'`);
    }
    return x;
  };
}

const kb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/**
 * The model `slimgpu compress` uses without --model: 'auto' is the newest shipped pretrained model
 * (SHIPPED_MODELS[0]) for every input size: portable, and on held-out English smaller than the CM
 * alone at every size (docs/pretrained.md). Since its CPU path runs WebAssembly SIMD (about 31 KB/s
 * of CPU time on 1 MB, one stream) it no longer falls back to the CM alone above 64 KB.
 */
export const DEFAULT_CODEC_MODEL = 'auto';

/** Resolves --model auto. */
function resolveAuto(input: Input, model: string): { input: Input; model: string } {
  return { input, model: model === 'auto' ? 'pretrained' : model };
}

/** A progress bar on a terminal (bytes done, bits per byte so far, speed); nothing in a pipe. */
function progress(verb: string, show: boolean, total?: number): { update(p: CodecProgress): void; stop(): void } {
  const bar = new SingleBar(
    { format: `${verb} |{bar}| {done}/{all} | {bpb} bits/byte | {speed}/s | chunk {chunk}`, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      if (!show) return;
      const all = Math.max(total ?? p.total, p.done, 1);
      const vals = {
        done: kb(p.done),
        all: kb(all),
        bpb: p.done ? (p.bits / p.done).toFixed(3) : '-',
        speed: kb(Math.round(p.done / Math.max(p.seconds, 1e-3))),
        chunk: `${p.chunk}/${p.chunks}`,
      };
      if (!started) {
        bar.start(all, 0, vals);
        started = true;
      }
      bar.update(p.done, vals);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

interface CommonFlags {
  output?: string;
  stdout?: boolean;
  keep?: boolean;
  rm?: boolean;
  force?: boolean;
  quiet?: boolean;
  gpu?: boolean;
  progress: boolean;
  json?: boolean;
}
interface CompressFlags extends CommonFlags {
  decompress?: boolean;
  model: string;
  mixer: Mixer;
  streams?: number;
  chunk?: number;
  stepsPerChunk?: number;
  lr?: number;
  seed: number;
  optimizer: OptimizerKind;
  twoPart?: boolean;
  trainSteps?: number;
  sparsity?: number;
  bits?: number;
}

async function withGpu<T>(fn: (gpu: Gpu) => Promise<T>): Promise<T> {
  const gpu = await createGpu();
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
  }
}

/** stdout when asked (-c, -o -), or when the input is stdin and no -o is given. */
function outputOf(input: Input, f: CommonFlags, byDefault: (path: string) => string): Output {
  if (f.stdout || f.output === '-') return '-';
  if (f.output !== undefined) return f.output;
  return input.path === '-' ? '-' : byDefault(input.path);
}

/** Messages go to stderr; the JSON summary to stdout unless the data went there. */
function report(out: Output, f: CommonFlags, summary: Record<string, unknown>, line: string): void {
  if (f.json) (out === '-' ? console.error : console.log)(JSON.stringify(summary, null, 2));
  else if (!f.quiet) console.error(line);
}

const showBar = (f: CommonFlags) => !f.json && !f.quiet && f.progress && !!process.stderr.isTTY;

/** The predictor --model names: pretrained (the shipped default) or pretrained:<id>. */
async function predictorOf(model: string, gpu: Gpu | null): Promise<BytePredictor> {
  if (model === 'pretrained') return loadShippedPredictor({ gpu });
  const id = model.slice('pretrained:'.length);
  if (!/^[0-9a-f]{32}$/.test(id)) codecFail(`--model ${model}: a pretrained model is named by its 32-hex-digit id (pretrained:<id>)`);
  return loadPredictorById(id, { gpu });
}

async function compressV5(input: Input, out: Output, f: CompressFlags): Promise<void> {
  const gpu = f.model !== 'none' && f.gpu ? await createGpu() : null;
  try {
    const predictor = f.model === 'none' ? null : await predictorOf(f.model, gpu);
    const bar = progress('compress', showBar(f), input.size);
    const stats: V5Stats = { inBytes: 0, bits: 0, modelBits: 0, outBytes: 0 };
    const t0 = performance.now();
    let records = 0;
    const onProgress = (p: CodecProgress) => {
      records = p.chunk;
      bar.update(p);
    };
    await writeOutput(out, encodeStream(input.pieces, predictor, { streams: f.streams, onProgress }, stats)).finally(() => bar.stop());
    const seconds = (performance.now() - t0) / 1000,
      n = stats.inBytes,
      h = stats.header!;
    const modelName = predictor ? `${predictor.name} (${predictor.id.slice(0, 16)}…)` : 'none (CM alone)';
    report(
      out,
      f,
      {
        input: input.name,
        output: out === '-' ? 'stdout' : out,
        mode: h.kind,
        model: predictor ? predictor.id : 'none',
        bytes: n,
        compressedBytes: stats.outBytes,
        bitsPerByte: n ? (8 * stats.outBytes) / n : 0,
        codeBitsPerByte: n ? stats.bits / n : 0,
        modelCodeBitsPerByte: n ? stats.modelBits / n : 0,
        seconds,
        bytesPerSecond: n / seconds,
        coding: { framing: h.records ? 'records' : 'single', streams: h.streams, records: Math.max(1, records) },
      },
      `${input.name}: ${n} → ${stats.outBytes} bytes (${n ? ((8 * stats.outBytes) / n).toFixed(3) : '-'} bits/byte) with ${modelName} in ${seconds.toFixed(1)} s; wrote ${out === '-' ? 'stdout' : out}`,
    );
  } finally {
    gpu?.destroy();
  }
}

/** The prequential GPU GPT (and two-part): the whole input in memory, as codec 4 did. */
async function compressGpt(input: Input, out: Output, f: CompressFlags): Promise<void> {
  const text = await readAll(input.pieces);
  const opts: GptCodecOptions = {
    model: f.model,
    mixer: f.mixer,
    seed: f.seed,
    streams: f.streams,
    chunkBytes: f.chunk,
    stepsPerChunk: f.stepsPerChunk,
    lr: f.lr,
    optimizer: f.optimizer,
    twoPart: f.twoPart ? { trainSteps: f.trainSteps, sparsity: f.sparsity, bits: f.bits } : undefined,
  };
  if (!f.quiet && !f.json)
    console.error(
      'slimgpu compress: prequential GPU mode — the file decodes only on the same kind of adapter and driver that wrote it (not portable; the default --model pretrained is)',
    );
  const bar = progress('compress', showBar(f));
  const t0 = performance.now();
  const hooks = {
    onProgress: (p: CodecProgress) => bar.update(p),
    onLog: (s: string) => {
      if (!f.json && !f.quiet) console.error(s);
    },
  };
  const r = await withGpu((gpu) => compressWithGpt(gpu, text, opts, hooks)).finally(() => bar.stop());
  await writeOutput(out, [r.bytes]);
  const seconds = (performance.now() - t0) / 1000;
  report(
    out,
    f,
    {
      input: input.name,
      output: out === '-' ? 'stdout' : out,
      mode: r.header.mode,
      bytes: text.length,
      compressedBytes: r.bytes.length,
      bitsPerByte: text.length ? (8 * r.bytes.length) / text.length : 0,
      codeBitsPerByte: text.length ? r.bits / text.length : 0,
      modelCodeBitsPerByte: text.length ? r.modelBits / text.length : 0,
      modelBytes: r.modelBytes ?? 0,
      seconds,
      bytesPerSecond: text.length / seconds,
      settings: r.header.model,
      coding: r.header.coding,
    },
    `${input.name}: ${text.length} → ${r.bytes.length} bytes (${text.length ? ((8 * r.bytes.length) / text.length).toFixed(3) : '-'} bits/byte${r.modelBytes ? `, model ${r.modelBytes} bytes` : ''}) in ${seconds.toFixed(1)} s; wrote ${out === '-' ? 'stdout' : out}`,
  );
}

async function compressCommand(file: string | undefined, f: CompressFlags & { interactions?: string }): Promise<void> {
  if (f.decompress) return decompressCommand(file, f);
  if (f.interactions !== undefined) return compressInteractions(f); // src/cli/interactions.ts (issue 21)
  if (f.keep && f.rm) throw new CliError('slimgpu: --keep and --rm contradict each other');
  const gpt = f.model.startsWith('gpt:');
  if (!gpt && !['auto', 'none', 'pretrained'].includes(f.model) && !f.model.startsWith('pretrained:')) {
    throw new CliError(`slimgpu: --model must be auto, pretrained, pretrained:<id>, none or gpt:L-D-H-T, got '${f.model}'`);
  }
  const opened = await openInput(file, 'input');
  const out = outputOf(opened, f, (p) => `${p}.slimz`);
  checkOutput(out, { force: f.force, binary: true, input: opened });
  const { input, model } = resolveAuto(opened, f.model);
  f = { ...f, model };
  if (!gpt && (f.twoPart || f.mixer !== GPT_CODEC_DEFAULTS.mixer)) throw new CliError('slimgpu: --two-part and --mixer apply to --model gpt:… only');
  await (gpt ? compressGpt(input, out, f) : compressV5(input, out, f));
  if (f.rm) await removeInput(input);
}

async function decompressCommand(file: string | undefined, f: CommonFlags): Promise<void> {
  if (await isSlimrFile(file)) return decompressInteractions(file!, f);
  if (f.keep && f.rm) throw new CliError('slimgpu: --keep and --rm contradict each other');
  const input = await openInput(file, '.slimz file');
  const out = outputOf(input, f, (p) => (p.endsWith('.slimz') ? p.slice(0, -6) : `${p}.out`));
  checkOutput(out, { force: f.force, binary: false, input });
  const bar = progress('decompress', showBar(f), undefined);
  const t0 = performance.now();
  const { head, all } = await peek(input.pieces, 8);
  let n = 0,
    mode = '';
  let gpu: Gpu | null = null;
  try {
    if (isV5(head)) {
      let resolver: ((id: string) => Promise<BytePredictor>) | undefined;
      const resolve = async (id: string) => {
        if (!resolver) {
          gpu = f.gpu ? await createGpu() : null;
          resolver = shippedResolver({ gpu });
        }
        return resolver(id);
      };
      n = await writeOutput(
        out,
        decodeStream(all, resolve, {
          onProgress: (p) => bar.update(p),
          onHeader: (h: V5Header) => {
            mode = h.kind;
          },
        }),
      ).finally(() => bar.stop());
    } else {
      const bytes = await readAll(all);
      const hooks = { onProgress: (p: CodecProgress) => bar.update(p) };
      const { text, header } = await (
        isCmAloneFile(bytes) ? decompressCmAlone(bytes, hooks) : withGpu((g) => decompressWithGpt(g, bytes, hooks))
      ).finally(() => bar.stop());
      // only a fully verified text reaches the output
      n = await writeOutput(out, [text]);
      mode = header.mode;
    }
  } finally {
    (gpu as Gpu | null)?.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  report(
    out,
    f,
    { input: input.name, output: out === '-' ? 'stdout' : out, mode, bytes: n, compressedBytes: input.size, seconds, bytesPerSecond: n / seconds },
    `${input.name}: → ${n} bytes in ${seconds.toFixed(1)} s, verified (CRC-32s); wrote ${out === '-' ? 'stdout' : out}`,
  );
  if (f.rm) await removeInput(input);
}

/** The gzip/zstd-style flags both commands share. */
function ioFlags(c: Command): Command {
  return c
    .option('-o, --output <file>', "the file to write ('-': stdout); written atomically, only after every check passed")
    .option('-c, --stdout', 'write to stdout (the default when the input is stdin)')
    .option('-k, --keep', 'keep the input file (the default, as zstd; accepted for gzip habits)')
    .option('--rm', "remove the input file after the output was written and verified (gzip's default)")
    .option('-f, --force', 'overwrite an existing output file; write compressed data to a terminal')
    .option('-q, --quiet', 'no messages (errors still go to stderr, and the exit status says)')
    .option('--gpu', 'run the pretrained model on the GPU (its WGSL integer path: the same bits as the CPU path)')
    .option('--no-progress', 'no progress bar (there is none in a pipe anyway)')
    .option('--json', 'print a JSON summary (on stdout, or on stderr when the data goes to stdout)');
}

export function addCodecCommands(program: Command): void {
  installPrimeCache(); // primed states from the on-disk cache (docs/cli.md, SLIMGPU_CACHE_DIR)
  const d = GPT_CODEC_DEFAULTS;
  ioFlags(
    program
      .command('compress')
      .description(
        'lossless compression, like gzip/zstd: FILE (or stdin: - or nothing) to FILE.slimz (or stdout); --model auto (default), pretrained, none, or gpt:… (same-device only)',
      )
      .argument('[file]', "the file to compress ('-' or none: stdin)"),
  )
    .option('-d, --decompress', 'decompress instead (as `slimgpu decompress`)')
    .option('--interactions <log>', 'code an interaction log (CSV, debian-deps, movielens:DIR) to .slimr under --model DIR (rec:dae) or none')
    .option(
      '--model <model>',
      `auto (default: the newest shipped pretrained model), pretrained (the shipped integer model + CM: portable), pretrained:<id>, none (the CM alone, CPU only), or gpt:L-D-H-T (the prequential GPU GPT + CM: decodes ONLY on the same kind of adapter and driver)`,
      DEFAULT_CODEC_MODEL,
    )
    .addOption(
      new Option(
        '--mixer <kind>',
        "gpt:… only — cm: a context-mixing model codes each byte with the GPT's prediction as one input; none: the range coder under the GPT alone",
      )
        .choices([...MIXERS])
        .default(d.mixer),
    )
    .option(
      '--streams <n>',
      'parallel streams (pretrained/none: a power of two, default by size; gpt: windows per forward pass, default by size ≤ 16)',
      num('--streams', { int: true, min: 1, max: 4096 }),
    )
    .option(
      '--chunk <bytes>',
      `gpt: bytes per stream between training rounds (default ${d.chunkBytes}; a multiple of T/2)`,
      num('--chunk', { int: true, min: 1 }),
    )
    .option(
      '--steps-per-chunk <n>',
      `gpt: training steps (of one window per stream) after each chunk (default ${d.stepsPerChunk}; 0 = never train)`,
      num('--steps-per-chunk', { int: true, min: 0 }),
    )
    .option('--lr <x>', `gpt: AdamW learning rate (default ${d.lr})`, num('--lr', { above: 0 }))
    .addOption(new Option('--optimizer <kind>', 'gpt: optimizer of the training steps').choices([...OPTIMIZERS]).default(d.optimizer))
    .option('--seed <n>', 'gpt: initialisation and sampling seed', num('--seed', { int: true, min: 0 }), 0)
    .option('--two-part', 'gpt: train first, prune and share, store the compressed model in the file, then code the text under it')
    .option('--train-steps <n>', `two-part: training steps (default ${d.twoPart.trainSteps})`, num('--train-steps', { int: true, min: 0 }))
    .option('--sparsity <s>', `two-part: pruned fraction of each matrix (default ${d.twoPart.sparsity})`, num('--sparsity', { min: 0, max: 0.99 }))
    .option('--bits <b>', `two-part: weight-sharing bits (default ${d.twoPart.bits})`, num('--bits', { int: true, min: 1, max: 8 }))
    .action(compressCommand);

  ioFlags(
    program
      .command('decompress')
      .description(
        'decompress a .slimz file (or stdin) to FILE without .slimz (or stdout), verifying every record; prequential gpt:… files need the same kind of adapter that wrote them',
      )
      .argument('[file]', "the .slimz file ('-' or none: stdin)"),
  ).action(decompressCommand);
}
