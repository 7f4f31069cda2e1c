// Measures the CM model alone (no external model): bytes, bits/byte and speed on text prefixes.
//   npm run build && node dist/scripts/cm-bench.js [FILE[:BYTES] ...] [--streams N] [--memory L] [--no-verify]
// Default: the first 100,000 and 1,000,000 bytes of the KJV text (bench/compressors.ts) and
// /work/data/english.txt when present. Each case is decoded back and compared unless --no-verify.
import { existsSync, readFileSync } from 'node:fs';
import { kjvText } from '../bench/compressors.js';
import { BitDecoder, BitEncoder, CmModel, decodeByte, encodeByte } from '../src/codec/cm/index.js';

interface Case {
  name: string;
  data: Uint8Array;
}

function parse(argv: string[]): { cases: Case[]; streams: number; memory: number; verify: boolean } {
  let streams = 1,
    memory = 22,
    verify = true;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--streams') streams = Number(argv[++i]);
    else if (a === '--memory') memory = Number(argv[++i]);
    else if (a === '--no-verify') verify = false;
    else files.push(a);
  }
  const cases: Case[] = [];
  const add = (path: string, n?: number) => {
    const all = readFileSync(path);
    const data = new Uint8Array(all.buffer, all.byteOffset, Math.min(all.length, n ?? all.length));
    cases.push({ name: `${path}${n ? ` [first ${data.length.toLocaleString('en-US')}]` : ''}`, data });
  };
  if (files.length === 0) {
    const kjv = kjvText().path;
    add(kjv, 100_000);
    add(kjv, 1_000_000);
    if (existsSync('/work/data/english.txt')) add('/work/data/english.txt');
  } else {
    for (const f of files) {
      const m = /^(.*):(\d+)$/.exec(f);
      if (m) add(m[1]!, Number(m[2]));
      else add(f);
    }
  }
  return { cases, streams, memory, verify };
}

/** CPU seconds (user + system) of this process since `from`. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

function main(): void {
  const { cases, streams, memory, verify } = parse(process.argv.slice(2));
  console.log(`CM alone, ${streams} stream(s), memoryLog2 ${memory}; times are wall clock on a shared machine`);
  console.log('| text | bytes in | bytes out | bits/byte | encode KB/s (wall, CPU) | decode KB/s (wall, CPU) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const n = c.data.length,
      per = Math.ceil(n / streams);
    // round robin over `streams` contiguous streams (the codec's interleaving)
    const order = new Int32Array(n);
    let k = 0;
    for (let j = 0; j < per; j++) for (let s = 0; s < streams; s++) if (s * per + j < n) order[k++] = s * per + j;
    let t0 = performance.now(),
      c0 = process.cpuUsage();
    const m = new CmModel(streams, { memoryLog2: memory });
    const enc = new BitEncoder();
    for (const i of order) encodeByte(m, enc, Math.floor(i / per), c.data[i]!, null);
    const out = enc.finish();
    const tEnc = (performance.now() - t0) / 1000,
      cpuEnc = cpuSeconds(c0);
    let decKBs = NaN,
      cpuDec = NaN;
    if (verify) {
      t0 = performance.now();
      c0 = process.cpuUsage();
      const md = new CmModel(streams, { memoryLog2: memory });
      const dec = new BitDecoder(out);
      for (const i of order)
        if (decodeByte(md, dec, Math.floor(i / per), null) !== c.data[i]) throw new Error(`cm-bench: round trip differs at byte ${i} of ${c.name}`);
      decKBs = n / 1000 / ((performance.now() - t0) / 1000);
      cpuDec = cpuSeconds(c0);
    }
    console.log(
      `| ${c.name} | ${n.toLocaleString('en-US')} | ${out.length.toLocaleString('en-US')} | ${((out.length * 8) / n).toFixed(3)} | ${(n / 1000 / tEnc).toFixed(0)}, ${(n / 1000 / cpuEnc).toFixed(0)} | ${decKBs.toFixed(0)}, ${(n / 1000 / cpuDec).toFixed(0)} |`,
    );
  }
}

main();
