// Codec 5 rows of `npm run bench -- compressors` (docs/codec-v5.md): the shipped pretrained model +
// CM (when a model is shipped), the order-2 test double + CM (a reference predictor: trained on the
// GPL text in demo/samples, never on the benchmark text), the CM alone; zpaq -m5; and small files —
// the text cut into pieces of 1, 4, 16 and 64 KB, each compressed on its own, per size.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { compressBytes, decompressBytes, type PredictorResolver } from '../src/codec/v5/index.js';
import { loadShippedPredictor, SHIPPED_MODEL_IDS } from '../src/codec/pretrained/index.js';
import type { BytePredictor } from '../src/codec/predictor.js';
import { CountPredictor } from './predictor-double.js';
import type { CompressorRow } from './compressor-row.js';

export type V5RowKind = 'pretrained' | 'double' | 'cm';

/** The reference double: order-2 counts of the GPL v3 text shipped with the demo. */
export function benchDouble(): CountPredictor {
  const path = join(dirname(fileURLToPath(import.meta.url)), '../../demo/samples/gpl-3.txt');
  return new CountPredictor(new Uint8Array(readFileSync(path)), 'order-2 double (GPL v3 counts)');
}

/** The model file's bytes, when the predictor says (the shipped one may expose fileBytes). */
function modelBytesOf(p: BytePredictor | null): number | undefined {
  const b = (p as { fileBytes?: unknown } | null)?.fileBytes;
  return typeof b === 'number' ? b : undefined;
}

export async function predictorFor(kind: V5RowKind): Promise<BytePredictor | null | undefined> {
  if (kind === 'cm') return null;
  if (kind === 'double') return benchDouble();
  return SHIPPED_MODEL_IDS.length ? loadShippedPredictor() : undefined;
}

const LABEL: Record<V5RowKind, string> = {
  pretrained: 'slimgpu pretrained + CM (codec 5)',
  double: 'slimgpu order-2 double + CM (codec 5)',
  cm: 'slimgpu CM alone (codec 5, --model none)',
};

/** One codec-5 row on the whole text: compressed, decoded and compared. */
export async function v5Row(text: Uint8Array, kind: V5RowKind, decode: boolean, log: (s: string) => void): Promise<CompressorRow | undefined> {
  const p = await predictorFor(kind);
  if (p === undefined) {
    log('  (no pretrained model is shipped in this build: no pretrained row)\n');
    return undefined;
  }
  const resolve: PredictorResolver = async () => p!;
  const t0 = performance.now();
  const c = await compressBytes(text, p);
  const cs = (performance.now() - t0) / 1000;
  let ds: number | undefined;
  if (decode) {
    const t1 = performance.now();
    const back = await decompressBytes(c.bytes, resolve);
    ds = (performance.now() - t1) / 1000;
    if (Buffer.compare(Buffer.from(back.text), Buffer.from(text)) !== 0) throw new Error(`compressors: ${LABEL[kind]} did not round-trip`);
  }
  const mb = modelBytesOf(p);
  log(`  ${LABEL[kind]}: ${c.bytes.length} bytes in ${cs.toFixed(1)} s${ds !== undefined ? `, decoded in ${ds.toFixed(1)} s` : ''}\n`);
  return {
    name: LABEL[kind],
    command: `slimgpu compress --model ${kind === 'cm' ? 'none' : kind === 'double' ? '(test double)' : 'pretrained'}`,
    bytes: c.bytes.length,
    bitsPerByte: (8 * c.bytes.length) / text.length,
    compressSeconds: cs,
    decompressSeconds: ds,
    ...(p ? { gptBitsPerByte: c.modelBits / Math.max(1, text.length) } : {}),
    ...(mb !== undefined
      ? { modelBytes: mb, note: `model ${mb} B; adjusted ${((8 * (c.bytes.length + mb)) / text.length).toFixed(3)} bits/byte` }
      : {}),
  };
}

