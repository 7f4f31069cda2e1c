// Measures the shipped pretrained byte model (issue 22) on held-out text: the CM coder's output with
// the model's tables mixed in vs CM alone, brotli -11 (Node zlib), xz -9e and zpaq -m5, for pieces of
// 1, 4, 16, 64 KB and 1 MB; the model alone in bits/byte; the speed of the CPU and GPU paths.
//   node dist/scripts/pretrained-eval.js [--gpu] [--quick] [--out results/pretrained-eval.json]
// Coder bytes are the BitEncoder's output for one stream (no container header: add its ≤ 24 bytes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as Z } from 'node:zlib';
import { BitEncoder, CmModel, encodeByte } from '../src/codec/cm/index.js';
import { codeBits } from '../src/codec/frequencies.js';
import { cumFromLogits, ByteMlpCpu, type ByteMlpModel } from '../src/codec/pretrained/bytemlp.js';
import { CpuBytePredictor } from '../src/codec/pretrained/cpu.js';
import { GpuBytePredictor } from '../src/codec/pretrained/gpu.js';
import { decodeByteMlp } from '../src/codec/pretrained/file.js';
import { SHIPPED_MODELS } from '../src/codec/pretrained/registry.js';
import { createGpu, type Gpu } from '../src/gpu/device.js';

const args = process.argv.slice(2);
const useGpu = args.includes('--gpu');
const quick = args.includes('--quick');
const outPath = args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'results/pretrained-eval.json';
const modelPath = args.includes('--model') ? args[args.indexOf('--model') + 1]! : `models/${SHIPPED_MODELS[0]!.file}`;

const CHUNK = 2048;

/** Integer logits of every position of data (contexts newest first, 0 before the start), chunk by chunk. */
async function* logitsOf(m: ByteMlpModel, data: Uint8Array, gpu: Gpu | null, gp: GpuBytePredictor | null): AsyncGenerator<[number, Int32Array]> {
  const cpu = gpu ? null : new ByteMlpCpu(m);
  const batch = gp?.batch();
  const ctx = new Uint8Array(CHUNK * m.ctx);
  const out = new Int32Array(CHUNK * 256);
  for (let s = 0; s < data.length; s += CHUNK) {
    const R = Math.min(CHUNK, data.length - s);
    for (let r = 0; r < R; r++)
      for (let p = 0; p < m.ctx; p++) {
        const t = s + r - 1 - p;
        ctx[r * m.ctx + p] = t >= 0 ? data[t]! : 0;
      }
    if (batch) yield [s, await batch.logits(ctx, R)];
    else {
      for (let r = 0; r < R; r++) cpu!.logits(ctx, r * m.ctx, out, r * 256);
      yield [s, out];
    }
  }
  batch?.dispose();
}

interface Coded {
  cm: number;
  mixed: number;
  modelBits: number;
  modelSeconds: number;
}

async function code(m: ByteMlpModel, data: Uint8Array, gpu: Gpu | null, gp: GpuBytePredictor | null): Promise<Coded> {
  const cmAlone = new CmModel(1),
    encA = new BitEncoder();
  const cmMixed = new CmModel(1),
    encB = new BitEncoder();
  const cum = new Uint32Array(257);
  let modelBits = 0,
    modelSeconds = 0,
    t0 = performance.now();
  for await (const [s, logits] of logitsOf(m, data, gpu, gp)) {
    modelSeconds += (performance.now() - t0) / 1000;
    const R = Math.min(CHUNK, data.length - s);
    for (let r = 0; r < R; r++) {
      const b = data[s + r]!;
      cumFromLogits(logits, r * 256, cum);
      modelBits += codeBits(cum, b);
      encodeByte(cmMixed, encB, 0, b, cum);
      encodeByte(cmAlone, encA, 0, b, null);
    }
    t0 = performance.now();
  }
  return { cm: encA.finish().length, mixed: encB.finish().length, modelBits, modelSeconds };
}

function others(data: Uint8Array): { brotli: number; xz: number; zpaq: number | null } {
  const brotli = brotliCompressSync(data, {
    params: { [Z.BROTLI_PARAM_QUALITY]: 11, [Z.BROTLI_PARAM_LGWIN]: 24, [Z.BROTLI_PARAM_SIZE_HINT]: data.length },
  }).length;
  const xz = execFileSync('xz', ['-9e', '-c', '-T1'], { input: data, maxBuffer: 1 << 28 }).length;
  let zpaq: number | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'zpaq-'));
  try {
    writeFileSync(join(dir, 'f'), data);
    execFileSync('zpaq', ['a', 'a.zpaq', 'f', '-m5'], { cwd: dir, stdio: 'ignore' });
    zpaq = statSync(join(dir, 'a.zpaq')).size;
  } catch {
    /* zpaq not installed */
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { brotli, xz, zpaq };
}

function pieces(text: Uint8Array, size: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    let o = Math.floor((k * (text.length - size)) / Math.max(1, count - 1));
    while (o > 0 && (text[o]! & 0xc0) === 0x80) o--; // start on a UTF-8 character
    out.push(text.subarray(o, o + size));
  }
  return out;
}

