// User–item interaction logs for recommendation (pure parsing: no file or process access here;
// src/data/interactions-load.ts reads files and runs apt-cache).
//   MovieLens as users download it: ml-100k `u.data` (user \t item \t rating \t timestamp),
//   ml-1m/10m `ratings.dat` (UserID::MovieID::Rating::Timestamp), ml-latest/20m/25m `ratings.csv`
//   (header userId,movieId,rating,timestamp); a generic CSV with a header naming the user and item
//   columns (rating and timestamp optional); Debian's package metadata (`apt-cache dumpavail`).
// Rules (never a silent NaN):
//   - a malformed line (wrong field count, empty user/item, non-numeric rating or timestamp) is a
//     DataError naming file:line and the field;
//   - a (user, item) pair seen again is kept once, at its first occurrence in the file (its rating
//     and timestamp); `duplicates` counts the dropped repeats;
//   - empty lines and a trailing newline are skipped.
import { DataError } from './dataset.js';

export interface InteractionLog {
  name: string;
  /** External names by dense id (first appearance order). */
  users: string[];
  items: string[];
  /** One entry per kept interaction, in file order. */
  user: Uint32Array;
  item: Uint32Array;
  /** Explicit ratings (absent for implicit feedback). */
  rating?: Float32Array;
  /** Seconds (or any increasing integer); absent when the source has no time. */
  timestamp?: Float64Array;
  /** Repeated (user, item) pairs dropped (kept once, first occurrence). */
  duplicates: number;
}

/** Accumulates rows into an InteractionLog with dense ids and the duplicate rule. */
export class LogBuilder {
  private readonly uid = new Map<string, number>();
  private readonly iid = new Map<string, number>();
  private readonly seen = new Set<string>();
  readonly users: string[] = [];
  readonly items: string[] = [];
  private readonly u: number[] = [];
  private readonly i: number[] = [];
  private readonly r: number[] = [];
  private readonly t: number[] = [];
  duplicates = 0;

  constructor(
    readonly name: string,
    readonly hasRating: boolean,
    readonly hasTime: boolean,
  ) {}

  private id(map: Map<string, number>, names: string[], key: string): number {
    let v = map.get(key);
    if (v === undefined) {
      v = names.length;
      map.set(key, v);
      names.push(key);
    }
    return v;
  }

  add(user: string, item: string, rating = 0, time = 0): void {
    const key = `${user}\u0000${item}`;
    if (this.seen.has(key)) {
      this.duplicates++;
      return;
    }
    this.seen.add(key);
    this.u.push(this.id(this.uid, this.users, user));
    this.i.push(this.id(this.iid, this.items, item));
    if (this.hasRating) this.r.push(rating);
    if (this.hasTime) this.t.push(time);
  }

  build(): InteractionLog {
    if (this.u.length === 0) throw new DataError(`slimgpu.data: ${this.name} holds no interactions`);
    return {
      name: this.name,
      users: this.users,
      items: this.items,
      user: Uint32Array.from(this.u),
      item: Uint32Array.from(this.i),
      rating: this.hasRating ? Float32Array.from(this.r) : undefined,
      timestamp: this.hasTime ? Float64Array.from(this.t) : undefined,
      duplicates: this.duplicates,
    };
  }
}

function numberField(file: string, line: number, what: string, s: string, integer: boolean): number {
  const t = s.trim();
  const x = Number(t);
  if (t === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new DataError(`slimgpu.data: ${file}:${line}: ${what} '${s}' is not ${integer ? 'an integer' : 'a number'}`);
  }
  return x;
}

function nonEmpty(file: string, line: number, what: string, s: string): string {
  const t = s.trim();
  if (t === '') throw new DataError(`slimgpu.data: ${file}:${line}: empty ${what}`);
  return t;
}

export type MovieLensFormat = 'u.data' | 'ratings.dat' | 'ratings.csv';

/** Which MovieLens format a file is, from its first non-empty line (and its name as a hint). */
export function detectMovieLens(text: string, file: string): MovieLensFormat {
  const first = text.split('\n', 8).find((l) => l.trim() !== '') ?? '';
  if (first.includes('::')) return 'ratings.dat';
  if (/^\s*userId\s*,\s*movieId\s*,\s*rating/i.test(first)) return 'ratings.csv';
  if (first.split('\t').length === 4) return 'u.data';
  throw new DataError(
    `slimgpu.data: ${file}: not a MovieLens ratings file (u.data with 4 tab-separated fields, ratings.dat with '::', or ratings.csv with header userId,movieId,rating,timestamp); first line: '${first.slice(0, 80)}'`,
  );
}

/** Parses a MovieLens ratings file (any of the three formats, detected from the content). */
export function parseMovieLens(text: string, file = 'ratings'): InteractionLog {
  const format = detectMovieLens(text, file);
  const b = new LogBuilder(`movielens:${file}`, true, true);
  const lines = text.split('\n');
  let start = 0;
  if (format === 'ratings.csv') start = lines.findIndex((l) => l.trim() !== '') + 1;
  const sep = format === 'u.data' ? '\t' : format === 'ratings.dat' ? '::' : ',';
  for (let k = start; k < lines.length; k++) {
    const raw = lines[k]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const f = raw.split(sep);
    const line = k + 1;
    if (f.length !== 4)
      throw new DataError(
        `slimgpu.data: ${file}:${line}: expected 4 fields separated by '${sep === '\t' ? '\\t' : sep}' (user, item, rating, timestamp), got ${f.length}: '${raw.slice(0, 80)}'`,
      );
    const user = nonEmpty(file, line, 'user', f[0]!);
    const item = nonEmpty(file, line, 'item', f[1]!);
    b.add(user, item, numberField(file, line, 'rating', f[2]!, false), numberField(file, line, 'timestamp', f[3]!, true));
  }
  return b.build();
}