/** zpaq 7 -m5 (an archiver: files in a temp folder, the archive's size counts). */
export function zpaqRow(text: Uint8Array): CompressorRow {
  const dir = mkdtempSync(join(tmpdir(), 'slimgpu-zpaq-'));
  try {
    writeFileSync(join(dir, 'in'), text);
    const run = (args: string[]) => {
      const r = spawnSync('zpaq', args, { cwd: dir, maxBuffer: 1 << 26 });
      if (r.error)
        throw new Error(`compressors: cannot run 'zpaq' (${(r.error as NodeJS.ErrnoException).code}): install it with scripts/setup-software-gpu.sh`);
      if (r.status !== 0) throw new Error(`compressors: zpaq ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
    };
    let t = performance.now();
    run(['a', 'a.zpaq', 'in', '-m5']);
    const cs = (performance.now() - t) / 1000;
    const bytes = statSync(join(dir, 'a.zpaq')).size;
    t = performance.now();
    run(['x', 'a.zpaq', 'in', '-to', 'out']);
    const ds = (performance.now() - t) / 1000;
    if (Buffer.compare(readFileSync(join(dir, 'out')), Buffer.from(text)) !== 0) throw new Error('compressors: zpaq did not round-trip');
    return {
      name: 'zpaq -m5',
      command: 'zpaq a ARCHIVE FILE -m5',
      bytes,
      bitsPerByte: (8 * bytes) / text.length,
      compressSeconds: cs,
      decompressSeconds: ds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SmallRow {
  size: number;
  pieces: number;
  bytes: Record<string, number>;
}

/** Small files: `count` consecutive pieces of each size, each compressed alone; bytes summed per compressor. */
export async function smallRows(text: Uint8Array, kinds: V5RowKind[], count: number, log: (s: string) => void): Promise<SmallRow[]> {
  const preds = new Map<V5RowKind, BytePredictor | null>();
  for (const k of kinds) {
    const p = await predictorFor(k);
    if (p !== undefined) preds.set(k, p);
  }
  const out: SmallRow[] = [];
  for (const size of [1024, 4096, 16384, 65536]) {
    const n = Math.min(count, Math.floor(text.length / size));
    if (n < 1) continue;
    const bytes: Record<string, number> = { 'brotli -11': 0, 'gzip -9': 0, 'zstd -19': 0, 'zpaq -m5': 0 };
    for (const k of preds.keys()) bytes[LABEL[k]] = 0;
    for (let i = 0; i < n; i++) {
      const piece = text.subarray(i * size, (i + 1) * size);
      bytes['brotli -11']! += brotliCompressSync(piece, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: piece.length },
      }).length;
      bytes['gzip -9']! += gzipSync(piece, { level: 9 }).length;
      bytes['zstd -19']! += spawnSync('zstd', ['-19', '-c', '-q'], { input: piece }).stdout.length;
      bytes['zpaq -m5']! += zpaqRow(piece).bytes;
      for (const [k, p] of preds) {
        const c = await compressBytes(piece, p);
        const back = await decompressBytes(c.bytes, async () => p!);
        if (Buffer.compare(Buffer.from(back.text), Buffer.from(piece)) !== 0)
          throw new Error(`compressors: ${LABEL[k]} did not round-trip a ${size}-byte piece`);
        bytes[LABEL[k]]! += c.bytes.length;
      }
    }
    log(`  small files: ${n} × ${size} bytes done\n`);
    out.push({ size, pieces: n, bytes });
  }
  return out;
}

export function formatSmall(rows: SmallRow[]): string {
  if (!rows.length) return '';
  const names = Object.keys(rows[0]!.bytes);
  const lines = ['', 'small files: each piece compressed alone; mean bytes per piece (and vs brotli -11)'];
  const w = Math.max(...names.map((s) => s.length));
  lines.push(['compressor'.padEnd(w), ...rows.map((r) => `${r.pieces} × ${r.size / 1024} KB`.padStart(18))].join('  '));
  for (const name of names) {
    lines.push(
      [
        name.padEnd(w),
        ...rows.map((r) => {
          const mean = r.bytes[name]! / r.pieces,
            br = r.bytes['brotli -11']! / r.pieces;
          return `${mean.toFixed(0)} (${mean / br >= 1 ? '+' : ''}${((mean / br - 1) * 100).toFixed(1)}%)`.padStart(18);
        }),
      ].join('  '),
    );
  }
  return lines.join('\n');
}
