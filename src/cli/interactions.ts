// `slimgpu compress --interactions LOG --model DIR|none` and `slimgpu decompress FILE.slimr`: an
// interaction log coded under a trained rec:dae model mixed with adaptive counts (src/rec/log-codec.ts,
// docs/recommend.md). LOG: a CSV (user,item[,rating][,timestamp] named in the header), or a source
// of `train --task recommend` (debian-deps: the filtered log it trains on, movielens:DIR, interactions:FILE).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { InteractionLog } from '../data/interactions.js';
import { canonicalLog } from '../rec/log-canon.js';
import { decodeLog, encodeLog, isSlimr, SLIMR_DEFAULTS, tuneParams } from '../rec/log-codec.js';
import { CliError, checkOutput, openInput, readAll, writeOutput, type Input } from './codec-io.js';

export interface InteractionsFlags {
  interactions?: string;
  model: string;
  output?: string;
  stdout?: boolean;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
}

async function loadLog(source: string): Promise<{ log: InteractionLog; name: string }> {
  const { loadInteractionLog, loadRecData } = await import('../data/interactions-load.js');
  if (source === 'debian-deps') return { log: (await loadRecData(source)).log, name: 'debian-deps' };
  const spec = /^(movielens|interactions):/.test(source) ? source : `interactions:${source}`;
  return { log: await loadInteractionLog(spec), name: basename(spec.slice(spec.indexOf(':') + 1)) || 'log' };
}

async function loadModel(dir: string): Promise<{ file: Uint8Array; items: string[] } | undefined> {
  if (dir === 'none') return undefined;
  if (dir === 'auto' || dir === 'pretrained' || dir.startsWith('gpt:') || dir.startsWith('pretrained:'))
    throw new CliError(
      'slimgpu: --interactions needs --model DIR (a folder written by `slimgpu train --task recommend --model rec:dae-D --compress --out DIR`: model.slim.safetensors + items.json) or --model none (adaptive counts alone)',
    );
  const path = dir.endsWith('.slim.safetensors') ? dir : `${dir}/model.slim.safetensors`;
  const itemsPath = path.replace(/model\.slim\.safetensors$/, 'items.json');
  try {
    const items = JSON.parse(await readFile(itemsPath, 'utf8')) as unknown;
    if (!Array.isArray(items) || !items.every((s) => typeof s === 'string'))
      throw new CliError(`slimgpu: ${itemsPath} is not a JSON list of item names`);
    return { file: new Uint8Array(await readFile(path)), items };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`slimgpu: cannot read the model '${path}' and its '${itemsPath}': ${(e as Error).message}`);
  }
}

function say(f: InteractionsFlags, out: string, json: Record<string, unknown>, line: string): void {
  if (f.json) (out === '-' ? process.stderr : process.stdout).write(JSON.stringify(json, null, 2) + '\n');
  else if (!f.quiet) (out === '-' ? process.stderr : process.stdout).write(line + '\n');
}

export async function compressInteractions(f: InteractionsFlags): Promise<void> {
  const t0 = performance.now();
  const { log, name } = await loadLog(f.interactions!);
  const model = await loadModel(f.model);
  const columns = ['user', 'item', ...(log.rating ? ['rating'] : []), ...(log.timestamp ? ['timestamp'] : [])];
  const c = canonicalLog(log, columns, model?.items);
  const out = f.stdout || f.output === '-' ? '-' : (f.output ?? `${name}.slimr`);
  checkOutput(out, { force: f.force, binary: true, input: { path: f.interactions!, name } as Input });
  const p = model ? tuneParams(c, model) : SLIMR_DEFAULTS;
  const r = encodeLog(c, model, p);
  await writeOutput(out, [r.bytes]);
  const n = c.item.length,
    bits = (b: number) => (8 * b) / n;
  const rows = r.bytes.length - r.modelBytes - r.namesBytes;
  say(
    f,
    out,
    {
      input: f.interactions,
      output: out,
      interactions: n,
      users: c.users.length,
      items: c.items.length,
      bytes: r.bytes.length,
      modelBytes: r.modelBytes,
      namesBytes: r.namesBytes,
      rowBytes: rows,
      bitsPerInteraction: bits(r.bytes.length),
      params: p,
      seconds: (performance.now() - t0) / 1000,
    },
    `${name}: ${n} interactions (${c.users.length} users, ${c.items.length} items) → ${r.bytes.length} bytes, ${bits(r.bytes.length).toFixed(3)} bits/interaction (model ${r.modelBytes} B = ${bits(r.modelBytes).toFixed(2)}, names ${r.namesBytes} B = ${bits(r.namesBytes).toFixed(2)}, rows ${rows} B = ${bits(rows).toFixed(2)}; tau ${p.tau}/64, lambda ${p.lambda}/256) in ${((performance.now() - t0) / 1000).toFixed(1)} s; wrote ${out === '-' ? 'stdout' : out}`,
  );
}

/** True when `path` starts with the .slimr magic (read by `slimgpu decompress`). */
export async function isSlimrFile(path: string | undefined): Promise<boolean> {
  if (!path || path === '-') return false;
  try {
    const { open } = await import('node:fs/promises');
    const h = await open(path, 'r');
    try {
      const b = new Uint8Array(4);
      await h.read(b, 0, 4, 0);
      return isSlimr(b);
    } finally {
      await h.close();
    }
  } catch {
    return false;
  }
}

export async function decompressInteractions(file: string, f: Omit<InteractionsFlags, 'model'>): Promise<void> {
  const t0 = performance.now();
  const input = await openInput(file, '.slimr file');
  const out = f.stdout || f.output === '-' ? '-' : (f.output ?? file.replace(/\.slimr$/, '') + (file.endsWith('.slimr') ? '' : '.csv'));
  checkOutput(out, { force: f.force, binary: false, input });
  const { csv, log } = decodeLog(await readAll(input.pieces));
  const n = await writeOutput(out, [new TextEncoder().encode(csv)]);
  say(
    f as InteractionsFlags,
    out,
    { input: file, output: out, bytes: n, interactions: log.item.length, seconds: (performance.now() - t0) / 1000 },
    `${file}: → ${log.item.length} interactions, ${n} bytes of CSV in ${((performance.now() - t0) / 1000).toFixed(1)} s, verified (CRC-32s); wrote ${out === '-' ? 'stdout' : out}`,
  );
}