export interface InteractionColumns {
  user?: string;
  item?: string;
  /** Column name of the rating; default 'rating' when present ('' = ignore ratings). */
  rating?: string;
  /** Column name of the timestamp; default 'timestamp' or 'time' when present. */
  timestamp?: string;
}

const USER_NAMES = ['user', 'userid', 'user_id'];
const ITEM_NAMES = ['item', 'itemid', 'item_id', 'movieid', 'movie_id'];
const RATING_NAMES = ['rating'];
const TIME_NAMES = ['timestamp', 'time', 'ts'];

function splitCsvLine(s: string): string[] {
  // plain CSV with optional double quotes around a field (no embedded newlines)
  const out: string[] = [];
  let cur = '',
    q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parses `user,item[,rating][,timestamp]` with a header; columns found by name (or `cols`). */
export function parseInteractionsCsv(text: string, file = 'interactions.csv', cols: InteractionColumns = {}): InteractionLog {
  const lines = text.split('\n');
  const h = lines.findIndex((l) => l.trim() !== '');
  if (h < 0) throw new DataError(`slimgpu.data: ${file} is empty`);
  const header = splitCsvLine(lines[h]!.replace(/\r$/, '')).map((s) => s.trim());
  const lower = header.map((s) => s.toLowerCase());
  const find = (what: string, given: string | undefined, names: string[], required: boolean): number => {
    if (given !== undefined) {
      if (given === '') return -1;
      const j = header.indexOf(given);
      if (j < 0) throw new DataError(`slimgpu.data: ${file}: no column '${given}' for the ${what} in the header [${header.join(', ')}]`);
      return j;
    }
    const j = lower.findIndex((s) => names.includes(s));
    if (j < 0 && required)
      throw new DataError(
        `slimgpu.data: ${file}: the header [${header.join(', ')}] names no ${what} column (expected one of ${names.join(', ')}, or name it with --${what}-column)`,
      );
    return j;
  };
  const cu = find('user', cols.user, USER_NAMES, true),
    ci = find('item', cols.item, ITEM_NAMES, true);
  const cr = find('rating', cols.rating, RATING_NAMES, false),
    ct = find('timestamp', cols.timestamp, TIME_NAMES, false);
  if (cu === ci) throw new DataError(`slimgpu.data: ${file}: the user and item columns are the same column '${header[cu]}'`);
  const b = new LogBuilder(`interactions:${file}`, cr >= 0, ct >= 0);
  for (let k = h + 1; k < lines.length; k++) {
    const raw = lines[k]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const f = splitCsvLine(raw);
    const line = k + 1;
    if (f.length !== header.length)
      throw new DataError(`slimgpu.data: ${file}:${line}: expected ${header.length} fields like the header [${header.join(', ')}], got ${f.length}`);
    b.add(
      nonEmpty(file, line, 'user', f[cu]!),
      nonEmpty(file, line, 'item', f[ci]!),
      cr >= 0 ? numberField(file, line, 'rating', f[cr]!, false) : 0,
      ct >= 0 ? numberField(file, line, 'timestamp', f[ct]!, false) : 0,
    );
  }
  return b.build();
}

/** The first alternative's package name of one `a (>= 1) | b` dependency, without version or :arch. */
export function firstAlternative(dep: string): string {
  const first = dep.split('|')[0]!.trim();
  return first.split(/[\s(]/)[0]!.split(':')[0]!;
}

/**
 * Debian package metadata as an implicit-feedback log: each binary package (a stanza's Package) is
 * a user, the packages its Depends, Pre-Depends and Recommends name are its items. An alternative
 * `a | b` counts as `a` (the one apt installs by default); versions and `:arch` qualifiers are
 * dropped; a package listed in several stanzas (versions, architectures) is one user with the
 * union of its dependencies; a package depending on itself is ignored.
 */
export function parseDebianDeps(text: string, file = 'apt-cache dumpavail'): InteractionLog {
  const b = new LogBuilder('debian-deps', false, false);
  let pkg = '';
  let field = '';
  let value = '';
  const flush = () => {
    if (pkg && (field === 'Depends' || field === 'Pre-Depends' || field === 'Recommends')) {
      for (const dep of value.split(',')) {
        const name = firstAlternative(dep);
        if (name && name !== pkg) b.add(pkg, name);
      }
    }
    field = '';
    value = '';
  };
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!;
    if (l.trim() === '') {
      flush();
      pkg = '';
      continue;
    }
    if (l[0] === ' ' || l[0] === '\t') {
      value += ' ' + l.trim();
      continue;
    }
    flush();
    const c = l.indexOf(':');
    if (c < 0) throw new DataError(`slimgpu.data: ${file}:${k + 1}: not a 'Field: value' line: '${l.slice(0, 80)}'`);
    field = l.slice(0, c);
    value = l.slice(c + 1).trim();
    if (field === 'Package') pkg = value;
  }
  flush();
  return b.build();
}
