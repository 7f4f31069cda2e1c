// slimgpu's codec against the usual compressors on one file, in one run:
//   node dist/bench/index.js compressors [FILE] [--bytes N] [--json] [--model gpt:L-D-H-T] [--no-two-part]
//     [--rows pretrained,double,cm,gpt+cm,gpt,two-part] [--small N] [--steps-per-chunk n] [--chunk n] [--streams n] [--lr x] [--train-steps n] [--no-decode]
// Codec 5 rows (bench/compressors-v5.ts): pretrained + CM (when a model is shipped), the order-2 test
// double + CM, the CM alone ('cm'); zpaq -m5; small files (--small N pieces of 1, 4, 16, 64 KB each, default 4).
// Rows: slimgpu prequential GPT+CM (the CM mixer with the GPT's table as an input), GPT alone (range
// coder), CM alone (--model none), slimgpu two-part (GPT+CM under the stored model), gzip -9 and brotli -11 (Node's zlib), bzip2 -9,
// xz -9e and zstd -19 --long (Debian's command-line tools). Every row is decompressed and compared
// with the original before its numbers count. Without FILE the text is the King James Bible as
// Debian's bible-kjv-text ships it (printed by bible-kjv's `bible` command), cached in the temp dir.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { createGpu } from '../src/gpu/device.js';
import type { GptCodecOptions } from '../src/codec/gpt.js';
import { compressWithGpt, decompressWithGpt } from '../src/codec/api.js';
import type { CompressorRow } from './compressor-row.js';
export type { CompressorRow } from './compressor-row.js';
import { formatSmall, smallRows, v5Row, zpaqRow, type SmallRow, type V5RowKind } from './compressors-v5.js';

export interface CompressorsReport {
  file: string;
  source: string;
  bytes: number;
  adapter: string;
  rows: CompressorRow[];
  twoPart?: Record<string, number>;
  small?: SmallRow[];
}

const USAGE = `usage: node dist/bench/index.js compressors [FILE] [--bytes N] [--json] [--model gpt:L-D-H-T] [--no-two-part] [--no-slimgpu]
  [--rows pretrained,double,cm,gpt+cm,gpt,two-part] [--small N (pieces per size; 0: none)] [--streams n] [--chunk n] [--steps-per-chunk n] [--lr x] [--optimizer adamw|sgd] [--train-steps n] [--sparsity s] [--bits b] [--no-decode]`;

