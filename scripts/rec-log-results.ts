// node dist/scripts/rec-log-results.js [--data debian-deps|movielens:DIR|interactions:FILE|FILE.csv]
//   [--models none,runs/deb-dae32,...] [--out results/REC-LOG-RESULTS.md]
// The behaviour log coded by the model (.slimr) against general-purpose compressors: the canonical
// CSV (sorted by user, time, item — what `slimgpu decompress` gives back) through xz -9e, zstd -19
// and brotli -11 (Node's zlib, window 2^24), and through `encodeLog` under each model (none = the
// adaptive counts alone), every .slimr decoded again and compared with the CSV. Bits per
// interaction count the whole file (the model included).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { loadInteractionLog, loadRecData } from '../src/data/interactions-load.js';
import { canonicalCsv, canonicalLog } from '../src/rec/log-canon.js';
import { decodeLog, encodeLog, SLIMR_DEFAULTS, tuneParams } from '../src/rec/log-codec.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Row {
  method: string;
  bytes: number;
  detail: string;
  seconds: string;
}

function external(cmd: string, args: string[], file: string): number | undefined {
  try {
    return execFileSync(cmd, [...args, file], { maxBuffer: 1 << 30 }).length;
  } catch {
    return undefined; // not installed
  }
}

async function slimrRow(dir: string, log: Awaited<ReturnType<typeof loadInteractionLog>>, columns: string[], csv: string): Promise<Row> {
  const model =
    dir === 'none'
      ? undefined
      : {
          file: new Uint8Array(await readFile(`${dir}/model.slim.safetensors`)),
          items: JSON.parse(await readFile(`${dir}/items.json`, 'utf8')) as string[],
        };
  const c = canonicalLog(log, columns, model?.items);
  if (canonicalCsv(c) !== csv) throw new Error('the canonical CSV depends on the model (an internal error)');
  let t0 = performance.now();
  const p = model ? tuneParams(c, model) : SLIMR_DEFAULTS;
  const r = encodeLog(c, model, p);
  const enc = (performance.now() - t0) / 1000;
  t0 = performance.now();
  if (decodeLog(r.bytes).csv !== csv) throw new Error(`${dir}: the .slimr file does not decode to the CSV`);
  const dec = (performance.now() - t0) / 1000;
  const n = c.item.length,
    b = (x: number) => ((8 * x) / n).toFixed(2);
  const rows = r.bytes.length - r.modelBytes - r.namesBytes;
  return {
    method: `slimgpu .slimr, ${dir === 'none' ? 'adaptive counts alone' : `model ${dir}`}`,
    bytes: r.bytes.length,
    detail: `model ${r.modelBytes} B (${b(r.modelBytes)}) + names ${r.namesBytes} B (${b(r.namesBytes)}) + rows ${rows} B (${b(rows)}); tau ${p.tau}/64, lambda ${p.lambda}/256`,
    seconds: `${enc.toFixed(1)} / ${dec.toFixed(1)}`,
  };
}

async function main(): Promise<void> {
  const data = arg('data') ?? 'debian-deps';
  const models = (arg('models') ?? 'none').split(',');
  const out = arg('out') ?? 'results/REC-LOG-RESULTS.md';
  const log =
    data === 'debian-deps'
      ? (await loadRecData(data)).log
      : await loadInteractionLog(/^(movielens|interactions):/.test(data) ? data : `interactions:${data}`);
  const columns = ['user', 'item', ...(log.rating ? ['rating'] : []), ...(log.timestamp ? ['timestamp'] : [])];
  const csv = canonicalCsv(canonicalLog(log, columns));
  const n = log.item.length;
  const tmp = await mkdtemp(join(tmpdir(), 'rec-log-'));
  const rows: Row[] = [{ method: 'canonical CSV', bytes: Buffer.byteLength(csv), detail: '', seconds: '' }];
  try {
    const file = join(tmp, 'log.csv');
    await writeFile(file, csv);
    for (const [name, cmd, args] of [
      ['xz -9e', 'xz', ['-9e', '-c']],
      ['zstd -19', 'zstd', ['-19', '-c', '-q']],
    ] as const) {
      const t0 = performance.now();
      const b = external(cmd, [...args], file);
      if (b !== undefined) rows.push({ method: name, bytes: b, detail: '', seconds: ((performance.now() - t0) / 1000).toFixed(1) });
    }
    const t0 = performance.now();
    const br = brotliCompressSync(Buffer.from(csv), {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: csv.length },
    }).length;
    rows.push({ method: 'brotli -11 (window 2^24)', bytes: br, detail: '', seconds: ((performance.now() - t0) / 1000).toFixed(1) });
    for (const dir of models) {
      rows.push(await slimrRow(dir, log, columns, csv));
      console.log(rows.at(-1));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const lines = [
    `# Behaviour log coded by the model: ${data}`,
    '',
    `${n} interactions (${new Set(log.users).size} users, ${new Set(log.items).size} items); the same canonical CSV for every method; every .slimr decoded back to it byte for byte. Seconds: encode / decode (contended 2-core machine).`,
    '',
    '| method | bytes | bits / interaction | detail | seconds |',
    '|---|---:|---:|---|---:|',
    ...rows.map((r) => `| ${r.method} | ${r.bytes.toLocaleString('en-US')} | ${((8 * r.bytes) / n).toFixed(2)} | ${r.detail} | ${r.seconds} |`),
    '',
  ];
  await writeFile(out, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
