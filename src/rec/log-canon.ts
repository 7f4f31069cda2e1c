// The canonical form of an interaction log — what `slimgpu decompress` gives back, byte for byte:
//   header `user,item[,rating][,timestamp]` with the input's own column names; one row per kept
//   (user, item) pair (the readers' rule: a repeated pair is kept once, at its first occurrence);
//   rows sorted by user name, then by timestamp, then by item name (without timestamps: by item
//   name); names as read (trimmed), double-quoted when they hold a comma or a quote; a rating as the
//   shortest decimal that reads back to the same float32 (4, 3.5, 0.1); a timestamp as an integer.
// Names sort by JavaScript string order (UTF-16 code units), the same on every machine.
import type { InteractionLog } from '../data/interactions.js';

export interface CanonLog {
  /** Column names: user, item, then rating and timestamp when present. */
  columns: string[];
  users: string[];
  /** The item dictionary, sorted (the log's items and the model's). */
  items: string[];
  /** Rows of user u: [ptr[u], ptr[u + 1]). */
  ptr: Uint32Array;
  item: Uint32Array;
  /** Rating of each row as an index into ratingNames. */
  rating?: Uint32Array;
  ratingNames?: string[];
  timestamp?: Float64Array;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The shortest decimal text of a float32 that parses back to it. */
export function float32Text(x: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = String(Number(x.toPrecision(p)));
    if (Math.fround(Number(s)) === x) return s;
  }
  return String(x);
}

/** The canonical log of `log` over the sorted union of its items and `extraItems` (a model's). */
export function canonicalLog(log: InteractionLog, columns: string[], extraItems: readonly string[] = []): CanonLog {
  const items = [...new Set([...log.items, ...extraItems])].sort(byName);
  const itemIdx = new Map(items.map((s, i) => [s, i]));
  const users = [...new Set(log.users)].sort(byName);
  const userRank = new Int32Array(log.users.length);
  const uIdx = new Map(users.map((s, i) => [s, i]));
  log.users.forEach((s, i) => (userRank[i] = uIdx.get(s)!));
  const dictOf = Int32Array.from(log.items, (s) => itemIdx.get(s)!);
  const n = log.user.length;
  const order = Array.from({ length: n }, (_, k) => k);
  const ts = log.timestamp;
  order.sort((a, b) => {
    const u = userRank[log.user[a]!]! - userRank[log.user[b]!]!;
    if (u !== 0) return u;
    if (ts && ts[a] !== ts[b]) return ts[a]! - ts[b]!;
    return dictOf[log.item[a]!]! - dictOf[log.item[b]!]!;
  });
  const ptr = new Uint32Array(users.length + 1);
  for (let k = 0; k < n; k++) ptr[userRank[log.user[k]!]! + 1]!++;
  for (let u = 0; u < users.length; u++) ptr[u + 1]! += ptr[u]!;
  const item = Uint32Array.from(order, (k) => dictOf[log.item[k]!]!);
  const out: CanonLog = { columns, users, items, ptr, item };
  if (log.rating) {
    const texts = order.map((k) => float32Text(log.rating![k]!));
    out.ratingNames = [...new Set(texts)].sort(byName);
    const r = new Map(out.ratingNames.map((s, i) => [s, i]));
    out.rating = Uint32Array.from(texts, (s) => r.get(s)!);
  }
  if (ts) out.timestamp = Float64Array.from(order, (k) => ts[k]!);
  return out;
}

const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The canonical CSV text. */
export function canonicalCsv(c: CanonLog): string {
  const parts: string[] = [c.columns.map(csvField).join(',') + '\n'];
  const items = c.items.map(csvField);
  for (let u = 0; u < c.users.length; u++) {
    const name = csvField(c.users[u]!);
    for (let k = c.ptr[u]!; k < c.ptr[u + 1]!; k++) {
      let row = `${name},${items[c.item[k]!]}`;
      if (c.rating) row += `,${c.ratingNames![c.rating[k]!]}`;
      if (c.timestamp) row += `,${c.timestamp[k]}`;
      parts.push(row + '\n');
    }
  }
  return parts.join('');
}