function sourceText(): Uint8Array {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk('src');
  return new Uint8Array(Buffer.concat(files.map((f) => readFileSync(f))));
}

/** Model-only throughput: the CPU path (1 stream), and on the GPU 16 streams per step (decoding) and 2048 positions per call (encoding). */
async function speeds(m: ByteMlpModel, text: Uint8Array, gp: GpuBytePredictor | null): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const kbps = (n: number, t0: number) => +(n / 1024 / ((performance.now() - t0) / 1000)).toFixed(2);
  const steps = async (st: { next(): Promise<Uint32Array[]>; push(b: Int32Array): void }, n: number, T: number) => {
    const t0 = performance.now();
    for (let t = 0; t < T; t++) {
      await st.next();
      st.push(Int32Array.from({ length: n }, (_, s) => text[s * T + t]!));
    }
    return kbps(n * T, t0);
  };
  out.cpu1 = await steps(new CpuBytePredictor('x', 'x', m).open(1), 1, 4096);
  if (gp) {
    const st = gp.open(16);
    await steps(st, 16, 4); // compile, warm
    out.gpu16streams = await steps(st, 16, 256);
    st.dispose();
    const t0 = performance.now();
    for await (const _ of logitsOf(m, text.subarray(0, 65536), gp.gpu, gp)) {
      /* timing only */
    }
    out.gpuBatch2048 = kbps(65536, t0);
  }
  return out;
}

async function main(): Promise<void> {
  const bytes = new Uint8Array(readFileSync(modelPath));
  const m = decodeByteMlp(bytes, modelPath);
  const gpu = useGpu ? await createGpu() : null;
  const gp = gpu ? GpuBytePredictor.create(gpu, 'eval', modelPath, m) : null;
  const english = new Uint8Array(readFileSync('runs/corpus/heldout/english-jargon.txt'));
  const french = new Uint8Array(readFileSync('runs/corpus/heldout/french-man.txt'));
  const source = sourceText();
  const K = 1024;
  const plan: [string, Uint8Array, number, number][] = quick
    ? [
        ['english', english, K, 4],
        ['english', english, 4 * K, 2],
        ['english', english, 16 * K, 1],
        ['french', french, 16 * K, 1],
        ['source', source, 16 * K, 1],
      ]
    : [
        ['english', english, K, 16],
        ['english', english, 4 * K, 8],
        ['english', english, 16 * K, 4],
        ['english', english, 64 * K, 2],
        ['english', english, 1024 * K, 1],
        ['french', french, 4 * K, 4],
        ['french', french, 64 * K, 1],
        ['source', source, 4 * K, 4],
        ['source', source, 64 * K, 1],
      ];
  const rows = [];
  for (const [name, text, size, count] of plan) {
    const agg = { name, size, count, raw: 0, brotli: 0, xz: 0, zpaq: 0, cm: 0, mixed: 0, modelBits: 0, modelSeconds: 0, ratioVsBrotli: 0 };
    let ratios = 0;
    for (const piece of pieces(text, size, count)) {
      const c = await code(m, piece, gpu, gp);
      const o = others(piece);
      agg.raw += piece.length;
      agg.brotli += o.brotli;
      agg.xz += o.xz;
      agg.zpaq += o.zpaq ?? NaN;
      agg.cm += c.cm;
      agg.mixed += c.mixed;
      agg.modelBits += c.modelBits;
      agg.modelSeconds += c.modelSeconds;
      ratios += c.mixed / o.brotli;
    }
    agg.ratioVsBrotli = ratios / count;
    rows.push(agg);
    const bpb = (x: number) => ((8 * x) / agg.raw).toFixed(3);
    console.log(
      `${name} ${size / K} KB ×${count}: brotli ${agg.brotli} xz ${agg.xz} zpaq ${agg.zpaq} cm ${agg.cm} (${bpb(agg.cm)}) cm+model ${agg.mixed} (${bpb(agg.mixed)}) ` +
        `model alone ${(agg.modelBits / agg.raw).toFixed(3)} b/B; mean cm+model/brotli ${agg.ratioVsBrotli.toFixed(3)}; vs cm ${(agg.mixed / agg.cm - 1) * 100 > 0 ? '+' : ''}${((agg.mixed / agg.cm - 1) * 100).toFixed(2)}%; ` +
        `model ${(agg.raw / 1024 / agg.modelSeconds).toFixed(1)} KB/s (${gpu ? 'GPU ' + gpu.info.description : 'CPU'})`,
    );
  }
  const speed = await speeds(m, english, gp);
  console.log(`speed (model only, KB/s): ${JSON.stringify(speed)}`);
  const res = {
    model: modelPath,
    modelBytes: bytes.length,
    path: gpu ? `gpu ${gpu.info.device} ${gpu.info.description}` : 'cpu',
    rows,
    speed,
    date: new Date().toISOString(),
  };
  writeFileSync(`${outPath}.tmp`, JSON.stringify(res, null, 1));
  renameSync(`${outPath}.tmp`, outPath);
  gp?.weights.dispose();
  gpu?.destroy();
}

await main();
