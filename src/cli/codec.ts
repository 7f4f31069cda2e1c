// `slimgpu compress FILE -o FILE.slimz` and `slimgpu decompress FILE.slimz -o OUT`: lossless text
// compression with the GPT preset as the model (prequential by default, --two-part optional).
import { Command, InvalidArgumentError, Option } from 'commander';
import { OPTIMIZERS, type OptimizerKind } from '../nn/optimizer.js';
import { SingleBar, Presets } from 'cli-progress';
import { createGpu, type Gpu } from '../gpu/device.js';
import { readFileBytes, writeFileAtomic } from '../io/files.js';
import type { CodecProgress } from '../codec/model.js';
import { GPT_CODEC_DEFAULTS, type GptCodecOptions } from '../codec/gpt.js';
import { compressCmAlone, compressWithGpt, decompressCmAlone, decompressWithGpt, isCmAloneFile } from '../codec/api.js';
import { MIXERS, type Mixer } from '../codec/prequential.js';

function num(name: string, o: { int?: boolean; min?: number; max?: number; above?: number } = {}) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || (o.int && !Number.isInteger(x)) || (o.min !== undefined && x < o.min) ||
      (o.above !== undefined && x <= o.above) || (o.max !== undefined && x > o.max)) {
      const range = [o.min !== undefined ? `≥ ${o.min}` : '', o.above !== undefined ? `> ${o.above}` : '', o.max !== undefined ? `≤ ${o.max}` : ''].filter(Boolean).join(' and ');
      throw new InvalidArgumentError(`${name} must be ${o.int ? 'an integer' : 'a number'}${range ? ' ' + range : ''}, got '${v}'`);
    }
    return x;
  };
}

const kb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** A progress bar on a TTY (bytes done, bits per byte so far, speed), plain lines otherwise. */
function progress(verb: string, show: boolean, quiet: boolean): { update(p: CodecProgress): void; stop(): void } {
  const bar = new SingleBar({ format: `${verb} |{bar}| {done}/{all} | {bpb} bits/byte | {speed}/s | chunk {chunk}`, hideCursor: true }, Presets.shades_classic);
  let started = false, lastLine = 0;
  return {
    update(p) {
      const vals = { done: kb(p.done), all: kb(p.total), bpb: p.done ? (p.bits / p.done).toFixed(3) : '-', speed: kb(Math.round(p.done / Math.max(p.seconds, 1e-3))), chunk: `${p.chunk}/${p.chunks}` };
      if (show) {
        if (!started) { bar.start(Math.max(p.total, 1), 0, vals); started = true; }
        bar.update(p.done, vals);
      } else if (!quiet && (p.seconds - lastLine >= 10 || p.chunk === p.chunks)) {
        lastLine = p.seconds;
        console.error(`${verb}: ${vals.done}/${vals.all}  ${vals.bpb} bits/byte  ${vals.speed}/s  chunk ${vals.chunk}`);
      }
    },
    stop() { if (started) bar.stop(); started = false; },
  };
}

interface CompressFlags {
  output?: string; model: string; mixer: Mixer; streams?: number; chunk?: number; stepsPerChunk?: number; lr?: number; seed: number; optimizer: OptimizerKind;
  twoPart?: boolean; trainSteps?: number; sparsity?: number; bits?: number; progress: boolean; json?: boolean;
}

async function withGpu<T>(fn: (gpu: Gpu) => Promise<T>): Promise<T> {
  const gpu = await createGpu();
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
  }
}

async function compressCommand(file: string, f: CompressFlags): Promise<void> {
  const out = f.output ?? `${file}.slimz`;
  const text = await readFileBytes(file, 'input');
  const opts: GptCodecOptions = {
    model: f.model, mixer: f.mixer, seed: f.seed, streams: f.streams, chunkBytes: f.chunk, stepsPerChunk: f.stepsPerChunk, lr: f.lr, optimizer: f.optimizer,
    twoPart: f.twoPart ? { trainSteps: f.trainSteps, sparsity: f.sparsity, bits: f.bits } : undefined,
  };
  const bar = progress('compress', !f.json && f.progress && process.stderr.isTTY, !!f.json);
  const t0 = performance.now();
  const hooks = { onProgress: (p: CodecProgress) => bar.update(p), onLog: (s: string) => { if (!f.json) console.error(s); } };
  // --model none (the CM alone) runs on the CPU and never opens a GPU device
  const r = await (f.model === 'none' ? compressCmAlone(text, opts, hooks) : withGpu((gpu) => compressWithGpt(gpu, text, opts, hooks))).finally(() => bar.stop());
  await writeFileAtomic(out, [r.bytes]);
  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    input: file, output: out, mode: r.header.mode, bytes: text.length, compressedBytes: r.bytes.length,
    bitsPerByte: text.length ? (8 * r.bytes.length) / text.length : 0, codeBitsPerByte: text.length ? r.bits / text.length : 0,
    modelCodeBitsPerByte: text.length ? r.modelBits / text.length : 0,
    modelBytes: r.modelBytes ?? 0, seconds, bytesPerSecond: text.length / seconds, settings: r.header.model, coding: r.header.coding,
  };
  if (f.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(`${file}: ${text.length} → ${r.bytes.length} bytes (${summary.bitsPerByte.toFixed(3)} bits/byte${r.modelBytes ? `, model ${r.modelBytes} bytes` : ''}) in ${seconds.toFixed(1)} s (${kb(Math.round(summary.bytesPerSecond))}/s)`);
    console.log(`wrote ${out}`);
  }
}

