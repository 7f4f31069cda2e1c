// The recommendation protocol's split (leave-last-out) and the dataset filters.
//   filterLog:      drops items seen by fewer than `minItemUsers` users, then users left with
//                   fewer than `minUserItems` interactions (one pass each, in that order).
//   leaveLastOut:   per user, interactions ordered by timestamp (ties: file order) or, without
//                   timestamps, by a seeded random permutation; the last is the test item, the one
//                   before it the validation item, the rest train. A user with fewer than 3
//                   interactions keeps all of them in training and is not evaluated.
import { DataError } from './dataset.js';
import type { InteractionLog } from './interactions.js';
import { Rng, mix32 } from './random.js';

export interface FilterOptions {
  minItemUsers?: number;
  minUserItems?: number;
}

/** The log restricted by the filters, with ids renumbered densely (first appearance order kept). */
export function filterLog(log: InteractionLog, opts: FilterOptions): InteractionLog {
  const minI = opts.minItemUsers ?? 1,
    minU = opts.minUserItems ?? 1;
  const n = log.user.length;
  const itemCount = new Uint32Array(log.items.length);
  for (let k = 0; k < n; k++) itemCount[log.item[k]!]!++;
  const userCount = new Uint32Array(log.users.length);
  for (let k = 0; k < n; k++) if (itemCount[log.item[k]!]! >= minI) userCount[log.user[k]!]!++;
  const keep: number[] = [];
  for (let k = 0; k < n; k++) if (itemCount[log.item[k]!]! >= minI && userCount[log.user[k]!]! >= minU) keep.push(k);
  if (keep.length === 0)
    throw new DataError(
      `slimgpu.data: ${log.name}: no interactions left after the filters (items seen by ≥ ${minI} users, users with ≥ ${minU} interactions)`,
    );
  const umap = new Int32Array(log.users.length).fill(-1),
    imap = new Int32Array(log.items.length).fill(-1);
  const users: string[] = [],
    items: string[] = [];
  const user = new Uint32Array(keep.length),
    item = new Uint32Array(keep.length);
  keep.forEach((k, j) => {
    const u = log.user[k]!,
      i = log.item[k]!;
    if (umap[u] === -1) {
      umap[u] = users.length;
      users.push(log.users[u]!);
    }
    if (imap[i] === -1) {
      imap[i] = items.length;
      items.push(log.items[i]!);
    }
    user[j] = umap[u]!;
    item[j] = imap[i]!;
  });
  const pick = <T extends Float32Array | Float64Array>(a: T | undefined, make: (n: number) => T): T | undefined => {
    if (!a) return undefined;
    const out = make(keep.length);
    keep.forEach((k, j) => {
      out[j] = a[k]!;
    });
    return out;
  };
  return {
    name: log.name,
    users,
    items,
    user,
    item,
    duplicates: log.duplicates,
    rating: pick(log.rating, (m) => new Float32Array(m)),
    timestamp: pick(log.timestamp, (m) => new Float64Array(m)),
  };
}

export interface RecSplit {
  name: string;
  nUsers: number;
  nItems: number;
  /** Training items per user: CSR rows trainItems[trainPtr[u] .. trainPtr[u + 1]), in the user's order. */
  trainPtr: Uint32Array;
  trainItems: Uint32Array;
  /** Validation and test item per user (−1: the user is not evaluated). */
  valid: Int32Array;
  test: Int32Array;
  /** Users with a test item. */
  evalUsers: number;
  /** Interactions per item in training (the popularity baseline's scores). */
  popularity: Uint32Array;
  /** Interactions in the (filtered) log. */
  interactions: number;
  explicit: boolean;
  timed: boolean;
}

/** Per user: interaction indices of `log` in the protocol's order (timestamp, else seeded random). */
export function userOrders(log: InteractionLog, seed: number): Uint32Array[] {
  const per: number[][] = log.users.map(() => []);
  for (let k = 0; k < log.user.length; k++) per[log.user[k]!]!.push(k);
  return per.map((ks, u) => {
    const a = Uint32Array.from(ks);
    if (log.timestamp) {
      const t = log.timestamp;
      return a.sort((x, y) => t[x]! - t[y]! || x - y);
    }
    const rng = new Rng(mix32((seed >>> 0) ^ mix32(u + 0x51ed27)));
    for (let i = a.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  });
}

/** The leave-last-out split of the protocol (see the file comment). */
export function leaveLastOut(log: InteractionLog, seed = 0): RecSplit {
  const nUsers = log.users.length,
    nItems = log.items.length;
  const orders = userOrders(log, seed);
  const trainPtr = new Uint32Array(nUsers + 1);
  const valid = new Int32Array(nUsers).fill(-1),
    test = new Int32Array(nUsers).fill(-1);
  let total = 0,
    evalUsers = 0;
  for (let u = 0; u < nUsers; u++) {
    const m = orders[u]!.length;
    total += m >= 3 ? m - 2 : m;
    trainPtr[u + 1] = total;
  }
  const trainItems = new Uint32Array(total);
  const popularity = new Uint32Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    const o = orders[u]!;
    const m = o.length;
    const nt = m >= 3 ? m - 2 : m;
    for (let j = 0; j < nt; j++) {
      const it = log.item[o[j]!]!;
      trainItems[trainPtr[u]! + j] = it;
      popularity[it]!++;
    }
    if (m >= 3) {
      valid[u] = log.item[o[m - 2]!]!;
      test[u] = log.item[o[m - 1]!]!;
      evalUsers++;
    }
  }
  if (evalUsers === 0)
    throw new DataError(`slimgpu.data: ${log.name}: no user has the 3 interactions (train, validation, test) that the protocol needs`);
  return {
    name: log.name,
    nUsers,
    nItems,
    trainPtr,
    trainItems,
    valid,
    test,
    evalUsers,
    popularity,
    interactions: log.user.length,
    explicit: !!log.rating,
    timed: !!log.timestamp,
  };
}

/** The log with item ids renumbered in name order (JavaScript string order): a model trained on it lists its items sorted, which the .slimr coder needs. */
export function sortItems(log: InteractionLog): InteractionLog {
  const order = log.items.map((_, i) => i).sort((a, b) => (log.items[a]! < log.items[b]! ? -1 : log.items[a]! > log.items[b]! ? 1 : 0));
  const rank = new Uint32Array(order.length);
  order.forEach((i, r) => (rank[i] = r));
  return { ...log, items: order.map((i) => log.items[i]!), item: log.item.map((i) => rank[i]!) };
}
