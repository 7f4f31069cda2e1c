// Measures the shipped pretrained models (issue 22) on held-out text, as the codec writes files: for
// pieces of 1, 4, 16, 64 KB and 1 MB of English (the Jargon File), French and source code, the .slimz
// file bytes (header included) of the CM alone (`--model none`), of the old default (a model without
// a prime) and of the new default (a primed model), beside brotli -11 (Node zlib), xz -9e and zpaq -m5;
// the model alone in bits/byte; the priming's fixed cost; 1 MB encode and decode speed (CPU path).
//   node dist/scripts/pretrained-eval.js [--quick] [--model FILE] [--old FILE] [--out results/pretrained-eval.json]
// Every new-default file of the first piece of each row is decoded and compared.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as Z } from 'node:zlib';
import { predictorOfFile } from '../src/codec/pretrained/index.js';
import { SHIPPED_MODELS } from '../src/codec/pretrained/registry.js';
import type { BytePredictor, BytePrime } from '../src/codec/predictor.js';
import { compressBytes, decompressBytes } from '../src/codec/v5/index.js';
import { PREDICTOR_WEIGHT } from '../src/codec/v5/coder.js';
import { primeCm } from '../src/codec/v5/prime.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (k: string, d: string) => (args.includes(k) ? args[args.indexOf(k) + 1]! : d);
const outPath = opt('--out', 'results/pretrained-eval.json');
const newPath = opt('--model', `models/${SHIPPED_MODELS[0]!.file}`);
const oldPath = opt('--old', 'models/bytemlp-2.slim.safetensors');

function others(data: Uint8Array): { brotli: number; xz: number; zpaq: number } {
  const brotli = brotliCompressSync(data, {
    params: { [Z.BROTLI_PARAM_QUALITY]: 11, [Z.BROTLI_PARAM_LGWIN]: 24, [Z.BROTLI_PARAM_SIZE_HINT]: data.length },
  }).length;
  const xz = execFileSync('xz', ['-9e', '-c', '-T1'], { input: data, maxBuffer: 1 << 28 }).length;
  let zpaq = NaN;
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

interface Row {
  name: string;
  size: number;
  count: number;
  raw: number;
  brotli: number;
  xz: number;
  zpaq: number;
  none: number;
  old: number;
  new: number;
  modelBits: number;
  /** Means over the pieces of file/brotli − 1 (new default, old default). */
  newVsBrotli: number;
  oldVsBrotli: number;
  encodeSeconds: number;
  decodeSeconds: number;
}

async function measure(name: string, text: Uint8Array, size: number, count: number, oldP: BytePredictor, newP: BytePredictor): Promise<Row> {
  const r: Row = {
    name,
    size,
    count,
    raw: 0,
    brotli: 0,
    xz: 0,
    zpaq: 0,
    none: 0,
    old: 0,
    new: 0,
    modelBits: 0,
    newVsBrotli: 0,
    oldVsBrotli: 0,
    encodeSeconds: 0,
    decodeSeconds: 0,
  };
  let first = true;
  for (const piece of pieces(text, size, count)) {
    const o = others(piece);
    const none = await compressBytes(piece, null);
    const old = await compressBytes(piece, oldP);
    const t0 = performance.now();
    const neu = await compressBytes(piece, newP);
    r.encodeSeconds += (performance.now() - t0) / 1000;
    if (first) {
      const t1 = performance.now();
      const back = await decompressBytes(neu.bytes, async () => newP);
      r.decodeSeconds = (performance.now() - t1) / 1000;
      if (!Buffer.from(back.text).equals(Buffer.from(piece))) throw new Error(`${name} ${size}: the new default's file does not decode to the piece`);
      first = false;
    }
    r.raw += piece.length;
    r.brotli += o.brotli;
    r.xz += o.xz;
    r.zpaq += o.zpaq;
    r.none += none.bytes.length;
    r.old += old.bytes.length;
    r.new += neu.bytes.length;
    r.modelBits += old.modelBits;
    r.newVsBrotli += (neu.bytes.length / o.brotli - 1) / count;
    r.oldVsBrotli += (old.bytes.length / o.brotli - 1) / count;
  }
  return r;
}

function line(r: Row): string {
  const pct = (x: number) => `${x > 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
  return (
    `${r.name} ${r.size / 1024} KB ×${r.count}: raw ${r.raw} brotli ${r.brotli} xz ${r.xz} zpaq ${r.zpaq} none ${r.none} old ${r.old} new ${r.new} ` +
    `(${((8 * r.new) / r.raw).toFixed(3)} b/B) | new vs brotli ${pct(r.newVsBrotli)} (old ${pct(r.oldVsBrotli)}), new vs none ${pct(r.new / r.none - 1)}, ` +
    `model alone ${(r.modelBits / r.raw).toFixed(3)} b/B`
  );
}

async function primingCost(p: BytePredictor): Promise<number | null> {
  if (!p.prime) return null;
  const t0 = performance.now();
  await primeCm(p.prime as BytePrime, { streams: 1, refine: 6, externalWeight: PREDICTOR_WEIGHT });
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const newBytes = new Uint8Array(readFileSync(newPath));
  const newP = await predictorOfFile(newBytes, newPath);
  const oldP = await predictorOfFile(new Uint8Array(readFileSync(oldPath)), oldPath);
  const primeSeconds = await primingCost(newP);
  console.log(
    `new ${newPath} (${newBytes.length} B, id ${newP.id}), old ${oldPath}; priming (once per process): ${primeSeconds?.toFixed(2) ?? '-'} s`,
  );
  const english = new Uint8Array(readFileSync('runs/corpus/heldout/english-jargon.txt'));
  const french = new Uint8Array(readFileSync('runs/corpus/heldout/french-man.txt'));
  const source = sourceText();
  const K = 1024;
  const plan: [string, Uint8Array, number, number][] = quick
    ? [
        ['english', english, K, 4],
        ['english', english, 4 * K, 2],
        ['french', french, 4 * K, 2],
        ['source', source, 4 * K, 2],
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
  const rows: Row[] = [];
  for (const [name, text, size, count] of plan) {
    const r = await measure(name, text, size, count, oldP, newP);
    rows.push(r);
    console.log(line(r));
  }
  const small = rows.filter((r) => r.name === 'english' && r.size <= 64 * K);
  const mean = (k: 'newVsBrotli' | 'oldVsBrotli') => small.reduce((s, r) => s + r[k], 0) / small.length;
  const mb = rows.find((r) => r.size === 1024 * K);
  const speed = mb ? { encodeKBps: +(1024 / mb.encodeSeconds).toFixed(1), decodeKBps: +(1024 / mb.decodeSeconds).toFixed(1) } : null;
  console.log(
    `English 1-64 KB, mean of sizes vs brotli -11: new ${(100 * mean('newVsBrotli')).toFixed(2)}%, old ${(100 * mean('oldVsBrotli')).toFixed(2)}%`,
  );
  if (speed)
    console.log(`1 MiB new default (CPU path, priming included in neither): encode ${speed.encodeKBps} KB/s, decode ${speed.decodeKBps} KB/s`);
  const res = {
    model: newPath,
    modelBytes: newBytes.length,
    id: newP.id,
    old: oldPath,
    primeSeconds,
    rows,
    meanNewVsBrotli: mean('newVsBrotli'),
    meanOldVsBrotli: mean('oldVsBrotli'),
    speed,
    date: new Date().toISOString(),
  };
  writeFileSync(`${outPath}.tmp`, JSON.stringify(res, null, 1));
  renameSync(`${outPath}.tmp`, outPath);
}

await main();