/** The King James Bible from Debian's bible-kjv-text, as plain text (4.4 MB), cached. */
export function kjvText(): { path: string; source: string } {
  const path = join(tmpdir(), 'slimgpu-kjv.txt');
  const source = 'King James Bible, Debian package bible-kjv-text (printed by bible-kjv: bible -f -l 100000 Gen1:1-Rev22:21)';
  if (existsSync(path)) return { path, source };
  const r = spawnSync('bible', ['-f', '-l', '100000', 'Gen1:1-Rev22:21'], { maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0 || r.stdout.length < 1e6) {
    throw new Error(
      "compressors: no FILE given and the default text needs Debian's bible-kjv and bible-kjv-text (sudo bash scripts/setup-software-gpu.sh, or apt-get install bible-kjv)",
    );
  }
  writeFileSync(path, r.stdout);
  return { path, source };
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, (performance.now() - t0) / 1000];
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function cliRow(name: string, tool: string, cArgs: string[], dArgs: string[], text: Uint8Array): CompressorRow {
  const run = (args: string[], input: Uint8Array) => {
    const r = spawnSync(tool, args, { input, maxBuffer: 1 << 30 });
    if (r.error)
      throw new Error(
        `compressors: cannot run '${tool}' (${(r.error as NodeJS.ErrnoException).code}): install it with scripts/setup-software-gpu.sh`,
      );
    if (r.status !== 0) throw new Error(`compressors: ${tool} ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
    return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
  };
  const [packed, cs] = time(() => run(cArgs, text));
  const [back, ds] = time(() => run(dArgs, packed));
  if (!same(back, text)) throw new Error(`compressors: ${name} did not round-trip`);
  return {
    name,
    command: `${tool} ${cArgs.join(' ')}`,
    bytes: packed.length,
    bitsPerByte: (8 * packed.length) / text.length,
    compressSeconds: cs,
    decompressSeconds: ds,
  };
}

function zlibRows(text: Uint8Array): CompressorRow[] {
  const [gz, gcs] = time(() => gzipSync(text, { level: 9 }));
  const [gback, gds] = time(() => gunzipSync(gz));
  if (!same(gback, text)) throw new Error('compressors: gzip did not round-trip');
  const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: text.length };
  const [br, bcs] = time(() => brotliCompressSync(text, { params }));
  const [bback, bds] = time(() => brotliDecompressSync(br));
  if (!same(bback, text)) throw new Error('compressors: brotli did not round-trip');
  return [
    {
      name: 'gzip -9',
      command: 'zlib.gzipSync(level 9)',
      bytes: gz.length,
      bitsPerByte: (8 * gz.length) / text.length,
      compressSeconds: gcs,
      decompressSeconds: gds,
    },
    {
      name: 'brotli -11',
      command: 'zlib.brotliCompressSync(quality 11)',
      bytes: br.length,
      bitsPerByte: (8 * br.length) / text.length,
      compressSeconds: bcs,
      decompressSeconds: bds,
    },
  ];
}

type SlimRow = 'gpt+cm' | 'gpt' | 'two-part' | V5RowKind;
const SLIM_ROWS: SlimRow[] = ['pretrained', 'double', 'cm', 'gpt+cm', 'gpt', 'two-part'];
const V5_ROWS: SlimRow[] = ['pretrained', 'double', 'cm'];
interface Args {
  file?: string;
  bytes?: number;
  json: boolean;
  rows: SlimRow[];
  decode: boolean;
  small: number;
  opts: GptCodecOptions;
}

function parse(argv: string[]): Args {
  const a: Args = { json: false, rows: [...SLIM_ROWS], decode: true, small: 4, opts: {} };
  const tp: NonNullable<GptCodecOptions['twoPart']> = {};
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const v = (): string => {
      const s = argv[++i];
      if (s === undefined) throw new Error(`${x} needs a value\n${USAGE}`);
      return s;
    };
    const n = (): number => {
      const s = v(),
        k = Number(s);
      if (!Number.isFinite(k) || k < 0) throw new Error(`${x} must be a non-negative number, got '${s}'\n${USAGE}`);
      return k;
    };
    if (x === '--json') a.json = true;
    else if (x === '--no-two-part') a.rows = a.rows.filter((r) => r !== 'two-part');
    else if (x === '--no-slimgpu') a.rows = [];
    else if (x === '--rows') {
      a.rows = v().split(',').filter(Boolean) as SlimRow[];
      for (const r of a.rows) if (!SLIM_ROWS.includes(r)) throw new Error(`--rows: unknown row '${r}' (${SLIM_ROWS.join(', ')})\n${USAGE}`);
    } else if (x === '--no-decode') a.decode = false;
    else if (x === '--bytes') a.bytes = n();
    else if (x === '--small') a.small = n();
    else if (x === '--model') a.opts.model = v();
    else if (x === '--streams') a.opts.streams = n();
    else if (x === '--chunk') a.opts.chunkBytes = n();
    else if (x === '--steps-per-chunk') a.opts.stepsPerChunk = n();
    else if (x === '--lr') a.opts.lr = n();
    else if (x === '--optimizer') a.opts.optimizer = v() as GptCodecOptions['optimizer'];
    else if (x === '--seed') a.opts.seed = n();
    else if (x === '--train-steps') tp.trainSteps = n();
    else if (x === '--sparsity') tp.sparsity = n();
    else if (x === '--bits') tp.bits = n();
    else if (x === '--help' || x === '-h') throw new Error(USAGE);
    else if (!x.startsWith('-') && !a.file) a.file = x;
    else throw new Error(`unknown argument '${x}'\n${USAGE}`);
  }
  a.opts.twoPart = tp;
  return a;
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parse(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const picked = a.file ? { path: a.file, source: a.file } : kjvText();
  const path = picked.path;
  let text: Uint8Array = new Uint8Array(readFileSync(path));
  if (a.bytes !== undefined && a.bytes < text.length) text = text.subarray(0, a.bytes);
  const source = text.length < statSync(path).size ? `${picked.source}, its first ${text.length} bytes` : picked.source;
  const log = (s: string) => {
    if (!a.json) process.stderr.write(s);
  };
  log(`compressors: ${source}, ${text.length} bytes\n`);
  const rows: CompressorRow[] = [];
  let adapter = '-';
  let twoPart: Record<string, number> | undefined;
  for (const kind of a.rows.filter((r) => V5_ROWS.includes(r))) {
    const row = await v5Row(text, kind as V5RowKind, a.decode, log);
    if (row) rows.push(row);
  }
  const gpuRows = a.rows.filter((r) => !V5_ROWS.includes(r));
  if (gpuRows.length) {
    const gpu = await createGpu();
    adapter = gpu.info.description || gpu.info.device;
    try {
      for (const kind of gpuRows) {
        const label = {
          'gpt+cm': 'slimgpu prequential, GPT+CM (same-device only)',
          gpt: 'slimgpu prequential, GPT alone (same-device only)',
          'two-part': 'slimgpu two-part, GPT+CM (same-device only)',
        }[kind as 'gpt+cm' | 'gpt' | 'two-part'];
        const opts: GptCodecOptions = { ...a.opts, twoPart: kind === 'two-part' ? a.opts.twoPart : undefined, mixer: kind === 'gpt' ? 'none' : 'cm' };
        let last = 0;
        const onProgress = (p: { done: number; total: number; bits: number; seconds: number }) => {
          if (p.seconds - last < 30) return;
          last = p.seconds;
          log(
            `  ${label}: ${p.done}/${p.total} bytes, ${(p.bits / Math.max(p.done, 1)).toFixed(3)} bits/byte, ${(p.done / p.seconds).toFixed(0)} B/s\n`,
          );
        };
        const t0 = performance.now();
        const c = await compressWithGpt(gpu, text, opts, { onProgress, onLog: (s) => log(`  ${s}\n`) });
        const cs = (performance.now() - t0) / 1000;
        let ds: number | undefined;
        if (a.decode) {
          const t1 = performance.now();
          const back = await decompressWithGpt(gpu, c.bytes, { onProgress });
          ds = (performance.now() - t1) / 1000;
          if (!same(back.text, text)) throw new Error(`compressors: ${label} did not round-trip`);
        }
        const h = c.header,
          m = h.model as { model?: string };
        const flags = `${kind === 'two-part' ? '--two-part ' : ''}--model ${m.model} --mixer ${h.coding.mixer ?? 'none'} --streams ${h.coding.streams} --chunk ${h.coding.chunkBytes} --steps-per-chunk ${h.coding.stepsPerChunk}`;
        rows.push({
          name: label,
          command: `slimgpu compress ${flags}`,
          bytes: c.bytes.length,
          bitsPerByte: (8 * c.bytes.length) / text.length,
          compressSeconds: cs,
          decompressSeconds: ds,
          ...(c.modelBytes ? { modelBytes: c.modelBytes, modelShare: c.modelBytes / c.bytes.length } : {}),
          ...(kind === 'gpt+cm' || kind === 'two-part' ? { gptBitsPerByte: c.modelBits / Math.max(1, text.length) } : {}),
        });
        if (c.twoPart) twoPart = c.twoPart as unknown as Record<string, number>;
        log(
          `  ${label}: ${c.bytes.length} bytes in ${cs.toFixed(1)} s${ds !== undefined ? `, decoded in ${ds.toFixed(1)} s` : ' (not decoded: --no-decode)'}\n`,
        );
      }
    } finally {
      gpu.destroy();
    }
  }
  rows.push(...zlibRows(text));
  rows.push(cliRow('bzip2 -9', 'bzip2', ['-9', '-c'], ['-d', '-c'], text));
  rows.push(cliRow('xz -9e', 'xz', ['-9e', '-c', '-T1'], ['-d', '-c'], text));
  rows.push(cliRow('zstd -19 --long', 'zstd', ['-19', '--long', '-c', '-q'], ['-d', '--long', '-c', '-q'], text));
  rows.push(zpaqRow(text));
  const small = a.small > 0 ? await smallRows(text, a.rows.filter((r) => V5_ROWS.includes(r)) as V5RowKind[], a.small, log) : undefined;
  const report: CompressorsReport = {
    file: path,
    source,
    bytes: text.length,
    adapter,
    rows,
    ...(twoPart ? { twoPart } : {}),
    ...(small ? { small } : {}),
  };
  if (a.json) console.log(JSON.stringify(report, null, 1));
  else console.log(formatCompressors(report));
  return 0;
}

const speed = (bytes: number, s?: number) =>
  s === undefined ? '-' : bytes / s >= 1 << 20 ? `${(bytes / s / (1 << 20)).toFixed(1)} MiB/s` : `${(bytes / s / 1024).toFixed(1)} KiB/s`;

export function formatCompressors(r: CompressorsReport): string {
  const head = ['compressor', 'bytes', 'bits/byte', 'compress', 'decompress', 'model (share / adjusted)', 'model alone (same run, ideal)'];
  const body = r.rows.map((x) => [
    x.name,
    String(x.bytes),
    x.bitsPerByte.toFixed(3),
    speed(r.bytes, x.compressSeconds),
    speed(r.bytes, x.decompressSeconds),
    x.modelShare !== undefined ? `${x.modelBytes} B (${(100 * x.modelShare).toFixed(1)}%)` : (x.note ?? ''),
    x.gptBitsPerByte !== undefined ? x.gptBitsPerByte.toFixed(3) : '',
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j]!.length)));
  const line = (c: string[]) => c.map((s, j) => (j === 0 ? s.padEnd(w[j]!) : s.padStart(w[j]!))).join('  ');
  const lines = [`${r.source}: ${r.bytes} bytes; slimgpu on ${r.adapter}`, line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)];
  if (r.twoPart) {
    const t = r.twoPart;
    lines.push(
      '',
      `two-part: model ${t.denseModelBytes} B dense fp32 → ${t.modelBytes} B pruned (${(100 * t.sparsity).toFixed(0)}%) and shared (${t.bits} bits): ` +
        `${t.denseModelBytes - t.modelBytes} B off the model part; data ${t.denseBitsPerByte.toFixed(3)} → ${t.bitsPerByte.toFixed(3)} bits/byte under the compressed model (GPT alone), ` +
        `${t.codedBitsPerByte.toFixed(3)} as coded (with the CM mixer)`,
    );
  }
  if (r.small) lines.push(formatSmall(r.small));
  return lines.join('\n');
}
