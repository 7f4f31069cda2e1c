// Interaction data by name (Node: reads files, runs apt-cache):
//   movielens:DIR          DIR/u.data, DIR/ratings.dat or DIR/ratings.csv (the first that exists),
//                          or a path to one such file; format detected from the content
//   interactions:FILE.csv  user,item[,rating][,timestamp] named in the header (or by `columns`)
//   debian-deps            `apt-cache dumpavail` (or the file in `debianFile`): packages as users,
//                          their Depends/Pre-Depends/Recommends as items; by default items needed by
//                          ≥ 5 packages and packages with ≥ 3 such dependencies
import { DataError } from './dataset.js';
import { readFileBytes } from './files.js';
import { parseDebianDeps, parseInteractionsCsv, parseMovieLens, type InteractionColumns, type InteractionLog } from './interactions.js';
import { filterLog, leaveLastOut, sortItems, type RecSplit } from './rec-split.js';

export const REC_DATA_SOURCES = ['movielens:DIR', 'interactions:FILE.csv', 'debian-deps'] as const;

export interface RecDataOptions {
  seed?: number;
  columns?: InteractionColumns;
  /** Defaults: 5 for debian-deps, 1 otherwise. */
  minItemUsers?: number;
  /** Defaults: 3 for debian-deps, 1 otherwise (users with < 3 are trained on, not evaluated). */
  minUserItems?: number;
  /** Read the dumpavail text from this file instead of running apt-cache. */
  debianFile?: string;
}

const text = (b: Uint8Array) => new TextDecoder('utf-8').decode(b);

async function exists(p: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function movieLensFile(path: string): Promise<string> {
  const { stat } = await import('node:fs/promises');
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new DataError(`slimgpu.data: movielens: no such file or folder '${path}'`);
  }
  if (!st.isDirectory()) return path;
  for (const f of ['u.data', 'ratings.dat', 'ratings.csv']) if (await exists(`${path}/${f}`)) return `${path}/${f}`;
  throw new DataError(
    `slimgpu.data: movielens: '${path}' holds none of u.data (ml-100k), ratings.dat (ml-1m, ml-10m), ratings.csv (ml-latest, ml-20m, ml-25m)`,
  );
}

export async function dumpavail(): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('apt-cache', ['dumpavail'], { maxBuffer: 1 << 30 }, (err, stdout) => {
      if (err)
        reject(
          new DataError(
            `slimgpu.data: debian-deps: 'apt-cache dumpavail' failed (${err.message}); on a non-Debian machine pass a saved dump with --debian-file`,
          ),
        );
      else resolve(stdout);
    });
  });
}

/** The raw log of a source name (no filter, no split). */
export async function loadInteractionLog(source: string, opts: RecDataOptions = {}): Promise<InteractionLog> {
  if (source.startsWith('movielens:')) {
    const f = await movieLensFile(source.slice('movielens:'.length));
    return parseMovieLens(text(await readFileBytes(f, 'MovieLens ratings')), f);
  }
  if (source.startsWith('interactions:')) {
    const f = source.slice('interactions:'.length);
    return parseInteractionsCsv(text(await readFileBytes(f, 'interactions CSV')), f, opts.columns);
  }
  if (source === 'debian-deps') {
    const t = opts.debianFile ? text(await readFileBytes(opts.debianFile, 'dumpavail file')) : await dumpavail();
    return parseDebianDeps(t, opts.debianFile ?? 'apt-cache dumpavail');
  }
  throw new DataError(`slimgpu.data: unknown recommendation data '${source}' (expected ${REC_DATA_SOURCES.join(', ')})`);
}

/** Loads, filters and splits a source: what `train --task recommend` trains and ranks on. */
export async function loadRecData(source: string, opts: RecDataOptions = {}): Promise<{ log: InteractionLog; split: RecSplit }> {
  const raw = await loadInteractionLog(source, opts);
  const deb = source === 'debian-deps';
  const log = sortItems(filterLog(raw, { minItemUsers: opts.minItemUsers ?? (deb ? 5 : 1), minUserItems: opts.minUserItems ?? (deb ? 3 : 1) }));
  return { log, split: leaveLastOut(log, opts.seed ?? 0) };
}
