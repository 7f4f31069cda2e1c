// node dist/scripts/make-rec-sample.js [--keep 12] [--out demo/public/debian-deps-sample.csv]
// The recommend page's bundled ratings file: a small, real implicit-feedback log cut from this
// machine's Debian package metadata (`apt-cache dumpavail`, the debian-deps source of
// `slimgpu train --task recommend`): every binary package is a user, the packages its Depends,
// Pre-Depends and Recommends name are its items. The packages whose name hashes to 0 mod `keep`
// are kept (a deterministic 1-in-keep sample across the archive), then items needed by ≥ 3 of them
// and packages left with ≥ 3 such dependencies. Written as the interactions CSV (`user,item`, one
// row per interaction, users in name order, items in the package's own order), atomically.
import { dumpavail } from '../src/data/interactions-load.js';
import { parseDebianDeps } from '../src/data/interactions.js';
import { filterLog } from '../src/data/rec-split.js';
import { mix32 } from '../src/data/random.js';
import { writeFileAtomic } from '../src/io/files.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

/** FNV-1a of the name, mixed. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return mix32(h);
}

async function main(): Promise<void> {
  const keep = Number(arg('keep', '12'));
  const out = arg('out', 'demo/public/debian-deps-sample.csv');
  const raw = parseDebianDeps(await dumpavail());
  const kept = raw.users.map((u) => nameHash(u) % keep === 0);
  const sub = { ...raw, user: raw.user.filter((_, k) => kept[raw.user[k]!]), item: raw.item.filter((_, k) => kept[raw.user[k]!]) };
  // items first (≥ 3 packages), then packages (≥ 3 dependencies), twice so both hold after the cut
  const log = filterLog(filterLog(sub, { minItemUsers: 3, minUserItems: 3 }), { minItemUsers: 3, minUserItems: 3 });
  const rows: string[][] = log.users.map(() => []);
  for (let k = 0; k < log.user.length; k++) rows[log.user[k]!]!.push(log.items[log.item[k]!]!);
  const order = log.users.map((_, u) => u).sort((a, b) => (log.users[a]! < log.users[b]! ? -1 : 1));
  const lines = ['user,item'];
  for (const u of order) for (const it of rows[u]!) lines.push(`${log.users[u]},${it}`);
  const text = lines.join('\n') + '\n';
  await writeFileAtomic(out, [new TextEncoder().encode(text)]);
  console.log(`${out}: ${log.users.length} packages × ${log.items.length} dependencies, ${log.user.length} interactions, ${text.length} bytes`);
}

void main();