async function decompressCommand(file: string, f: { output?: string; progress: boolean; json?: boolean }): Promise<void> {
  const out = f.output ?? (file.endsWith('.slimz') ? file.slice(0, -6) : `${file}.out`);
  const bytes = await readFileBytes(file, '.slimz file');
  const bar = progress('decompress', !f.json && f.progress && process.stderr.isTTY, !!f.json);
  const t0 = performance.now();
  const hooks = { onProgress: (p: CodecProgress) => bar.update(p) };
  const { text, header } = await (isCmAloneFile(bytes) ? decompressCmAlone(bytes, hooks) : withGpu((gpu) => decompressWithGpt(gpu, bytes, hooks))).finally(() => bar.stop());
  // only a fully verified text reaches the disk, and atomically
  await writeFileAtomic(out, [text]);
  const seconds = (performance.now() - t0) / 1000;
  if (f.json) console.log(JSON.stringify({ input: file, output: out, mode: header.mode, bytes: text.length, compressedBytes: bytes.length, seconds, bytesPerSecond: text.length / seconds }, null, 2));
  else console.log(`${file}: ${bytes.length} → ${text.length} bytes in ${seconds.toFixed(1)} s, verified (CRC-32 per chunk and of the whole); wrote ${out}`);
}

export function addCodecCommands(program: Command): void {
  const d = GPT_CODEC_DEFAULTS;
  program
    .command('compress')
    .description('lossless compression of any file with a byte-level GPT that learns as it codes (prequential), or --two-part')
    .argument('<file>', 'the file to compress')
    .option('-o, --output <file>', 'the .slimz file to write (default FILE.slimz)')
    .option('--model <preset>', 'gpt:L-D-H-T preset (layers, width, heads, context), or none (the CM alone)', d.model)
    .addOption(new Option('--mixer <kind>', 'cm: a context-mixing model codes each byte with the GPT\'s prediction as one input; none: the range coder under the GPT alone').choices([...MIXERS]).default(d.mixer))
    .option('--streams <n>', 'parallel streams = windows per forward pass (default: by file size, ≤ 16)', num('--streams', { int: true, min: 1, max: 4096 }))
    .option('--chunk <bytes>', `bytes per stream between training rounds (default ${d.chunkBytes}; a multiple of T/2)`, num('--chunk', { int: true, min: 1 }))
    .option('--steps-per-chunk <n>', `training steps (of one window per stream) after each chunk (default ${d.stepsPerChunk}; 0 = never train)`, num('--steps-per-chunk', { int: true, min: 0 }))
    .option('--lr <x>', `AdamW learning rate (default ${d.lr})`, num('--lr', { above: 0 }))
    .addOption(new Option('--optimizer <kind>', 'optimizer of the training steps').choices([...OPTIMIZERS]).default(d.optimizer))
    .option('--seed <n>', 'initialisation and sampling seed', num('--seed', { int: true, min: 0 }), 0)
    .option('--two-part', 'train first, prune and share, store the compressed model in the file, then code the text under it')
    .option('--train-steps <n>', `two-part: training steps (default ${d.twoPart.trainSteps})`, num('--train-steps', { int: true, min: 0 }))
    .option('--sparsity <s>', `two-part: pruned fraction of each matrix (default ${d.twoPart.sparsity})`, num('--sparsity', { min: 0, max: 0.99 }))
    .option('--bits <b>', `two-part: weight-sharing bits (default ${d.twoPart.bits})`, num('--bits', { int: true, min: 1, max: 8 }))
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print a JSON summary on stdout')
    .action(compressCommand);

  program
    .command('decompress')
    .description('decompress a .slimz file, verifying every chunk (needs the same kind of adapter that compressed it)')
    .argument('<file>', 'the .slimz file')
    .option('-o, --output <file>', 'the file to write (default: FILE without .slimz); written only after every check passed')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print a JSON summary on stdout')
    .action(decompressCommand);
}
